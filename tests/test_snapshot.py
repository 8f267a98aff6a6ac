"""Snapshots: round trips for every map configuration, tamper and fuzz resistance, limits,
a crash in the middle of a save, the committed v1 fixtures and the snapshot CLI commands.

Regenerate the v1 fixtures only on purpose (they pin the format):
``REGENERATE_SNAPSHOT_FIXTURES=1 uv run --no-sync pytest tests/test_snapshot.py -k fixture``.
"""

from __future__ import annotations

import gzip
import itertools
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import ROOT, assert_envelope, assert_ok, run_engine, run_engine_many, write_rows
from conftest import AGGRESSIVE_GUARDRAILS, KEYED_SEED, MAP_FACTORIES, MapFactory, keys, values
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from engine.errors import BadInputError, InvariantError, PolicyError
from engine.store.snapshot import (
    HEADER,
    PREFIX,
    _digest,
    load_snapshot,
    read_snapshot,
    save_snapshot,
    snapshot_bytes,
)
from engine.store.state import map_to_state

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FIXTURE_KEY = b"fixture-key"
ALLOWED = (BadInputError, PolicyError, InvariantError)

# --------------------------------------------------------------------------- helpers


def _has_surrogate_pair(key: Any) -> bool:
    """Two lone surrogates that form a pair ("\\udbff\\udc00") do not survive the JSON
    payload (see test_surrogate_pair_key_round_trips, a known engine bug); the random
    round trips leave them out so they keep testing everything else."""
    return isinstance(key, str) and any(
        "\ud800" <= a <= "\udbff" and "\udc00" <= b <= "\udfff" for a, b in itertools.pairwise(key)
    )


ops = st.lists(
    st.tuples(
        st.sampled_from(["put", "put", "del"]),
        keys.filter(lambda k: not _has_surrogate_pair(k)),
        values,
    ),
    min_size=0,
    max_size=30,
)


def apply(m: engine.BaseMap, sequence: list[tuple[str, Any, Any]]) -> None:
    for op, key, value in sequence:
        if op == "put":
            m[key] = value
        else:
            m.discard(key)


def fingerprint(m: engine.BaseMap) -> tuple[str, str, list[tuple[Any, Any]]]:
    return (
        json.dumps(m.layout(), sort_keys=True),
        json.dumps(m.stats(), sort_keys=True),
        list(m.items()),
    )


def assert_same(a: engine.BaseMap, b: engine.BaseMap) -> None:
    assert json.dumps(a.layout()) == json.dumps(b.layout())
    assert a.stats() == b.stats()
    assert list(a.items()) == list(b.items())
    assert len(a) == len(b)


@pytest.fixture(scope="module")
def workdir() -> Any:
    with tempfile.TemporaryDirectory(prefix="snapshot-tests-") as folder:
        yield Path(folder)


def reseal(payload: bytes, kind_code: int, flags: int = 0, key: bytes | None = None) -> bytes:
    """A file with a correct header (length, checksum) around an arbitrary payload."""
    prefix = PREFIX.pack(b"AHMESNAP", 1, kind_code, flags, len(payload))
    return prefix + _digest(prefix, payload, key) + payload


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("factory", MAP_FACTORIES, ids=lambda f: f.id)
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(before=ops, after=ops)
def test_round_trip(
    factory: MapFactory,
    workdir: Path,
    before: list[tuple[str, Any, Any]],
    after: list[tuple[str, Any, Any]],
) -> None:
    m = factory()
    apply(m, before)
    expected = fingerprint(m)
    plain = workdir / f"{factory.id}.snap"
    gz_name = workdir / f"{factory.id}.snap.gz"
    flagged = workdir / f"{factory.id}-c.snap"
    signed = workdir / f"{factory.id}-s.snap"

    save_snapshot(m, plain)
    first = plain.read_bytes()
    save_snapshot(m, plain)
    assert plain.read_bytes() == first, "saving twice must give identical bytes"
    assert first == snapshot_bytes(m)
    save_snapshot(m, gz_name)
    save_snapshot(m, flagged, compress=True)
    assert gz_name.read_bytes() == flagged.read_bytes()
    assert gz_name.read_bytes()[11] & 1, "a .gz name implies compression"
    save_snapshot(m, signed, key=b"round-trip-key")

    loaded_maps = [
        load_snapshot(plain),
        load_snapshot(gz_name),
        load_snapshot(flagged),
        load_snapshot(signed, key=b"round-trip-key"),
    ]
    assert fingerprint(m) == expected, "saving must not change the map"
    for loaded in loaded_maps:
        assert type(loaded) is type(m)
        loaded.check_invariants()
        assert_same(m, loaded)
        assert snapshot_bytes(loaded) == first

    # the loaded map behaves exactly like a copy of the original from here on
    loaded, clone = loaded_maps[0], m.copy()
    apply(loaded, after)
    apply(clone, after)
    loaded.check_invariants()
    assert_same(clone, loaded)
    assert snapshot_bytes(clone) == snapshot_bytes(loaded)


