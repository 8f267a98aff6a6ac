"""Versioned, checksummed snapshots of a map: ``save_snapshot`` and ``load_snapshot``.

Layout (``docs/snapshot_format.md``), all integers little-endian::

    offset  size  field
    0       8     magic b"AHMESNAP"
    8       2     format version (1)
    10      1     map kind: 1 chaining, 2 robinhood, 3 adaptive
    11      1     flags: bit 0 gzip-compressed payload, bit 1 keyed (MAC) checksum
    12      8     payload length in bytes, as stored
    20      32    BLAKE2b-256 of bytes 0..19 and the stored payload; keyed with the
                  signing key when bit 1 is set (a MAC), personalised b"ahme-snapshot"
    52      ...   payload: canonical JSON (sorted keys, no spaces, ASCII) of the map's
                  state, gzip-compressed with mtime 0 when bit 0 is set

Nothing here runs code from the file: the payload is JSON, read into plain data, checked
field by field, and the rebuilt map must pass ``check_invariants()``. Saving the same map
twice gives identical bytes. Writes are atomic (temporary file, fsync, rename).
"""

from __future__ import annotations

import gzip
import json
import os
import re
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from engine.errors import BadInputError, IOFailureError, PolicyError
from engine.maps.base import BaseMap
from engine.store.atomic import atomic_open
from engine.store.state import map_from_state, map_to_state

__all__ = [
    "DEFAULT_MAX_PAYLOAD",
    "FORMAT_VERSION",
    "MAGIC",
    "SnapshotInfo",
    "load_snapshot",
    "parse_cost",
    "read_snapshot",
    "save_snapshot",
    "snapshot_bytes",
]

MAGIC: Final = b"AHMESNAP"
FORMAT_VERSION: Final = 1
HEADER: Final = struct.Struct("<8sHBBQ32s")
PREFIX: Final = struct.Struct("<8sHBBQ")
KINDS: Final = {"chaining": 1, "robinhood": 2, "adaptive": 3}
FLAG_GZIP: Final = 1
FLAG_MAC: Final = 2
DEFAULT_MAX_PAYLOAD: Final = 512 * 1024 * 1024
#: What an unsigned snapshot may make the loader build, per byte of the file on disk
#: (stored payload), with a floor for small files: see :func:`_unsigned_budget`.
UNSIGNED_EXPANSION: Final = 32
UNSIGNED_OBJECT_BYTES: Final = 64
UNSIGNED_PAYLOAD_FLOOR: Final = 16 * 1024 * 1024
UNSIGNED_OBJECT_FLOOR: Final = 64 * 1024 * 1024
#: Bytes a table position costs in memory (Robin Hood: 4 slot arrays; chaining: 3 cell arrays).
POSITION_BYTES: Final = 32
_PERSON: Final = b"ahme-snapshot"
_CHUNK: Final = 1 << 16

#: Called with the bytes written so far after each chunk of a save (tests use it to kill
#: the process mid-write and show the previous file survives).
_WRITE_HOOK: Callable[[int], None] | None = None


@dataclass(frozen=True)
class SnapshotInfo:
    """A snapshot's header, what its checksum said, and the rebuilt map."""

    path: str
    version: int
    kind: str
    compressed: bool
    signed: bool
    payload_bytes: int
    checksum: str
    map: BaseMap


def _normalise_key(key: bytes | str | None) -> bytes | None:
    if key is None:
        return None
    raw = key.encode() if isinstance(key, str) else key
    if not raw:
        raise BadInputError("the signing key is empty", "use a key file with some secret bytes")
    if len(raw) <= 64:
        return raw
    from hashlib import blake2b

    return blake2b(raw, digest_size=64).digest()


def _digest(prefix: bytes, payload: bytes, key: bytes | None) -> bytes:
    from hashlib import blake2b  # OpenSSL loads with hashlib: only when snapshots are used

    h = blake2b(digest_size=32, key=key or b"", person=_PERSON)
    h.update(prefix)
    h.update(payload)
    return h.digest()


def snapshot_bytes(m: BaseMap, *, compress: bool = False, key: bytes | str | None = None) -> bytes:
    """The complete snapshot file for ``m`` (deterministic). O(n)."""
    state = map_to_state(m)
    document = {"format": "ahme-snapshot", "version": FORMAT_VERSION, "map": state}
    payload = json.dumps(document, sort_keys=True, separators=(",", ":")).encode("ascii")
    flags = 0
    if compress:
        payload = gzip.compress(payload, compresslevel=6, mtime=0)
        flags |= FLAG_GZIP
    raw_key = _normalise_key(key)
    if raw_key is not None:
        flags |= FLAG_MAC
    prefix = PREFIX.pack(MAGIC, FORMAT_VERSION, KINDS[m.kind], flags, len(payload))
    return prefix + _digest(prefix, payload, raw_key) + payload


