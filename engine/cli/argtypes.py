"""Argument types for the command line: numbers that must be finite.

``float("nan")`` and ``float("inf")`` parse, and slip past range checks (every comparison
with NaN is false), so a float flag takes :func:`finite_float` instead of ``float``.
"""

from __future__ import annotations

import argparse
import math

__all__ = ["finite_float"]


def finite_float(text: str) -> float:
    """``float(text)``, refusing NaN and infinities with argparse's usage error."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"not a finite number: {text!r}")
    return value