@pytest.mark.parametrize("kind", ["robinhood", "chaining"])
def test_surrogate_pair_key_round_trips(kind: str, tmp_path: Path) -> None:
    """KNOWN BUG (kept failing on purpose): the key "\\udbff\\udc00x" (two lone
    surrogates, a valid str and a valid map key) is written as the JSON escapes
    "\\udbff\\udc00", which json.loads joins into the one character U+10FC00, so the
    saved map cannot be loaded (hash-matches-key). The same join silently changes
    such str *values*, which no invariant can notice."""
    m = engine.create_map(kind, capacity=8)
    m["\udbff\udc00x"] = "\ud800\udc00"
    save_snapshot(m, tmp_path / "s.snap")
    loaded = load_snapshot(tmp_path / "s.snap")
    assert list(loaded.items()) == [("\udbff\udc00x", "\ud800\udc00")]


def _mid_migration(factory: MapFactory) -> engine.BaseMap:
    m = factory()
    for i in range(200):
        m[f"k{i}"] = i
        if m.stats().get("migration"):
            return m
        if i % 3 == 2:
            m.discard(f"k{i - 1}")
    raise AssertionError(f"{factory.id} never started a migration")


@pytest.mark.parametrize("factory", [f for f in MAP_FACTORIES if f.adaptive], ids=lambda f: f.id)
def test_round_trip_mid_migration(factory: MapFactory, tmp_path: Path) -> None:
    """Deterministic cover of the case the random test reaches only sometimes."""
    m = _mid_migration(factory)
    path = tmp_path / "mid.snap"
    save_snapshot(m, path)
    loaded = load_snapshot(path)
    assert loaded.stats()["migration"] == m.stats()["migration"]
    assert_same(m, loaded)
    clone = m.copy()
    for i in range(40):
        for target in (clone, loaded):
            target[f"x{i}"] = i
            target.discard(f"k{i}")
    assert_same(clone, loaded)
    loaded.check_invariants()


def test_round_trip_tombstones(tmp_path: Path) -> None:
    m = engine.create_map("robinhood", capacity=64, deletion="tombstone")
    for i in range(30):
        m[i] = str(i)
    for i in range(0, 30, 3):
        del m[i]
    assert m.stats()["tombstones"] > 0
    save_snapshot(m, tmp_path / "t.snap")
    loaded = load_snapshot(tmp_path / "t.snap")
    assert loaded.stats()["tombstones"] == m.stats()["tombstones"]
    assert_same(m, loaded)


def test_all_value_types_round_trip(tmp_path: Path) -> None:
    value = {
        "s": "é\ud800",
        "i": -(2**100),
        "f": 1.5,
        "n": None,
        "t": True,
        "b": b"\x00\xff",
        "l": [1, (2, [3])],
        "u": (),
        "d": {},
    }
    m = engine.create_map("chaining", capacity=4)
    for key in ("k", b"k", 2**70, True):
        m[key] = value
    save_snapshot(m, tmp_path / "v.snap")
    loaded = load_snapshot(tmp_path / "v.snap")
    assert list(loaded.items()) == list(m.items())
    assert type(loaded["k"]["u"]) is tuple and type(loaded["k"]["l"][1]) is tuple


