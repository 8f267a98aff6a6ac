"""``apply_rows`` (the batch kernels of :mod:`engine.maps.kernels` and the adaptive map's use
of them) against one ``get``/``put``/``discard`` per row: same layout, stats, history and
counts, whatever the chunking, the column order or the rows it must leave to the caller."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import MAP_FACTORIES, MapFactory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from engine.maps.base import MISSING
from engine.maps.batch import RowBatch, apply_rows_generic

Row = list[str]

#: Keys that share hashes' low bits, need surrogatepass (a lone surrogate) or are empty.
KEYS = ["a", "b", "c", "k1", "k2", "é", "日本", "\ud800", "x" * 30, "", "a\0"]
OPS = ["get", "get", "put", "put", "del", "bad"]

row_strategy = st.one_of(
    st.tuples(st.sampled_from(OPS), st.sampled_from(KEYS), st.sampled_from(["", "v", "w\0"])).map(
        list
    ),
    st.just([]),  # a blank line
    st.just(["get", "a"]),  # a wrong column count
)


def dumps(m: engine.BaseMap) -> str:
    return json.dumps(m.layout(), sort_keys=True)


def reference(m: engine.BaseMap, row: Row) -> str | None:
    """One operation per valid row; the op name, or None for a row the batch leaves."""
    if len(row) != 3:
        return None
    op, key, value = row
    if not key or "\0" in key or "\0" in value or op not in ("get", "put", "del"):
        return None
    if op != "put" and value:
        return None
    if op == "get":
        m.get(key, MISSING)
    elif op == "put":
        m.put(key, value)
    else:
        m.discard(key)
    return op


def permuted(rows: list[Row], order: tuple[int, int, int]) -> Iterator[Row]:
    """The rows with (op, key, value) stored at positions ``order``."""
    for row in rows:
        if len(row) != 3:
            yield row
            continue
        out = ["", "", ""]
        for value, position in zip(row, order, strict=True):
            out[position] = value
        yield out


def run_batches(m: engine.BaseMap, rows: list[Row], stops: list[int], order: Any) -> RowBatch:
    """Apply every row through ``apply_rows`` in chunks ending before each stop; rows it
    leaves pending are applied (or skipped when malformed) one at a time."""
    batch = RowBatch(permuted(rows, order), order)
    stops = sorted(stops)
    while True:
        batch.stop = stops.pop(0) if stops else 1 << 40
        m.apply_rows(batch)
        row = batch.pending
        if row is None:
            if batch.exhausted:
                return batch
            continue
        batch.pending = None
        if len(row) == 3:
            row = [row[order[0]], row[order[1]], row[order[2]]]
        if reference(m, row) is not None:
            batch.applied += 1
        # else malformed: a replay would stop with a diagnostic; the test skips the row


@pytest.mark.parametrize("factory", MAP_FACTORIES, ids=[f.id for f in MAP_FACTORIES])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(row_strategy, max_size=120),
    stops=st.lists(st.integers(1, 130), max_size=6),
    order=st.permutations([0, 1, 2]).map(tuple),
)
def test_batches_match_one_operation_per_row(
    factory: MapFactory, rows: list[Row], stops: list[int], order: tuple[int, int, int]
) -> None:
    batched, single = factory(), factory()
    counts = {"get": 0, "put": 0, "del": 0}
    for row in rows:
        op = reference(single, row)
        if op is not None:
            counts[op] += 1
    batch = run_batches(batched, rows, stops, order)
    assert dumps(batched) == dumps(single)
    assert batched.stats() == single.stats()
    assert batched.history() == single.history()
    stats = single.stats()
    applied = batch.gets + batch.puts + batch.dels
    assert applied <= sum(counts.values())
    assert batch.applied == sum(counts.values())
    assert stats["ops"]["total"] == sum(counts.values())
    batched.check_invariants()


@pytest.mark.parametrize("factory", MAP_FACTORIES, ids=[f.id for f in MAP_FACTORIES])
@pytest.mark.parametrize("seed", range(30))
def test_batches_match_on_growing_tables(factory: MapFactory, seed: int) -> None:
    """Valid rows over a key space wide enough that the table grows while it holds
    tombstones, and is read and written right after: the kernel must read the new table."""
    rng = random.Random(seed)
    rows = []
    for _ in range(rng.randrange(20, 120)):
        op = rng.choice(["put", "put", "get", "del"])
        rows.append([op, f"k{rng.randrange(40)}", "v" if op == "put" else ""])
    batched, single = factory(), factory()
    for row in rows:
        reference(single, row)
    run_batches(batched, rows, [], (0, 1, 2))
    assert dumps(batched) == dumps(single)
    assert batched.stats() == single.stats()
    assert batched.history() == single.history()
    batched.check_invariants()


@pytest.mark.parametrize("groups", [1, 2, 4])
@pytest.mark.parametrize("load", [0.75, 8.0])
def test_chaining_kernel_on_long_buckets(groups: int, load: float) -> None:
    """The chaining kernel inlines buckets of one and two entries and the insertion into
    an empty bucket; a load of 8 keys per bucket also sends most rows through the shared
    bucket scan. Row for row, the same table, counters and history as single operations,
    with the adaptive hook's flushes (an ``on_write``) and without."""
    rng = random.Random(groups * 10 + int(load))
    rows = []
    for _ in range(4000):
        op = rng.choice(["get", "get", "get", "put", "put", "del"])
        rows.append([op, f"k{rng.randrange(500)}", f"v{rng.randrange(9)}" if op == "put" else ""])
    options = {"capacity": 1, "groups": groups, "max_load_factor": load}
    single = engine.create_map("chaining", **options)
    for row in rows:
        reference(single, row)
    for hook in (None, lambda: False):
        batched = engine.create_map("chaining", **options)
        batched.apply_rows(RowBatch(iter(rows), stop=1 << 40), hook)
        assert dumps(batched) == dumps(single)
        assert batched.stats() == single.stats()
        assert batched.history() == single.history()
        batched.check_invariants()


