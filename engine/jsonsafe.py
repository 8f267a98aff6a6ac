"""JSON-safe encodings of keys and values for ``layout()``, traces and events.

Keys: ``str`` and ``int`` (``bool`` included) stay as they are; ``bytes`` become
``{"bytes": "<hex>"}``. Values: JSON scalars stay; ``bytes`` as for keys; lists, tuples and
dicts with str keys recurse; anything else becomes ``{"repr": repr(value)}``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["decode_key", "encode_key", "encode_value"]

JsonValue = Any


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


def encode_value(value: object) -> JsonValue:
    """Encode any value for JSON; unknown objects become their ``repr``."""
    if value is None or isinstance(value, str | int | float):
        return value
    if isinstance(value, bytes):
        return {"bytes": value.hex()}
    if isinstance(value, list | tuple):
        return [encode_value(item) for item in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: encode_value(v) for k, v in value.items()}
    return {"repr": repr(value)}
