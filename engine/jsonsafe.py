"""JSON-safe encodings of keys and values for ``layout()``, traces and events.

Keys: ``str`` and ``int`` (``bool`` included) stay as they are; ``bytes`` become
``{"bytes": "<hex>"}``. Values: JSON scalars stay; ``bytes`` as for keys; lists, tuples and
dicts with str keys recurse; anything else becomes ``{"repr": repr(value)}``.
The bottom layer beside :mod:`engine.errors`: the trace events and the maps both use it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["decode_key", "encode_key", "encode_value"]

JsonValue = Any
_MAX_DEPTH = 32


def encode_key(key: object) -> JsonValue:
    """Encode a map key (str, bytes or int) for JSON. O(len(key))."""
    if isinstance(key, bytes):
        return {"bytes": key.hex()}
    if isinstance(key, str | int):
        return key
    return {"repr": repr(key)}


def decode_key(data: JsonValue) -> object:
    """Invert :func:`encode_key` for str, int and bytes keys."""
    if isinstance(data, dict) and set(data) == {"bytes"} and isinstance(data["bytes"], str):
        return bytes.fromhex(data["bytes"])
    if isinstance(data, str | int):
        return data
    raise ValueError(f"not an encoded key: {data!r}")


def encode_value(value: object, _depth: int = 0) -> JsonValue:
    """Encode any value for JSON; unknown objects become their ``repr``. Containers nested
    deeper than 32 levels (self-references included) become their ``repr`` too."""
    if value is None or isinstance(value, str | int | float):
        return value
    if isinstance(value, bytes):
        return {"bytes": value.hex()}
    if _depth < _MAX_DEPTH:
        if isinstance(value, list | tuple):
            return [encode_value(item, _depth + 1) for item in value]
        if isinstance(value, dict) and all(isinstance(k, str) for k in value):
            return {k: encode_value(v, _depth + 1) for k, v in value.items()}
    return {"repr": _short_repr(value)}


def _short_repr(value: object) -> str:
    try:
        text = repr(value)
    except RecursionError:
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 200 else text[:197] + "..."
