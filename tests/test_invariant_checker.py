"""``check_invariants()`` catches real corruption and names the rule it broke.

Each test builds a valid map, checks it passes, corrupts one thing through the internals,
and asserts the exact ``InvariantError.invariant``.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest

import engine
from engine import AdaptiveMap, ChainingMap, InvariantError, RobinHoodMap
from engine.maps.robinhood import TOMBSTONE
from engine.store.state import map_from_state, map_to_state


def assert_broken(m: engine.BaseMap, invariant: str) -> InvariantError:
    """``check_invariants`` raises naming ``invariant``."""
    with pytest.raises(InvariantError) as got:
        m.check_invariants()
    assert got.value.invariant == invariant, got.value
    assert got.value.detail.startswith(invariant)
    return got.value


def keys_with_home(home: int, capacity: int, count: int, prefix: str = "k") -> list[str]:
    """The first ``count`` keys ``prefix<n>`` whose fast hash has home slot ``home``."""
    found = []
    n = 0
    while len(found) < count:
        key = f"{prefix}{n}"
        if engine.crc32_hash(key) & (capacity - 1) == home:
            found.append(key)
        n += 1
    return found


# --------------------------------------------------------------------------- Robin Hood


def _robinhood(deletion: str = "backshift") -> RobinHoodMap:
    m = RobinHoodMap(capacity=32, deletion=deletion)
    for i in range(24):
        m[f"key{i}"] = i
    if deletion == "tombstone":
        for i in range(0, 24, 5):
            del m[f"key{i}"]
        assert m.tombstones > 0
    m.check_invariants()
    return m


def _live_slots(m: RobinHoodMap) -> list[int]:
    return [i for i in range(m.capacity) if m._dibs[i] >= 0 and m._keys[i] is not TOMBSTONE]


def test_rh_wrong_dib() -> None:
    """A stored DIB that disagrees with the slot's distance from the hash's home."""
    m = _robinhood()
    m._dibs[_live_slots(m)[3]] += 1
    assert_broken(m, "dib-matches-home")


def test_rh_key_stored_twice() -> None:
    """A duplicate placed where it would be legal (correct DIB, order kept) breaks only
    key uniqueness."""
    m = _robinhood()
    mask = m.capacity - 1
    i = next(s for s in _live_slots(m) if m._dibs[(s + 1) & mask] < 0)
    j = (i + 1) & mask
    m._keys[j], m._vals[j], m._hashes[j] = m._keys[i], "dup", m._hashes[i]
    m._dibs[j] = m._dibs[i] + 1  # one step further from the same home
    assert_broken(m, "unique-keys")


def test_rh_order_broken_by_swapping_cluster_entries() -> None:
    """Swapping two entries of a cluster (DIBs recomputed for their new slots) breaks the
    Robin Hood order, and the displaced key becomes unreachable."""
    m = RobinHoodMap(capacity=16)
    a, b = keys_with_home(3, 16, 2)
    (c,) = keys_with_home(4, 16, 1, prefix="c")
    for key in (a, b, c):
        m[key] = key.upper()
    slots = m.layout()["slots"]
    assert [(s["key"], s["dib"]) for s in slots[3:6]] == [(a, 0), (b, 1), (c, 1)]
    m.check_invariants()
    # swap slots 4 and 5: c goes home (DIB 0), b moves two past its home (DIB 2)
    for arr in (m._keys, m._vals, m._hashes):
        arr[4], arr[5] = arr[5], arr[4]
    m._dibs[4], m._dibs[5] = 0, 2
    assert_broken(m, "robin-hood-order")
    assert m.get(b) is None  # a lookup stops at c's DIB 0 before reaching b


def test_rh_size_counter_wrong() -> None:
    """The size counter disagrees with the live slots."""
    m = _robinhood()
    m._size += 1
    assert_broken(m, "size-matches")


def test_rh_stale_hash() -> None:
    """A stored hash that is not the key's (same home, so only the hash check can tell)."""
    m = _robinhood()
    i = _live_slots(m)[0]
    m._hashes[i] ^= 1 << 63
    assert_broken(m, "hash-matches-key")


