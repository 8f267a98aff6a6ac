"""Operations the explorer records, and the parser for the operation line.

The line accepts ``put KEY VALUE``, ``get KEY``, ``del KEY`` and ``compact``; keys and
values may be quoted (``put "big apple" 1``). Keys are strings, as in a workload CSV.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Literal

__all__ = ["OP_NAMES", "CommandError", "OpName", "Operation", "parse_command"]

OpName = Literal["put", "get", "del", "compact"]
OP_NAMES: tuple[OpName, ...] = ("put", "get", "del", "compact")
MAX_KEY_LENGTH = 200
_ALIASES: dict[str, OpName] = {"delete": "del", "remove": "del", "set": "put", "insert": "put"}


class CommandError(ValueError):
    """The operation line could not be understood; the message says why and how to fix it."""


@dataclass(frozen=True, slots=True)
class Operation:
    """One recorded operation. ``value`` is set for put only; ``key`` is None for compact."""

    op: OpName
    key: str | None = None
    value: str | None = None

    def text(self) -> str:
        """The operation as it would be typed on the operation line."""
        parts: list[str] = [self.op]
        if self.key is not None:
            parts.append(shlex.quote(self.key))
        if self.value is not None:
            parts.append(shlex.quote(self.value))
        return " ".join(parts)


def _check_key(key: str) -> str:
    if not key:
        raise CommandError("the key is empty")
    if len(key) > MAX_KEY_LENGTH:
        raise CommandError(f"the key is longer than {MAX_KEY_LENGTH} characters")
    if "\x00" in key:
        raise CommandError("the key contains a NUL character")
    return key


def parse_command(line: str) -> Operation:
    """Parse one operation line; raises :class:`CommandError` with a plain explanation."""
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise CommandError(f"cannot read {line.strip()!r}: {exc}") from None
    if not words:
        raise CommandError("type an operation, for example: put apple 1")
    name = words[0].lower()
    op = _ALIASES.get(name, name)
    args = words[1:]
    if op == "put":
        if len(args) != 2:
            raise CommandError("put needs a key and a value, for example: put apple 1")
        return Operation("put", _check_key(args[0]), args[1])
    if op in ("get", "del"):
        if len(args) != 1:
            raise CommandError(f"{op} needs exactly one key, for example: {op} apple")
        return Operation(op, _check_key(args[0]))  # type: ignore[arg-type]
    if op == "compact":
        if args:
            raise CommandError("compact takes no arguments")
        return Operation("compact")
    known = ", ".join(OP_NAMES)
    raise CommandError(f"unknown operation {words[0]!r} (known: {known})")