def test_unsavable_value_is_a_policy_error(tmp_path: Path) -> None:
    m = engine.create_map("robinhood")
    m["k"] = {1: "int keyed dict"}
    with pytest.raises(PolicyError):
        save_snapshot(m, tmp_path / "x.snap")
    assert not (tmp_path / "x.snap").exists()


# --------------------------------------------------------------------------- tampering


def _small_map() -> engine.BaseMap:
    m = engine.create_map("robinhood", capacity=8, deletion="tombstone")
    for key, value in (("a", 1), ("b", "two"), (b"c", None), (3, [1])):
        m[key] = value
    del m["b"]
    return m


@pytest.mark.parametrize(
    ("variant", "options"),
    [("plain", {}), ("compressed", {"compress": True}), ("signed", {"key": b"tamper-key"})],
)
def test_every_single_byte_flip_is_rejected(
    variant: str, options: dict[str, Any], tmp_path: Path
) -> None:
    data = snapshot_bytes(_small_map(), **options)
    key = options.get("key")
    path = tmp_path / f"{variant}.snap"
    path.write_bytes(data)
    assert list(load_snapshot(path, key=key).items()) == list(_small_map().items())
    for offset in range(len(data)):
        damaged = bytearray(data)
        damaged[offset] ^= 0x01
        path.write_bytes(bytes(damaged))
        with pytest.raises((BadInputError, InvariantError)):
            load_snapshot(path, key=key)


def test_signed_needs_the_right_key(tmp_path: Path) -> None:
    path = tmp_path / "s.snap"
    save_snapshot(_small_map(), path, key=b"right")
    with pytest.raises(BadInputError, match="key"):
        load_snapshot(path)
    with pytest.raises(BadInputError, match="MAC"):
        load_snapshot(path, key=b"wrong")
    assert len(load_snapshot(path, key="right")) == 3
    plain = tmp_path / "p.snap"
    save_snapshot(_small_map(), plain)
    with pytest.raises(BadInputError, match="not signed"):
        load_snapshot(plain, key=b"right")
    with pytest.raises(BadInputError, match="empty"):
        load_snapshot(plain, key=b"")


def test_resealed_unsigned_file_is_trusted_but_signed_is_not(tmp_path: Path) -> None:
    """The unkeyed checksum catches accidents, not attackers: anyone can recompute it.
    The MAC cannot be recomputed without the key."""
    data = snapshot_bytes(_small_map())
    payload = data[HEADER.size :].replace(b'"two"', b'"TWO"').replace(b'"a"', b'"A"')
    path = tmp_path / "r.snap"
    path.write_bytes(reseal(payload, 2))
    with pytest.raises((BadInputError, InvariantError)):  # hash-matches-key catches "A"
        load_snapshot(path)
    signed = snapshot_bytes(_small_map(), key=b"k")
    forged = reseal(signed[HEADER.size :], 2, flags=2, key=b"guess")
    path.write_bytes(forged)
    with pytest.raises(BadInputError, match="MAC"):
        load_snapshot(path, key=b"k")


# --------------------------------------------------------------------------- limits


def test_length_beyond_the_file_is_rejected_before_reading(tmp_path: Path) -> None:
    data = snapshot_bytes(_small_map())
    prefix = PREFIX.pack(b"AHMESNAP", 1, 2, 0, 1 << 62)
    path = tmp_path / "long.snap"
    path.write_bytes(prefix + data[PREFIX.size : HEADER.size] + data[HEADER.size :])
    with pytest.raises(BadInputError, match="length field"):
        load_snapshot(path)
    # and a length shorter than the file (trailing bytes) is rejected as well
    path.write_bytes(data + b"\0")
    with pytest.raises(BadInputError, match="length field"):
        load_snapshot(path)


