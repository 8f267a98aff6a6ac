"""Crafted unsigned snapshots under 1 MB cannot make the loader use much memory (#12, item 4).

Each file here is resealed with a valid unsigned checksum, as anyone can do, and is
loaded in a fresh process whose peak RSS is measured. Before the budgets of
``engine.store.snapshot._unsigned_budget`` a 51 KB gzip of ``[],[],…`` peaked at 1.4 GB and
a 1.3 KB chaining file declaring capacity 2**22 at 417 MB.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

import engine
from engine.store import snapshot as snap

ROOT = Path(__file__).resolve().parent.parent
LIMIT_MB = 200
ON_DISK_LIMIT = 1_000_000

LOAD = r"""
import json, sys
from engine.errors import EngineError
from engine.store.snapshot import load_snapshot
try:
    m = load_snapshot(sys.argv[1])
    outcome = {"loaded": len(m)}
except EngineError as exc:
    outcome = {"error": type(exc).__name__, "detail": str(exc)}
# VmHWM: this process's own peak (getrusage's maxrss can carry the parent's over exec)
with open("/proc/self/status") as status:
    hwm = next(line for line in status if line.startswith("VmHWM:"))
outcome["rss_mb"] = int(hwm.split()[1]) / 1024
print(json.dumps(outcome))
"""


def _seal(kind: str, payload: bytes, compressed: bool) -> bytes:
    """A snapshot file around ``payload`` with a correct unsigned checksum."""
    flags = snap.FLAG_GZIP if compressed else 0
    prefix = snap.PREFIX.pack(
        snap.MAGIC, snap.FORMAT_VERSION, snap.KINDS[kind], flags, len(payload)
    )
    return prefix + snap._digest(prefix, payload, None) + payload


def _counters() -> str:
    saved = json.loads(snap.snapshot_bytes(engine.RobinHoodMap(capacity=8))[52:])
    return json.dumps(saved["map"]["counters"])


def _robinhood(capacity: int) -> tuple[bytes, bytes]:
    """The bytes before and after a Robin Hood state's slot list."""
    options = json.dumps(
        {"capacity": capacity, "deletion": "backshift", "hash": "crc32",
         "max_load_factor": 0.9, "seed": None}
    )
    head = '{"format":"ahme-snapshot","map":{"counters":' + _counters()
    head += ',"kind":"robinhood","options":' + options + ',"slots":['
    return head.encode(), b'],"tombstone_deletes":false},"version":1}'


def _chaining_2_22() -> tuple[bytes, bytes]:
    options = json.dumps(
        {"capacity": 1 << 22, "groups": 4, "hash": "crc32", "max_load_factor": 0.75,
         "seed": None}
    )
    head = '{"format":"ahme-snapshot","map":{"cells":[],"counters":' + _counters()
    head += ',"kind":"chaining","options":' + options + '},"version":1}'
    return head.encode(), b""


#: shape -> (map kind, head and tail for a unit count, the repeated unit, the last unit)
CRAFTED: dict[str, tuple[str, Callable[[int], tuple[bytes, bytes]], bytes, bytes]] = {
    "empty-lists": ("robinhood", lambda n: _robinhood(8), b"[],", b"[]"),
    "empty-dicts": ("robinhood", lambda n: _robinhood(8), b"{},", b"{}"),
    "short-strings": ("robinhood", lambda n: _robinhood(8), b'"",', b'""'),
    "big-numbers": ("robinhood", lambda n: _robinhood(8), b"123456789012345678901,", b"1"),
    "whitespace-padded-chaining-2^22": ("chaining", lambda n: _chaining_2_22(), b" ", b" "),
    "null-slots": ("robinhood", lambda n: _robinhood(n), b"null,", b"null"),
    "one-long-string": ("robinhood", lambda n: _robinhood(8), b"a", b'a"'),
}


def _craft(shape: str, compressed: bool) -> tuple[str, bytes]:
    """(kind, payload): as many units of ``shape`` as fit in a file under 1 MB on disk.
    Compressed payloads are streamed through zlib, never built whole."""
    kind, frame, unit, last = CRAFTED[shape]
    room = ON_DISK_LIMIT - 52 - 4096
    if not compressed:
        head, tail = frame(0)
        count = (room - len(head) - len(tail) - len(last)) // len(unit)
        if shape == "null-slots":
            count = (1 << (count + 1).bit_length() - 1) - 1
            head, tail = frame(count + 1)
        if shape == "one-long-string":
            head += b'"'
        return kind, head + unit * count + last + tail
    block = unit * (1 << 16)
    units = 1 << 16
    if shape == "null-slots":  # a power-of-two table: find the largest that fits
        capacity = 1 << 20
        while _gzip_size(frame(capacity * 2), block, units, capacity * 2) < room:
            capacity *= 2
        head, tail = frame(capacity)
        return kind, _gzip(head, block, units, capacity - 1, last + tail)
    head, tail = frame(0)
    if shape == "one-long-string":
        head += b'"'
    count = units
    while _gzip_size((head, tail), block, units, count * 2) < room and count < 1 << 31:
        count *= 2
    return kind, _gzip(head, block, units, count - 1, last + tail)


