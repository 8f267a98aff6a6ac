"""Exceptions raised by the engine.

Every expected failure of the engine is an :class:`EngineError` subclass, so callers
(the CLI, the explorer) can turn it into a clear message without a traceback.
"""

from __future__ import annotations

__all__ = ["EngineError", "InvariantError", "UnsupportedKeyError"]


class EngineError(Exception):
    """Base class of every error the engine raises on purpose."""


class InvariantError(EngineError):
    """A map's physical state broke one of its invariants.

    ``invariant`` names the rule (for example ``"dib-matches-home"``), ``detail`` says
    where and how it was broken.
    """

    def __init__(self, invariant: str, detail: str) -> None:
        super().__init__(f"{invariant}: {detail}")
        self.invariant = invariant
        self.detail = detail


class UnsupportedKeyError(EngineError, TypeError):
    """A key of a type the engine cannot hash deterministically (only str, bytes, int)."""

    def __init__(self, key: object) -> None:
        super().__init__(
            f"unsupported key type {type(key).__name__!r}: keys must be str, bytes or int"
        )
        self.key_type = type(key).__name__