def test_decompression_ceiling(tmp_path: Path) -> None:
    m = engine.create_map("chaining")
    m["big"] = "x" * 200_000
    data = snapshot_bytes(m, compress=True)
    assert len(data) < 2000, "the payload compresses well: a small file, a big payload"
    path = tmp_path / "bomb.snap.gz"
    path.write_bytes(data)
    with pytest.raises(PolicyError, match="ceiling"):
        read_snapshot(path, max_payload=1000)
    plain = tmp_path / "big.snap"
    save_snapshot(m, plain)
    with pytest.raises(PolicyError, match="ceiling"):
        read_snapshot(plain, max_payload=1000)
    assert read_snapshot(path).map["big"] == "x" * 200_000


def test_huge_capacity_in_a_tiny_file_is_refused(tmp_path: Path) -> None:
    """A resealed 1 KB file claiming capacity 2**30 must be refused without allocating
    the table first. Run in a child with a 1.5 GiB address-space limit so a MemoryError
    (the bug this guards against) cannot take the test machine down."""
    state = map_to_state(engine.create_map("robinhood", capacity=1))
    state["options"]["capacity"] = 1 << 30
    document = {"format": "ahme-snapshot", "version": 1, "map": state}
    payload = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    path = tmp_path / "huge.snap"
    path.write_bytes(reseal(payload, 2))
    script = textwrap.dedent(
        f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (1536 << 20, 1536 << 20))
        from engine.errors import BadInputError, PolicyError
        from engine.store.snapshot import load_snapshot
        try:
            load_snapshot({str(path)!r})
        except (BadInputError, PolicyError) as exc:
            print("refused:", exc)
            sys.exit(0)
        except MemoryError:
            print("MemoryError")
            sys.exit(7)
        print("loaded")
        sys.exit(8)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]


# --------------------------------------------------------------------------- fuzzing


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_arbitrary_bytes(data: bytes) -> None:
    _load_only_allowed(data)


_VALID = snapshot_bytes(_small_map())
_VALID_ADAPTIVE = snapshot_bytes(
    _mid_migration(next(f for f in MAP_FACTORIES if f.id == "adaptive-c-tombstone-b2"))
)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400), st.booleans())
def test_fuzz_real_header_random_tail(tail: bytes, fix_length: bool) -> None:
    header = _VALID[: HEADER.size]
    if fix_length:  # a consistent length field, so the checksum is what refuses it
        header = PREFIX.pack(b"AHMESNAP", 1, 2, 0, len(tail)) + header[PREFIX.size :]
    _load_only_allowed(header + tail)


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 2**70),
    st.floats(allow_nan=False),
    st.text(max_size=4),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*path, i))
    return out