def _gzip_size(frame: tuple[bytes, bytes], block: bytes, units: int, count: int) -> int:
    return len(_gzip(frame[0], block, units, count, frame[1]))


def _gzip(head: bytes, block: bytes, units: int, count: int, tail: bytes) -> bytes:
    """gzip of ``head + unit * count + tail`` (``block`` is ``units`` units)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = [packer.compress(head)]
    full, rest = divmod(count, units)
    for _ in range(full):
        out.append(packer.compress(block))
    unit = block[: len(block) // units]
    out.append(packer.compress(unit * rest + tail))
    out.append(packer.flush())
    return b"".join(out)


def _load(path: Path) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-c", LOAD, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


@pytest.mark.slow
@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("shape", sorted(CRAFTED))
def test_a_crafted_file_under_1_mb_stays_under_200_mb(
    shape: str, compressed: bool, tmp_path: Path
) -> None:
    kind, payload = _craft(shape, compressed)
    data = _seal(kind, payload, compressed)
    assert 0.5 * ON_DISK_LIMIT < len(data) < ON_DISK_LIMIT or shape == "null-slots"
    del payload
    path = tmp_path / "crafted.snap"
    path.write_bytes(data)
    outcome = _load(path)
    assert outcome["rss_mb"] <= LIMIT_MB, outcome  # type: ignore[operator]
    if shape == "null-slots" and "loaded" in outcome:
        # a real empty table; it loads while its size is what the file justifies
        assert outcome["loaded"] == 0
        assert not compressed, "a 2**20-slot or larger unsigned table must be refused"
    else:
        assert outcome.get("error") in ("PolicyError", "BadInputError"), outcome


def test_real_snapshots_still_load_unsigned(tmp_path: Path) -> None:
    """Dense and sparse real maps: within every budget (an unsigned file of their size)."""
    for kind in ("robinhood", "chaining", "adaptive"):
        m = engine.create_map(kind)
        for i in range(50_000):
            m[f"key-{i}"] = i
        for i in range(0, 50_000, 2):  # half deleted: sparser than when it grew
            del m[f"key-{i}"]
        path = tmp_path / f"{kind}.snap.gz"
        engine.save_snapshot(m, path)
        loaded = engine.load_snapshot(path)
        assert loaded.layout() == m.layout()


def test_a_sparse_table_beyond_the_unsigned_budget_loads_when_signed(tmp_path: Path) -> None:
    m = engine.RobinHoodMap(capacity=1 << 21)
    m["only"] = 1
    plain, signed = tmp_path / "plain.snap.gz", tmp_path / "signed.snap.gz"
    engine.save_snapshot(m, plain)
    engine.save_snapshot(m, signed, key=b"k")
    with pytest.raises(engine.errors.PolicyError, match="justifies") as refused:
        engine.load_snapshot(plain)
    assert "sign" in refused.value.hint
    assert engine.load_snapshot(signed, key=b"k").layout() == m.layout()


@pytest.mark.parametrize("shape", sorted(CRAFTED))
def test_parse_cost_bounds_what_json_builds(shape: str) -> None:
    """The estimate is an upper bound on what json.loads really allocates (tracemalloc)."""
    import tracemalloc

    _kind, frame, unit, last = CRAFTED[shape]
    head, tail = frame(20_000)
    if shape == "one-long-string":
        head += b'"'
    payload = head + unit * 19_999 + last + tail
    tracemalloc.start()
    document = json.loads(payload)
    used, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del document
    assert snap.parse_cost(payload) >= used


def test_whitespace_and_strings_do_not_inflate_the_cost() -> None:
    base = b'[1,[2,3],{"a":null}]'
    assert snap.parse_cost(base.replace(b",", b" ,  ")) == snap.parse_cost(base)
    quoted = b'["[[[[,,,,{{{{::::"]'
    assert snap.parse_cost(quoted) < snap.parse_cost(b"[[[[[],[],[],[]]]]]")