def save_snapshot(
    m: BaseMap,
    path: str | os.PathLike[str],
    *,
    compress: bool = False,
    key: bytes | str | None = None,
) -> None:
    """Write ``m`` to ``path`` atomically; a ``.gz`` name implies ``compress``."""
    data = snapshot_bytes(m, compress=compress or str(path).endswith(".gz"), key=key)
    try:
        with atomic_open(path, "wb") as handle:
            for start in range(0, len(data), _CHUNK):
                handle.write(data[start : start + _CHUNK])
                if _WRITE_HOOK is not None:
                    handle.flush()
                    _WRITE_HOOK(start + _CHUNK)
    except OSError as exc:
        raise IOFailureError(
            f"cannot write snapshot {str(path)!r}: {exc.strerror or exc}"
        ) from None


def _bad(path: str, detail: str, hint: str = "") -> BadInputError:
    return BadInputError(
        f"{path}: {detail}", hint or "the file is damaged or is not an engine snapshot"
    )


def read_snapshot(
    path: str | os.PathLike[str],
    *,
    key: bytes | str | None = None,
    max_payload: int = DEFAULT_MAX_PAYLOAD,
    check: bool = True,
) -> SnapshotInfo:
    """Read, verify and rebuild a snapshot. Raises BadInputError for unreadable input,
    PolicyError past ``max_payload`` decompressed bytes, IOFailureError for paths, and
    (with ``check``) InvariantError when a well-formed file holds an inconsistent map."""
    name = str(path)
    raw_key = _normalise_key(key)
    try:
        size = Path(name).stat().st_size
        with open(name, "rb") as handle:
            header = handle.read(HEADER.size)
            if len(header) < HEADER.size:
                raise _bad(name, f"truncated: {len(header)} bytes, shorter than the header")
            magic, version, kind_code, flags, length, checksum = HEADER.unpack(header)
            if magic != MAGIC:
                raise _bad(name, "not a snapshot (wrong magic bytes)")
            if version != FORMAT_VERSION:
                raise _bad(
                    name,
                    f"unknown snapshot format version {version} (this engine reads "
                    f"{FORMAT_VERSION})",
                    "upgrade the engine to read newer snapshots",
                )
            kinds = {code: kind for kind, code in KINDS.items()}
            if kind_code not in kinds:
                raise _bad(name, f"unknown map kind code {kind_code}")
            if flags & ~(FLAG_GZIP | FLAG_MAC):
                raise _bad(name, f"unknown flags {flags:#x}")
            if length != size - HEADER.size:
                raise _bad(
                    name,
                    f"payload length field says {length} bytes but the file holds "
                    f"{size - HEADER.size}",
                )
            stored = handle.read(length)
    except FileNotFoundError:
        raise IOFailureError(f"{name}: no such file", "check the snapshot path") from None
    except IsADirectoryError:
        raise IOFailureError(f"{name}: is a folder, not a snapshot") from None
    except OSError as exc:
        raise IOFailureError(f"{name}: {exc.strerror or exc}") from None
    signed = bool(flags & FLAG_MAC)
    if signed and raw_key is None:
        raise _bad(
            name,
            "the snapshot is signed: a key is needed to verify it",
            "pass --sign-key-file or set ADHASH_SIGN_KEY",
        )
    if not signed and raw_key is not None:
        raise _bad(
            name,
            "a signing key was given but the snapshot is not signed",
            "load it without a key only if you trust where it came from",
        )
    expected = _digest(header[: PREFIX.size], stored, raw_key)
    from hmac import compare_digest

    if not compare_digest(expected, checksum):
        detail = "MAC mismatch: wrong key or tampered file" if signed else "checksum mismatch"
        raise _bad(name, detail)
    budget = None if signed else _unsigned_budget(len(stored))
    ceiling = max_payload if budget is None else min(max_payload, budget.payload)
    payload = _inflate(name, stored, ceiling, signed) if flags & FLAG_GZIP else stored
    del stored
    if len(payload) > max_payload:
        raise PolicyError(f"{name}: payload of {len(payload)} bytes exceeds the ceiling")
    if budget is not None:
        cost = parse_cost(payload)
        if cost > budget.objects:
            raise PolicyError(
                f"{name}: the unsigned payload would take about {cost >> 20} MiB to read, "
                f"more than its {length} bytes on disk justify (at most "
                f"{budget.objects >> 20} MiB)",
                _UNSIGNED_HINT,
            )
    try:
        document = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError, ValueError) as exc:
        raise _bad(name, f"payload is not valid JSON ({exc})") from None
    payload_size = len(payload)
    del payload
    if (
        not isinstance(document, dict)
        or document.get("format") != "ahme-snapshot"
        or document.get("version") != FORMAT_VERSION
        or not isinstance(document.get("map"), dict)
        or document["map"].get("kind") != kinds[kind_code]
    ):
        raise _bad(name, "payload does not describe the map the header names")
    # A table may need more positions than entries (it never shrinks), but not wildly more
    # than the file could describe: unsigned, what its bytes on disk justify in memory;
    # signed (trusted), at most max(2**20, 16 per payload byte) as a sanity bound.
    positions = max(1 << 20, 16 * payload_size) if budget is None else budget.positions
    m = map_from_state(document["map"], cell_budget=positions)
    if check:
        m.check_invariants()
    return SnapshotInfo(
        path=name,
        version=version,
        kind=kinds[kind_code],
        compressed=bool(flags & FLAG_GZIP),
        signed=signed,
        payload_bytes=length,
        checksum=checksum.hex(),
        map=m,
    )