def _replace(node: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    node[path[0]] = _replace(node[path[0]], path[1:], value)
    return node


@settings(max_examples=300, deadline=None)
@given(st.data(), st.sampled_from([_VALID, _VALID_ADAPTIVE]), json_values)
def test_fuzz_resealed_payload_mutations(data: st.DataObject, base: bytes, value: Any) -> None:
    """Replace one node of a valid payload and recompute the (unkeyed) checksum, so the
    structural checks of the loader, not the checksum, have to refuse it."""
    document = json.loads(base[HEADER.size :])
    candidates = [p for p in _paths(document) if p[:1] == ("map",)]
    path = data.draw(st.sampled_from(candidates))
    if path and path[-1] == "capacity" and isinstance(value, int) and value > 1 << 12:
        value = 1 << 12  # huge capacities are test_huge_capacity_in_a_tiny_file_is_refused
    document = _replace(document, path, value)
    payload = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    _load_only_allowed(reseal(payload, base[10]), must_fail=False)


def _load_only_allowed(data: bytes, must_fail: bool = True) -> None:
    fd, name = tempfile.mkstemp(suffix=".snap")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        try:
            m = load_snapshot(name)
        except ALLOWED:
            return
        assert not must_fail, "random bytes loaded as a snapshot"
        m.check_invariants()
    finally:
        os.unlink(name)


# --------------------------------------------------------------------------- crash safety

_KILL_SCRIPT = """
import os, signal, sys
import engine, engine.store.snapshot
path = sys.argv[1]
a = engine.create_map("robinhood", capacity=8)
for i in range(5):
    a[f"a{i}"] = i
engine.save_snapshot(a, path)
b = engine.create_map("chaining", capacity=8)
for i in range(3000):
    b[f"b{i}"] = "v" * 40
engine.store.snapshot._WRITE_HOOK = lambda n: os.kill(os.getpid(), signal.SIGKILL)
engine.save_snapshot(b, path)
print("not killed")
"""


def test_kill_during_save_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "snap"
    proc = subprocess.run(
        [sys.executable, "-c", _KILL_SCRIPT, str(path)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, proc.stdout, proc.stderr)
    loaded = load_snapshot(path)
    assert loaded.kind == "robinhood"
    assert dict(loaded.items()) == {f"a{i}": i for i in range(5)}
    loaded.check_invariants()


def test_big_map_payload_exceeds_one_chunk() -> None:
    """The map B of the kill test really is written in more than one chunk."""
    b = engine.create_map("chaining", capacity=8)
    for i in range(3000):
        b[f"b{i}"] = "v" * 40
    assert len(snapshot_bytes(b)) > 64 * 1024


# --------------------------------------------------------------------------- v1 fixtures

FIXTURE_RH = FIXTURES / "snapshot_v1_robinhood.snap"
FIXTURE_ADAPTIVE = FIXTURES / "snapshot_v1_adaptive_signed.snap"
#: Written by the engine before the chaining map kept one list per bucket (three parallel
#: lists per cell, full hashes stored): the encoding did not change, and must not.
FIXTURE_CHAINING = FIXTURES / "snapshot_v1_chaining.snap"


def _fixture_rh_items() -> dict[Any, Any]:
    return {
        "apple": 1,
        "banana": "yellow",
        b"\x00raw": [1, 2, (3, None)],
        42: {"nested": True, "f": 0.25},
        "é🙂": None,
        -(2**70): b"\xff",
    }


def _fixture_adaptive_items() -> dict[Any, Any]:
    return {f"key{i}": i * i for i in range(12) if i != 4}


def _build_fixture_maps() -> tuple[engine.BaseMap, engine.BaseMap]:
    # "fast" was the default hash and 0.9 the Robin Hood load limit when the v1 fixtures
    # were written; the recipe names them
    rh = engine.create_map(
        "robinhood", capacity=16, deletion="tombstone", hash="fast", max_load_factor=0.9
    )
    for key, value in _fixture_rh_items().items():
        rh[key] = value
    rh["gone"] = 0
    del rh["gone"]  # leaves a tombstone
    adaptive = engine.create_map(
        "adaptive",
        capacity=1,
        initial_backend="chaining",
        robinhood_max_load_factor=0.9,
        deletion="tombstone",
        migration_batch=1,
        guardrails=AGGRESSIVE_GUARDRAILS,
        hash="keyed",
        seed=KEYED_SEED,
    )
    for i in range(12):
        adaptive[f"key{i}"] = i * i
    del adaptive["key4"]  # with batch 1 and these guardrails, a migration is under way
    return rh, adaptive


def _build_fixture_chaining() -> engine.BaseMap:
    """Chains of up to three entries in two groups, an unlinked and re-added key (now at
    the end of its chain), a replaced value, str, bytes and int keys."""
    m = engine.create_map("chaining", capacity=2, groups=2, max_load_factor=4.0)
    for i in range(40):
        m[f"c{i}"] = i
    for key, value in (
        (b"raw\x00", [1, (2, None)]),
        (7, "seven"),
        (-(2**65), 0.5),
        ("é🙂", {"d": True}),
    ):
        m[key] = value
    for key in ("c3", "c17", 7):
        del m[key]
    m["c3"] = "back"
    m["c5"] = "replaced"
    return m


def regenerate_fixtures() -> None:
    """Write the v1 fixtures (only when REGENERATE_SNAPSHOT_FIXTURES=1)."""
    rh, adaptive = _build_fixture_maps()
    FIXTURES.mkdir(exist_ok=True)
    save_snapshot(rh, FIXTURE_RH)
    save_snapshot(adaptive, FIXTURE_ADAPTIVE, key=FIXTURE_KEY)
    save_snapshot(_build_fixture_chaining(), FIXTURE_CHAINING)


if os.environ.get("REGENERATE_SNAPSHOT_FIXTURES") == "1":
    regenerate_fixtures()


def test_v1_fixture_robinhood() -> None:
    info = read_snapshot(FIXTURE_RH)
    assert (info.version, info.kind, info.signed, info.compressed) == (1, "robinhood", False, False)
    m = info.map
    m.check_invariants()
    assert dict(m.items()) == _fixture_rh_items()
    assert m.max_load_factor == 0.9  # its own, not today's default
    assert m.stats()["tombstones"] == 1
    assert m[b"\x00raw"][2] == (3, None)


def test_v1_fixture_adaptive_signed() -> None:
    with pytest.raises(BadInputError):
        load_snapshot(FIXTURE_ADAPTIVE)
    info = read_snapshot(FIXTURE_ADAPTIVE, key=FIXTURE_KEY)
    assert (info.version, info.kind, info.signed) == (1, "adaptive", True)
    m = info.map
    m.check_invariants()
    assert dict(m.items()) == _fixture_adaptive_items()
    assert m.hash_spec.name == "keyed"
    assert m.stats()["migration"] is not None, "the fixture was saved mid-migration"
    for i in range(30):  # it keeps working: finishes its migration and more
        m[f"more{i}"] = i
    m.check_invariants()
    assert len(m) == 11 + 30


def test_v1_fixtures_match_their_recipe() -> None:
    """Today's engine still writes the same bytes; if a deliberate format change breaks
    this, keep the old fixtures loading and regenerate new ones alongside."""
    rh, adaptive = _build_fixture_maps()
    assert snapshot_bytes(rh) == FIXTURE_RH.read_bytes()
    assert snapshot_bytes(adaptive, key=FIXTURE_KEY) == FIXTURE_ADAPTIVE.read_bytes()
    assert snapshot_bytes(_build_fixture_chaining()) == FIXTURE_CHAINING.read_bytes()


def test_v1_fixture_chaining_written_before_the_bucket_lists() -> None:
    """The old storage's snapshot loads into the new one as the same map: the same chains
    (layout), counters and order, and it saves back to the same bytes."""
    info = read_snapshot(FIXTURE_CHAINING)
    assert (info.version, info.kind, info.signed) == (1, "chaining", False)
    m = info.map
    m.check_invariants()
    recipe = _build_fixture_chaining()
    assert m.layout() == recipe.layout()
    assert m.stats() == recipe.stats()
    assert list(m.items()) == list(recipe.items())
    assert m.stats()["group_length_histogram"] == [[1, 15], [2, 6], [3, 5]]
    assert snapshot_bytes(m) == FIXTURE_CHAINING.read_bytes()
    for target in (m, recipe):  # and both go on alike
        for i in range(60):
            target[f"more{i}"] = i
            target.discard(f"c{i}")
    assert m.layout() == recipe.layout()
    m.check_invariants()


# --------------------------------------------------------------------------- CLI


def test_cli_ops_keep_state(tmp_path: Path) -> None:
    snap = tmp_path / "ops.snap"
    for args in (("put", "a", "1"), ("put", "b", "2"), ("put", "a", "3"), ("del", "b")):
        code, _, err = run_engine(*args, "--snapshot", snap)
        assert code == 0, err
    code, out, err = run_engine("--json", "get", "a", "--snapshot", snap)
    assert code == 0, err
    assert assert_ok(out, "get")["value"] == "3"
    code, out, err = run_engine("--json", "items", "--snapshot", snap)
    assert code == 0, err
    assert assert_ok(out, "items")["items"] == [["a", "3"]]
    code, out, _ = run_engine("del", "zz", "--snapshot", snap)
    assert (code, out.strip()) == (0, "0")


def test_cli_signed_ops_and_key_sources(tmp_path: Path) -> None:
    snap, keyfile = tmp_path / "s.snap", tmp_path / "key"
    keyfile.write_bytes(b"secret\n")
    code, _, err = run_engine("put", "k", "v", "--snapshot", snap, "--sign-key-file", keyfile)
    assert code == 0, err
    assert read_snapshot(snap, key=b"secret").signed
    results = run_engine_many(
        [
            ["get", "k", "--snapshot", snap],
            ["get", "k", "--snapshot", snap, "--sign-key-file", keyfile],
            ["verify-snapshot", "--in", snap],
        ],
        envs=[None, None, {"ADHASH_SIGN_KEY": "secret"}],
    )
    code, _, err = results[0]
    assert code == 2
    assert "key" in assert_envelope(err, "BadInput")["detail"]
    assert results[1][:2] == (0, "v\n"), results[1]
    assert results[2][0] == 0, results[2]


def test_cli_run_csv_snapshot_out_and_in(tmp_path: Path) -> None:
    first = write_rows(tmp_path / "one.csv", [("put", f"k{i}", str(i)) for i in range(20)])
    second = write_rows(
        tmp_path / "two.csv", [("del", "k0", ""), ("put", "k1", "x"), ("put", "z", "y")]
    )
    snap, after = tmp_path / "run.snap.gz", tmp_path / "after.snap"
    code, _, err = run_engine(
        "--backend", "adaptive", "run-csv", "--csv", first, "--snapshot-out", snap, "--compress"
    )
    assert code == 0, err
    info = read_snapshot(snap)
    assert info.compressed and len(info.map) == 20
    code, out, err = run_engine(
        "--json", "run-csv", "--csv", second, "--snapshot-in", snap, "--snapshot-out", after
    )
    assert code == 0, err
    summary = assert_ok(out, "run-csv")
    assert summary["final_size"] == 20 and summary["backend"] == "adaptive"
    m = load_snapshot(after)
    assert "k0" not in m and m["k1"] == "x" and m["z"] == "y" and m["k19"] == "19"


def _rh_with_duplicate() -> engine.BaseMap:
    """A Robin Hood map with one key stored twice, every other rule intact: the copy
    sits one slot after the original with DIB 1 (the counters are recomputed on load)."""
    m = engine.create_map("robinhood", capacity=64)
    for i in range(6):
        m[f"k{i}"] = i
    size = m.capacity
    for i in range(size):
        nxt = (i + 1) % size
        if m._dibs[i] == 0 and m._dibs[nxt] == -1:
            m._keys[nxt], m._vals[nxt] = m._keys[i], "copy"
            m._hashes[nxt], m._dibs[nxt] = m._hashes[i], 1
            return m
    raise AssertionError("no room for the duplicate")


def test_cli_inspect_verify_repair_compact(tmp_path: Path) -> None:
    good, dup, dib = tmp_path / "good.snap", tmp_path / "dup.snap", tmp_path / "dib.snap"
    tomb, compacted, repaired = tmp_path / "t.snap", tmp_path / "c.snap", tmp_path / "r.snap"
    m = engine.create_map("robinhood", capacity=16, deletion="tombstone")
    for i in range(8):
        m[f"k{i}"] = str(i)
    save_snapshot(m, good, compress=True)
    for i in range(0, 8, 2):
        del m[f"k{i}"]
    assert m.stats()["tombstones"] == 4
    save_snapshot(m, tomb)
    save_snapshot(_rh_with_duplicate(), dup)
    broken = engine.create_map("robinhood", capacity=16)
    broken["x"] = 1
    broken._dibs[next(i for i, d in enumerate(broken._dibs) if d >= 0)] += 1
    save_snapshot(broken, dib)

    calls = [
        ["--json", "inspect-snapshot", "--in", good, "--limit", "2", "--key", "k3"],
        ["verify-snapshot", "--in", good],
        ["--json", "verify-snapshot", "--in", dup],
        ["verify-snapshot", "--in", dib],
        ["--json", "verify-snapshot", "--in", dup, "--repair", "--out", repaired],
        ["--json", "compact-snapshot", "--in", tomb, "--out", compacted],
    ]
    (insp, ok, bad_dup, bad_dib, repair, compact) = run_engine_many(calls)

    code, out, err = insp
    assert code == 0, err
    data = assert_ok(out, "inspect-snapshot")
    assert data["backend"] == "robinhood" and data["compressed"] and data["size"] == 8
    assert len(data["items"]) == 2 and data["checksum_ok"] is True
    assert data["key"]["found"] and data["key"]["value"] == "3"
    assert "slot" in data["key"]["where"]
    assert ok[0] == 0 and "OK" in ok[1], ok

    assert bad_dup[0] == 3, bad_dup
    assert "unique-keys" in assert_envelope(bad_dup[2], "Invariant")["detail"]
    assert bad_dib[0] == 3, bad_dib
    assert "dib-matches-home" in assert_envelope(bad_dib[2], "Invariant")["detail"]

    code, out, err = repair
    assert code == 0, err
    report = assert_ok(out, "verify-snapshot")
    assert report["consistent"] is False and report["broken"] == "unique-keys"
    assert report["kept"] == 6 and len(report["dropped"]) == 1
    assert "duplicate" in report["dropped"][0]
    fixed = load_snapshot(repaired)
    assert dict(fixed.items()) == {f"k{i}": i for i in range(6)}

    code, out, err = compact
    assert code == 0, err
    assert assert_ok(out, "compact-snapshot")["tombstones_removed"] == 4

    after = run_engine_many(
        [
            ["verify-snapshot", "--in", repaired],
            ["--json", "inspect-snapshot", "--in", compacted],
            ["--json", "inspect-snapshot", "--in", tomb],
        ]
    )
    assert after[0][0] == 0, after[0]
    assert assert_ok(after[1][1], "inspect-snapshot")["tombstones"] == 0
    assert assert_ok(after[2][1], "inspect-snapshot")["tombstones"] == 4
    assert dict(load_snapshot(compacted).items()) == {f"k{i}": str(i) for i in range(1, 8, 2)}


def test_cli_snapshot_errors(tmp_path: Path) -> None:
    good = tmp_path / "good.snap"
    save_snapshot(_small_map(), good)
    magic = tmp_path / "magic.snap"
    magic.write_bytes(b"NOTASNAP" + good.read_bytes()[8:])
    truncated = tmp_path / "trunc.snap"
    truncated.write_bytes(good.read_bytes()[:-5])
    short = tmp_path / "short.snap"
    short.write_bytes(good.read_bytes()[:20])
    signed = tmp_path / "signed.snap"
    save_snapshot(_small_map(), signed, key=b"k")
    gz = tmp_path / "cut.snap.gz"
    gz.write_bytes(reseal(gzip.compress(b"{}" * 100, mtime=0)[:-9], 2, flags=1))
    cases = [
        (["verify-snapshot", "--in", tmp_path / "missing.snap"], 5, "IO"),
        (["inspect-snapshot", "--in", magic], 2, "BadInput"),
        (["verify-snapshot", "--in", truncated], 2, "BadInput"),
        (["verify-snapshot", "--in", short], 2, "BadInput"),
        (["inspect-snapshot", "--in", signed], 2, "BadInput"),
        (["verify-snapshot", "--in", gz], 2, "BadInput"),
        (["get", "a", "--snapshot", magic], 2, "BadInput"),
        (["verify-snapshot", "--in", good, "--repair"], 2, "BadInput"),
    ]
    results = run_engine_many([args for args, _, _ in cases])
    for (args, want, envelope), (code, _, err) in zip(cases, results, strict=True):
        assert code == want, (args, code, err)
        assert_envelope(err, envelope)
    assert "magic" in json.loads(results[1][2])["detail"]
    assert "key" in json.loads(results[4][2])["detail"]


@pytest.mark.parametrize("kind", ["robinhood", "chaining", "adaptive"])
def test_a_state_naming_no_hash_means_the_v1_default_fast(kind: str) -> None:
    """Snapshots always name their hash; one that does not was written when ``fast`` was
    the default, so it must load with ``fast`` (with crc32 every home would be wrong)."""
    from engine.store.state import map_from_state, map_to_state

    m = engine.create_map(kind, hash="fast")
    for i in range(40):
        m[f"key{i}"] = i
    state = map_to_state(m)
    del state["options"]["hash"]
    if kind == "adaptive":
        del state["active"]["options"]["hash"]
    loaded = map_from_state(state)
    assert loaded.hash_spec.name == "fast"
    loaded.check_invariants()
    assert dict(loaded.items()) == dict(m.items())