def test_rh_tombstone_counter_wrong() -> None:
    """The tombstone counter disagrees with the tombstones in the table."""
    m = _robinhood("tombstone")
    m._tombstones -= 1
    assert_broken(m, "tombstone-count")


def test_rh_key_in_empty_slot() -> None:
    """A key left in a slot marked empty."""
    m = _robinhood()
    i = next(s for s in range(m.capacity) if m._dibs[s] < 0)
    m._keys[i] = "ghost"
    assert_broken(m, "empty-slot")


def test_rh_dib_sum_counter_wrong() -> None:
    """The kept DIB sum (behind ``avg_probe``) disagrees with the table."""
    m = _robinhood()
    m._dib_sum += 1
    assert_broken(m, "probe-counters")


def test_rh_max_dib_counter_wrong() -> None:
    """The count of slots at the kept maximum DIB (behind an O(1) ``max_probe``) is off:
    one more would report a maximum no slot holds once the real ones are gone."""
    m = _robinhood()
    assert m.max_probe > 0  # the kept maximum is exact now
    m._dib_top += 1
    assert_broken(m, "probe-counters")


def test_rh_max_probe_follows_deletions() -> None:
    """``max_probe`` stays exact while backward shifts lower the longest probes."""
    m = RobinHoodMap(capacity=64, max_load_factor=0.9)
    keys = keys_with_home(5, 64, 6)
    for key in keys:
        m[key] = 1
    assert m.max_probe == 6
    for gone, key in enumerate(keys, start=1):
        del m[key]
        m.check_invariants()
        assert m.max_probe == (6 - gone if gone < 6 else 0)


def test_rh_over_the_load_limit() -> None:
    """More used slots than the load limit allows."""
    m = _robinhood()
    m._limit = len(m) - 1
    assert_broken(m, "load-limit")


# --------------------------------------------------------------------------- chaining


def _chaining() -> ChainingMap:
    m = ChainingMap(capacity=4, groups=4, max_load_factor=2.0)
    for i in range(8):
        m[f"key{i}"] = i
    m.check_invariants()
    return m


def _used_buckets(m: ChainingMap) -> list[int]:
    return [b for b, chain in enumerate(m._buckets) if chain]


def _edited(m: ChainingMap, b: int) -> list[Any]:
    """Bucket ``b``'s entries as a list to change; :func:`_store` puts it back."""
    return list(m._buckets[b] or ())


def _store(m: ChainingMap, b: int, chain: list[Any]) -> None:
    m._buckets[b] = tuple(chain) if chain else None


def test_chaining_entry_in_wrong_bucket() -> None:
    """An entry (key, value, group) moved into another bucket, its group kept."""
    m = _chaining()
    src = _used_buckets(m)[0]
    dst = (src + 1) % m.capacity
    chain = _edited(m, src)
    entry = chain[-3:]
    del chain[-3:]
    _store(m, src, chain)
    target = _edited(m, dst)
    # behind the entries of its group and lower ones, so groups stay in order
    at = next((i for i in range(0, len(target), 3) if target[i + 2] > entry[2]), len(target))
    target[at:at] = entry
    _store(m, dst, target)
    assert_broken(m, "entry-in-bucket")


def test_chaining_duplicate_key() -> None:
    """The same key twice in its (correct) chain."""
    m = _chaining()
    b = _used_buckets(m)[0]
    chain = _edited(m, b)
    chain[3:3] = [chain[0], "dup", chain[2]]
    _store(m, b, chain)
    assert_broken(m, "unique-keys")


def test_chaining_size_counter_wrong() -> None:
    """The size counter disagrees with the chains."""
    m = _chaining()
    m._size -= 1
    assert_broken(m, "size-matches")