@pytest.mark.parametrize("factory", MAP_FACTORIES, ids=[f.id for f in MAP_FACTORIES])
def test_batch_counts_hits_and_misses(factory: MapFactory) -> None:
    rows = [["put", f"k{i}", str(i)] for i in range(300)]
    rows += [["get", f"k{i}", ""] for i in range(0, 600, 2)]
    rows += [["del", f"k{i}", ""] for i in range(0, 600, 3)]
    rows += [["put", f"k{i}", "again"] for i in range(0, 300, 5)]
    m = factory()
    batch = RowBatch(iter(rows), stop=1 << 40)
    m.apply_rows(batch)
    assert batch.exhausted and batch.pending is None
    assert (batch.gets, batch.puts, batch.dels) == (300, 360, 200)
    assert batch.get_misses == 150 and batch.del_misses == 100
    assert batch.applied == len(rows)
    stats = m.stats()
    assert stats["get_misses"] == 150 and stats["del_misses"] == 100
    assert stats["updates"] == 60 - 20  # re-puts of keys that were not deleted
    assert len(m) == 300 - 100 + 20


@pytest.mark.parametrize("factory", MAP_FACTORIES[::4], ids=[f.id for f in MAP_FACTORIES[::4]])
def test_batch_stops_before_the_stop_row_and_at_a_malformed_row(factory: MapFactory) -> None:
    rows = [["put", "a", "1"], [], ["get", "a", ""], ["put", "b", "2"], ["get", "b", "x"]]
    m = factory()
    batch = RowBatch(iter(rows), stop=3)
    m.apply_rows(batch)
    assert batch.applied == 2 and batch.pending == ["put", "b", "2"]
    assert len(m) == 1
    batch.pending, batch.stop = None, 100
    m.apply_rows(batch)  # the caller did not take the row over: it is lost, as documented
    assert batch.pending == ["get", "b", "x"] and batch.applied == 2
    assert not batch.exhausted


@pytest.mark.parametrize("factory", MAP_FACTORIES, ids=[f.id for f in MAP_FACTORIES])
def test_traced_batch_emits_the_events_of_single_operations(factory: MapFactory) -> None:
    rows = [
        [("put", "get", "del")[i % 3], f"k{i % 7}", str(i) if i % 3 == 0 else ""] for i in range(60)
    ]
    batched, single = factory(), factory()
    with engine.trace(batched) as got:
        batched.apply_rows(RowBatch(iter(rows), stop=1 << 40))
    with engine.trace(single) as expected:
        for row in rows:
            reference(single, row)
    assert [e.to_dict() for e in got] == [e.to_dict() for e in expected]
    assert dumps(batched) == dumps(single)


@pytest.mark.parametrize("kernel", [True, False])
def test_a_batch_stops_after_a_write_when_on_write_says_so(kernel: bool) -> None:
    rows = [["get", "a", ""], ["put", "a", "1"], ["get", "a", ""], ["put", "b", "2"]]
    m = engine.create_map("robinhood")
    batch = RowBatch(iter(rows), stop=1 << 40)
    if kernel:
        m.apply_rows(batch, lambda: True)
    else:
        apply_rows_generic(m, batch, lambda: True)
    assert batch.applied == 2 and batch.pending is None and not batch.exhausted
    assert (batch.gets, batch.puts, batch.get_misses) == (1, 1, 1)