_UNSIGNED_HINT = (
    "sign snapshots that must load at any size (--sign-key-file), or compact the map "
    "before saving it"
)


@dataclass(frozen=True)
class _Budget:
    """What an unsigned snapshot of a given stored size may make the loader build."""

    payload: int  # decompressed payload bytes
    objects: int  # bytes of Python objects that parsing the payload may allocate
    positions: int  # table slots or cells that the rebuilt map may allocate


def _unsigned_budget(stored: int) -> _Budget:
    """The budget of an unsigned snapshot whose stored payload is ``stored`` bytes.

    Anyone can reseal an unsigned file, and gzip turns 1 MB into 1 GB of ``[],[],...``,
    so what the loader builds is bounded by the bytes on disk, not by the decompressed
    length that whitespace and repetition pad: at most 32 decompressed bytes, 64 bytes of
    parsed objects and 2 table positions (64 bytes) per stored byte, with floors of 16 MiB,
    64 MiB and 2**20 positions. Real snapshots compress 3-6 times and cost about 20 bytes
    of objects per stored byte, so they stay well inside; a table far sparser than its
    entries needs a signed snapshot. A file under 1 MB thus stays under ~200 MB of RSS.
    """
    return _Budget(
        payload=max(UNSIGNED_PAYLOAD_FLOOR, UNSIGNED_EXPANSION * stored),
        objects=max(UNSIGNED_OBJECT_FLOOR, UNSIGNED_OBJECT_BYTES * stored),
        positions=max(1 << 20, UNSIGNED_OBJECT_BYTES * stored // POSITION_BYTES),
    )


_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')


def parse_cost(payload: bytes) -> int:
    """An upper bound on the bytes of objects ``json.loads(payload)`` allocates, from
    counts of the JSON structure outside strings (whitespace and string content cannot
    hide containers). O(len(payload)) at C speed; a copy of at most the payload's size.

    Charged per value: 10 bytes for its reference (lists over-allocate), plus 72 per list,
    232 per object, 56 and the content per string and 40 per number; ``null``, ``true``
    and ``false`` are shared objects and cost only their reference.
    """
    skeleton, strings = _JSON_STRING.subn(b"0", payload)
    string_bytes = len(payload) - len(skeleton) + strings  # content, quotes excluded
    lists = skeleton.count(b"[")
    objects = skeleton.count(b"{")
    values = lists + objects + skeleton.count(b",") + skeleton.count(b":") + 1
    shared = skeleton.count(b"null") + skeleton.count(b"true") + skeleton.count(b"false")
    del skeleton
    numbers = max(0, values - lists - objects - strings - shared)
    return 10 * values + 72 * lists + 232 * objects + 56 * strings + string_bytes + 40 * numbers


def _inflate(name: str, stored: bytes, ceiling: int, trusted: bool) -> bytes:
    """Gunzip with a ceiling checked before the output can grow past it."""
    inflater = zlib.decompressobj(wbits=31)
    try:
        out = inflater.decompress(stored, ceiling + 1)
    except zlib.error as exc:
        raise _bad(name, f"compressed payload is damaged ({exc})") from None
    if len(out) > ceiling or inflater.unconsumed_tail:
        raise PolicyError(
            f"{name}: payload decompresses past the ceiling of {ceiling} bytes"
            + ("" if trusted else f" (an unsigned snapshot of {len(stored)} bytes)"),
            "raise the ceiling only for snapshots you trust" if trusted else _UNSIGNED_HINT,
        )
    if not inflater.eof or inflater.unused_data:
        raise _bad(name, "compressed payload is truncated or has trailing data")
    return out


def load_snapshot(
    path: str | os.PathLike[str],
    *,
    key: bytes | str | None = None,
    max_payload: int = DEFAULT_MAX_PAYLOAD,
) -> BaseMap:
    """The map saved at ``path``, verified (checksum or MAC, structure, invariants)."""
    return read_snapshot(path, key=key, max_payload=max_payload).map


def describe(info: SnapshotInfo) -> dict[str, Any]:
    """Header facts for ``inspect-snapshot``."""
    m = info.map
    return {
        "path": info.path,
        "format_version": info.version,
        "backend": info.kind,
        "compressed": info.compressed,
        "signed": info.signed,
        "payload_bytes": info.payload_bytes,
        "checksum": info.checksum,
        "checksum_ok": True,
        "size": len(m),
        "capacity": m.capacity,
        "load_factor": m.load_factor if info.kind != "adaptive" else len(m) / m.capacity,
    }