def test_chaining_wrong_group() -> None:
    """A stored group (the hash's top bits kept with each entry, so the cell it sits in)
    that is not the key's: the entry is in the wrong cell of its bucket."""
    m = _chaining()
    b = _used_buckets(m)[0]
    chain = _edited(m, b)
    chain[2] = (chain[2] + 1) % m.groups
    chain[2::3] = sorted(chain[2::3])  # still in order: only the group itself is wrong
    _store(m, b, chain)
    assert_broken(m, "entry-in-bucket")


def test_chaining_stale_hash_in_a_snapshot() -> None:
    """A saved hash that is not the key's (its bucket and group bits unchanged): the map
    keeps no hash to hold it, so loading refuses it under the same invariant."""
    state = map_to_state(_chaining())
    state["cells"][0][1][0][1] ^= 1 << 20
    with pytest.raises(InvariantError) as caught:
        map_from_state(state)
    assert caught.value.invariant == "hash-matches-key"


def test_chaining_half_empty_cell() -> None:
    """A bucket tuple that does not hold whole (key, value, group) entries."""
    m = _chaining()
    b = _used_buckets(m)[0]
    m._buckets[b] = m._buckets[b][:-1]  # type: ignore[index]
    assert_broken(m, "cell-shape")


def test_chaining_bucket_that_is_a_list() -> None:
    """A bucket is a tuple, never a list (a copy shares the buckets, so none may change
    in place)."""
    m = _chaining()
    b = _used_buckets(m)[0]
    m._buckets[b] = list(m._buckets[b])  # type: ignore[arg-type]
    assert_broken(m, "cell-shape")


def test_chaining_groups_out_of_order() -> None:
    """A bucket's chains must follow group order (iteration, layouts and snapshots
    read them in that order)."""
    m = ChainingMap(capacity=1, groups=4, max_load_factor=8.0)
    for i in range(8):
        m[f"key{i}"] = i
    chain = m._buckets[0]
    assert chain is not None and len(set(chain[2::3])) > 1
    entries = [chain[i : i + 3] for i in range(0, len(chain), 3)]
    entries.sort(key=lambda e: -e[2])
    m._buckets[0] = tuple(x for e in entries for x in e)
    assert_broken(m, "cell-shape")


def test_chaining_empty_bucket_list() -> None:
    """An empty bucket is None, never an empty tuple."""
    m = ChainingMap(capacity=16, groups=4)
    m["a"] = 1
    m.check_invariants()
    m._buckets[next(b for b, chain in enumerate(m._buckets) if chain is None)] = ()
    assert_broken(m, "cell-shape")


def test_chaining_chain_counters_wrong() -> None:
    """The kept comparison sum (behind ``avg_probe``) disagrees with the chains."""
    m = _chaining()
    m._compare_sum += 1
    assert_broken(m, "probe-counters")


# --------------------------------------------------------------------------- adaptive


def _migrating(initial: str) -> AdaptiveMap:
    """An adaptive map a quarter or more through a migration, valid."""
    m = AdaptiveMap(
        capacity=8,
        initial_backend=initial,
        migration_batch=2,
        guardrails=engine.GuardrailConfig(min_entries=10**6),
    )
    for i in range(40):
        m[f"key{i}"] = i
    m.migrate_to("robinhood" if initial == "chaining" else "chaining")
    assert m._migration is not None
    while m._migration.cursor < m._migration.positions // 4:
        m.get("key0")
    assert m.migrating
    assert len(m._migration.source) and len(m._migration.target)
    m.check_invariants()
    return m


DIRECTIONS = ["chaining", "robinhood"]


@pytest.mark.parametrize("initial", DIRECTIONS)
def test_adaptive_key_in_both_tables(initial: str) -> None:
    """A key still in the source inserted into the target as well."""
    m = _migrating(initial)
    mig = m._migration
    assert mig is not None
    key, value = next(iter(mig.source._iter_entries()))
    mig.target._insert_absent(key, m._hashfn(key), value)
    mig.target.check_invariants()  # each table is fine on its own
    assert_broken(m, "unique-across-tables")


