"""Entry point of the explorer (``explorer`` or ``python -m explorer``)."""

from __future__ import annotations

from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Start the explorer. The GUI is not available yet, so say so and succeed."""
    del argv  # no options yet
    print("The explorer GUI is not yet available; try `python -m engine.demo` instead.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
