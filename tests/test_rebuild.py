"""Table rebuilds (growth, compaction, reserve) are written out with the table in locals;
they must leave exactly what placing every entry again, one by one, would leave."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from engine.maps.chaining import ChainingMap
from engine.maps.robinhood import TOMBSTONE, RobinHoodMap


def _fill(m: Any, rng: random.Random) -> None:
    for _ in range(rng.randrange(1, 500)):
        key = rng.choice([f"k{rng.randrange(300)}", rng.randrange(400), b"b%d" % rng.randrange(60)])
        if rng.random() < 0.7:
            m[key] = rng.random()
        else:
            m.discard(key)


def _counters(m: Any) -> tuple[Any, ...]:
    if isinstance(m, ChainingMap):
        return (list(m._chain_hist), m._compare_sum, m._chain_max)
    return (m._dib_sum, m._dib_max, m._dib_top, m._tombstones)


@pytest.mark.parametrize("seed", range(150))
def test_robinhood_rebuild_equals_placing_entries_again(seed: int) -> None:
    rng = random.Random(seed)
    m = RobinHoodMap(1, deletion=rng.choice(["tombstone", "backshift"]), max_load_factor=0.9)
    _fill(m, rng)
    capacity = m.capacity * rng.choice([1, 2, 4])
    expected = RobinHoodMap(capacity, deletion=m.deletion, max_load_factor=0.9)
    for i in range(m.capacity):
        if m._dibs[i] >= 0 and m._keys[i] is not TOMBSTONE:
            expected._place_from(m._hashes[i] & (capacity - 1), 0, m._keys[i], m._hashes[i], 1)
            expected._size += 1
    m._rebuild(capacity, "reserve")
    for i in range(capacity):  # values aside (the expected map holds 1s)
        assert (m._keys[i], m._hashes[i], m._dibs[i]) == (
            expected._keys[i],
            expected._hashes[i],
            expected._dibs[i],
        )
    assert _counters(m) == _counters(expected)
    m.check_invariants()


@pytest.mark.parametrize("seed", range(150))
def test_chaining_rebuild_equals_appending_entries_again(seed: int) -> None:
    rng = random.Random(seed)
    m = ChainingMap(1, groups=rng.choice([1, 2, 4]), max_load_factor=rng.choice([0.5, 2.0]))
    _fill(m, rng)
    capacity = m.capacity * rng.choice([2, 4])
    expected = ChainingMap(capacity, groups=m.groups, max_load_factor=m.max_load_factor)
    for key, value in m._iter_entries():  # cell by cell, each chain in order
        expected._insert_absent(key, m._hashfn(key), value)
    mask = capacity - 1
    whole = {}  # the buckets whose entries all go to one new bucket: the list moves
    for chain in m._buckets:
        if chain is not None:
            dest = {m._hashfn(key) & mask for key in chain[0::3]}
            if len(dest) == 1:
                whole[dest.pop()] = chain
    m._rebuild(capacity, "reserve")
    assert json.dumps(m.layout()["buckets"]) == json.dumps(expected.layout()["buckets"])
    assert m._buckets == expected._buckets  # the flat lists too, entry for entry
    assert _counters(m) == _counters(expected)
    m.check_invariants()
    assert all(m._buckets[b] is chain for b, chain in whole.items())