def _position(table: engine.BaseMap, key: Any, h: int) -> int:
    """Where ``key`` sits in a source table, in the migration cursor's units."""
    if isinstance(table, RobinHoodMap):
        return table._find_slot(key, h)
    assert isinstance(table, ChainingMap)
    return table._cell(h)


@pytest.mark.parametrize("initial", DIRECTIONS)
def test_adaptive_entry_behind_the_cursor(initial: str) -> None:
    """A new entry in the source at a position the cursor has already passed."""
    m = _migrating(initial)
    cursor = m._migration.cursor  # type: ignore[union-attr]
    for n in range(10_000):
        corrupt = m.copy()
        mig = corrupt._migration
        assert mig is not None
        key = f"late{n}"
        h = corrupt._hashfn(key)
        mig.source._insert_absent(key, h, n)
        if _position(mig.source, key, h) < cursor:
            break
    else:
        pytest.fail("no key lands behind the cursor")
    mig.source.check_invariants()  # the source table is fine on its own
    assert_broken(corrupt, "cursor-consistent")
    with pytest.raises(InvariantError) as got:
        corrupt.finish_migration()  # the migration would strand the entry
    assert got.value.invariant == "migration-complete"


@pytest.mark.parametrize("initial", DIRECTIONS)
def test_adaptive_cursor_past_the_source_is_a_verdict(initial: str) -> None:
    """A cursor beyond the source's last position (a corrupt snapshot can say so) gets a
    verdict from the checker, not an IndexError: the entries still in the source are
    then all behind it."""
    m = _migrating(initial)
    mig = m._migration
    assert mig is not None
    mig.cursor = mig.positions + 5
    assert_broken(m, "cursor-consistent")


@pytest.mark.parametrize("initial", DIRECTIONS)
def test_adaptive_progress_beyond_total(initial: str) -> None:
    """The migration claims to have moved more entries than there were."""
    m = _migrating(initial)
    m._migration.moved = m._migration.total + 1  # type: ignore[union-attr]
    assert_broken(m, "migration-progress")


@pytest.mark.parametrize("initial", DIRECTIONS)
def test_adaptive_backend_with_another_hash(initial: str) -> None:
    """A table whose hash spec differs from the map's."""
    m = _migrating(initial)
    m._migration.target._hash_spec = engine.HashSpec.create("keyed", 1)  # type: ignore[union-attr]
    assert_broken(m, "hash-spec")


@pytest.mark.parametrize(
    ("attr", "delta", "invariant"),
    [("_size", 1, "size-matches"), ("_limit", -1000, "load-limit")],
)
@pytest.mark.parametrize("initial", DIRECTIONS)
@pytest.mark.parametrize("role", ["source", "target"])
def test_adaptive_checks_each_table(
    initial: str, role: str, attr: str, delta: int, invariant: str
) -> None:
    """A broken source or target table is reported through the adaptive map."""
    m = _migrating(initial)
    table = getattr(m._migration, role)
    setattr(table, attr, getattr(table, attr) + delta)
    assert_broken(table, invariant)
    assert_broken(m, invariant)


@pytest.mark.parametrize("deletion", ["backshift", "tombstone"])
@pytest.mark.parametrize("seed", range(5))
def test_rh_dib_histogram_counts_the_live_entries(deletion: str, seed: int) -> None:
    """``dib_histogram`` (counted in C) agrees with the live slots of ``layout()``."""
    rng = random.Random(seed)
    m = RobinHoodMap(capacity=8, max_load_factor=0.9, deletion=deletion)
    for _ in range(600):
        key = f"k{rng.randrange(200)}"
        if rng.random() < 0.65:
            m[key] = 1
        else:
            m.discard(key)
    live = Counter(s["dib"] for s in m.layout()["slots"] if s["state"] == "occupied")
    assert m.dib_histogram() == sorted([d, n] for d, n in live.items())
    assert sum(n for _, n in m.dib_histogram()) == len(m)
