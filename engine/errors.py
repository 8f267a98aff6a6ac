"""Exceptions raised by the engine.

Every expected failure of the engine is an :class:`EngineError` subclass, so callers
(the CLI, the explorer) can turn it into a clear message without a traceback.
The bottom layer: imports nothing from the engine.
"""

from __future__ import annotations

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_INVARIANT",
    "EXIT_IO",
    "EXIT_OK",
    "EXIT_POLICY",
    "BadInputError",
    "EngineError",
    "IOFailureError",
    "InvariantError",
    "PolicyError",
    "UnsupportedKeyError",
]

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_INVARIANT = 3
EXIT_POLICY = 4
EXIT_IO = 5


class EngineError(Exception):
    """Base class of every error the engine raises on purpose.

    ``code`` names the error in the CLI's envelope and ``exit_code`` is the process exit
    status from the contract (``docs/error_envelope.md``); ``hint`` says what to do.
    """

    code = "BadInput"
    exit_code = EXIT_BAD_INPUT

    def __init__(self, detail: str, hint: str = "") -> None:
        super().__init__(detail)
        self.detail = detail
        self.hint = hint

    def envelope(self) -> dict[str, str]:
        """``{"error": code, "detail": ..., "hint": ...}`` for stderr."""
        return {"error": self.code, "detail": self.detail, "hint": self.hint}


class BadInputError(EngineError):
    """Input that cannot be used: a malformed CSV, flag, config or snapshot (exit 2)."""

    code = "BadInput"
    exit_code = EXIT_BAD_INPUT


class PolicyError(EngineError):
    """A request refused by a limit or a policy (row/byte ceilings, unavailable features;
    exit 4)."""

    code = "Policy"
    exit_code = EXIT_POLICY


class IOFailureError(EngineError):
    """A file or socket that cannot be read or written (exit 5)."""

    code = "IO"
    exit_code = EXIT_IO


class InvariantError(EngineError):
    """A map's physical state broke one of its invariants.

    ``invariant`` names the rule (for example ``"dib-matches-home"``), ``detail`` says
    where and how it was broken.
    """

    code = "Invariant"
    exit_code = EXIT_INVARIANT

    def __init__(self, invariant: str, detail: str) -> None:
        super().__init__(f"{invariant}: {detail}", "the map's state is inconsistent")
        self.invariant = invariant


class UnsupportedKeyError(EngineError, TypeError):
    """A key of a type the engine cannot hash deterministically (only str, bytes, int)."""

    def __init__(self, key: object) -> None:
        super().__init__(
            f"unsupported key type {type(key).__name__!r}: keys must be str, bytes or int",
            "convert the key to str, bytes or int",
        )
        self.key_type = type(key).__name__
