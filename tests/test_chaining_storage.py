"""The chaining map's storage: one flat tuple per bucket, ``(key, value, group, ...)``, its
cells' chains one after another in group order, made by a bucket's first entry, replaced
at each change and dropped with its last; growth in place; the snapshot encoding read
back into it.

Behaviour is held elsewhere (the dict model in test_stateful, the kernels against single
operations in test_batch_kernels, rebuilds in test_rebuild); this file holds the layout of
the storage itself and checks it against a plain model of the cells: a list of keys per
cell, appended to on insertion, unlinked on deletion and re-linked cell by cell on growth,
which is what ``layout()`` described before the storage changed.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from engine.errors import InvariantError
from engine.jsonsafe import encode_key
from engine.maps.chaining import ChainingMap
from engine.maps.kernels import find_in_bucket
from engine.store.state import map_from_state, map_to_state


def _group(m: ChainingMap, key: Any) -> int:
    return m._hashfn(key) >> m._gshift


def _cell(m: ChainingMap, key: Any) -> int:
    h = m._hashfn(key)
    return ((h & m._mask) << m._gbits) | (h >> m._gshift)


def test_buckets_are_made_by_their_first_entry_and_dropped_with_their_last() -> None:
    m = ChainingMap(capacity=8, groups=4)
    assert m._buckets == [None] * 8, "an empty table holds no lists, one slot per bucket"
    m["a"] = 1
    b = m._hashfn("a") & m._mask
    assert m._buckets[b] == ("a", 1, _group(m, "a"))
    first = m._buckets[b]
    m["a"] = 2  # a new tuple: the old one, which a copy may share, is left as it was
    assert m._buckets[b] == ("a", 2, _group(m, "a")) and first == ("a", 1, _group(m, "a"))
    assert sum(chain is not None for chain in m._buckets) == 1
    del m["a"]
    assert m._buckets == [None] * 8
    m.check_invariants()


def test_a_bucket_lists_its_cells_in_group_order_each_chain_in_insertion_order() -> None:
    m = ChainingMap(capacity=1, groups=4, max_load_factor=8.0)  # one bucket, no growth
    keys = [f"k{i}" for i in range(8)]
    for i, key in enumerate(keys):
        m[key] = i
    chain = m._buckets[0]
    assert chain is not None and len(chain) == 3 * len(keys)
    groups = chain[2::3]
    assert list(groups) == sorted(groups) and len(set(groups)) == 4
    for g in range(4):  # each cell's keys in the order they were inserted
        assert [k for k in chain[0::3] if _group(m, k) == g] == [
            k for k in keys if _group(m, k) == g
        ]
    assert list(chain[1::3]) == [int(k[1:]) for k in chain[0::3]]
    m.check_invariants()


class CellModel:
    """The chains as lists of keys per cell, the way the map used to store them."""

    def __init__(self, m: ChainingMap) -> None:
        self.m = m
        self.capacity = m.capacity
        self.cells: dict[int, list[Any]] = {}

    def cell(self, key: Any) -> int:
        h = self.m._hashfn(key)
        return ((h & (self.capacity - 1)) << self.m._gbits) | (h >> self.m._gshift)

    def sync_capacity(self) -> None:
        if self.m.capacity != self.capacity:  # re-link every entry, cell by cell
            old = [key for c in sorted(self.cells) for key in self.cells[c]]
            self.capacity, self.cells = self.m.capacity, {}
            for key in old:
                self.cells.setdefault(self.cell(key), []).append(key)

    def put(self, key: Any) -> None:
        chain = self.cells.get(self.cell(key), [])
        if key not in chain:
            self.cells.setdefault(self.cell(key), []).append(key)

    def discard(self, key: Any) -> None:
        c = self.cell(key)
        if key in self.cells.get(c, []):
            self.cells[c].remove(key)
            if not self.cells[c]:
                del self.cells[c]


@pytest.mark.parametrize("seed", range(40))
def test_layout_and_probes_match_a_list_per_cell(seed: int) -> None:
    rng = random.Random(seed)
    m = ChainingMap(
        capacity=rng.choice([1, 2, 8]),
        groups=rng.choice([1, 2, 4, 8]),
        max_load_factor=rng.choice([0.5, 0.75, 2.0, 6.0]),
        hash=rng.choice(["crc32", "fast"]),
    )
    model = CellModel(m)
    space = rng.choice([30, 300])
    for _ in range(rng.randrange(50, 1500)):
        key = rng.choice(
            [f"k{rng.randrange(space)}", rng.randrange(space), b"%d" % rng.randrange(9)]
        )
        if rng.random() < 0.6:
            m[key] = 0
            model.sync_capacity()
            model.put(key)
        else:
            chain = model.cells.get(model.cell(key), [])
            m.discard(key)
            # the probes of a delete are those of a scan of the key's cell alone
            expected = chain.index(key) + 1 if key in chain else len(chain)
            assert m._probes == expected
            model.discard(key)
    model.sync_capacity()
    layout = m.layout()
    cells = {}
    for b, bucket in enumerate(layout["buckets"]):
        assert len(bucket) == m.groups
        for g, entries in enumerate(bucket):
            if entries:
                cells[(b << m._gbits) | g] = entries
    assert sorted(cells) == sorted(model.cells)
    for c, entries in cells.items():
        keys = [model.cell(k) for k in model.cells[c]]
        assert keys == [c] * len(keys)
        assert [e["hash"] for e in entries] == [m._hashfn(k) for k in model.cells[c]]
        assert [e["key"] for e in entries] == [encode_key(k) for k in model.cells[c]]
    m.check_invariants()


def test_find_in_bucket_scans_the_keys_cell_alone() -> None:
    rng = random.Random(5)
    for _ in range(300):
        groups = [rng.randrange(4) for _ in range(rng.randrange(1, 7))]
        groups.sort()
        chain: list[Any] = []
        for i, g in enumerate(groups):
            chain += [f"k{i}", i, g]
        key, g = f"k{rng.randrange(8)}", rng.randrange(4)
        cell = [chain[i] for i in range(0, len(chain), 3) if chain[i + 2] == g]
        j, p = find_in_bucket(tuple(chain), key, g)
        if key in cell:
            assert (chain[j], p) == (key, cell.index(key) + 1)
            assert chain[j + 2] == g
        else:
            assert (j, p) == (-1, len(cell))


def test_growth_extends_the_bucket_list_in_place_and_moves_lone_entries_whole() -> None:
    m = ChainingMap(capacity=4, groups=2, max_load_factor=1.0)
    for i in range(4):
        m[f"k{i}"] = i
    buckets = m._buckets
    lists = {id(chain): chain for chain in buckets if chain is not None}
    lone = {chain[0]: chain for chain in buckets if chain is not None and len(chain) == 3}
    m["k4"] = 4  # the fifth entry grows the table to 8 buckets
    assert m.capacity == 8 and m._buckets is buckets and len(buckets) == 8
    for key, chain in lone.items():  # a bucket of one entry moves as the same list
        assert buckets[m._hashfn(key) & m._mask] is chain
    assert lists  # (kept alive, so identities are not reused)
    m.check_invariants()


def test_only_the_group_of_each_hash_is_stored() -> None:
    m = ChainingMap(capacity=8, groups=4)
    for i in range(200):
        m[f"key{i}"] = None
    for chain in m._buckets:
        if chain is not None:
            assert all(type(g) is int and 0 <= g < 4 for g in chain[2::3])
    layout = m.layout()  # the full hash is recomputed for the layout
    assert all(
        entry["hash"] == m._hashfn(entry["key"])
        for bucket in layout["buckets"]
        for cell in bucket
        for entry in cell
    )


# --------------------------------------------------------------------------- snapshots


def _state(capacity: int = 4) -> dict[str, Any]:
    m = ChainingMap(capacity=capacity, groups=4, max_load_factor=4.0)
    for i in range(30):
        m[f"s{i}"] = i
    return map_to_state(m)


def test_state_lists_cells_in_order_and_loads_from_any_order() -> None:
    state = _state()
    numbers = [c for c, _ in state["cells"]]
    assert numbers == sorted(numbers)
    shuffled = dict(state, cells=list(reversed(state["cells"])))
    loaded = map_from_state(shuffled)
    loaded.check_invariants()
    assert map_to_state(loaded) == state
    original = map_from_state(state)
    assert loaded.layout() == original.layout()
    assert list(loaded.items()) == list(original.items())


def test_a_stored_hash_that_is_not_the_keys_is_refused_at_load() -> None:
    state = _state()
    state["cells"][0][1][0][1] ^= 1 << 8  # same cell, another hash
    with pytest.raises(InvariantError, match="hash-matches-key"):
        map_from_state(state)


@pytest.mark.parametrize("same_group", [True, False])
def test_an_entry_in_another_cell_loads_and_fails_the_check(same_group: bool) -> None:
    """A misplaced entry is representable (verify-snapshot --repair can rebuild it)."""
    state = _state(capacity=32)
    total = 32 * 4
    used = {c for c, _ in state["cells"]}
    c, entries = state["cells"][0]
    free = next(
        x
        for x in range(total)
        if x not in used and x >> 2 != c >> 2 and (x % 4 == c % 4) == same_group
    )
    state["cells"].append([free, [entries.pop()]])
    if not entries:
        state["cells"].pop(0)
    m = map_from_state(state)
    with pytest.raises(InvariantError, match="entry-in-bucket"):
        m.check_invariants()
