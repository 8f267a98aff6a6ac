"""Tracing: event routing, event objects, and what the events say about each operation.

Every expectation is re-derived from the map's ``layout()`` before/after an operation or
from an independent hash computation, never copied from the engine's own output.
"""

from __future__ import annotations

import dataclasses
import json
import random
from typing import Any

import pytest

import engine
from engine import (
    AdaptiveMap,
    BackshiftEvent,
    ChainingMap,
    CompareEvent,
    DisplaceEvent,
    GuardrailEvent,
    HashEvent,
    MigrateEvent,
    PlaceEvent,
    ProbeEvent,
    ResizeEvent,
    ResultEvent,
    RobinHoodMap,
    TombstoneEvent,
    crc32_hash,
    trace,
)
from engine.jsonsafe import encode_key

# --------------------------------------------------------------------------- helpers


def _migrating_guardrails() -> engine.GuardrailConfig:
    return engine.GuardrailConfig(
        min_entries=4, chaining_load_factor=0.5, cooldown_ops=0, cooldown_per_entry=0
    )


MAP_NAMES = ["chaining", "robinhood", "robinhood-tombstone", "adaptive"]


def _new_map(name: str) -> Any:
    if name == "chaining":
        return ChainingMap(capacity=4, groups=2)
    if name == "robinhood":
        return RobinHoodMap(capacity=8)
    if name == "robinhood-tombstone":
        return RobinHoodMap(capacity=8, deletion="tombstone")
    return AdaptiveMap(migration_batch=3, guardrails=_migrating_guardrails())


def _all_maps() -> list[Any]:
    return [_new_map(name) for name in MAP_NAMES]


def _rh_slot_of(layout: dict[str, Any], key: object) -> int:
    """The slot whose occupied entry is ``key`` in a Robin Hood layout, or -1."""
    wanted = encode_key(key)
    for i, slot in enumerate(layout["slots"]):
        if slot["state"] == "occupied" and slot["key"] == wanted:
            return i
    return -1


def _rh_dib_of(layout: dict[str, Any], key: object) -> int:
    slot = _rh_slot_of(layout, key)
    assert slot >= 0, f"{key!r} not in layout"
    return int(layout["slots"][slot]["dib"])


def _keys_with_home(home: int, capacity: int, count: int, prefix: str) -> list[str]:
    """The first ``count`` keys ``prefix<n>`` whose fast hash names ``home``."""
    out: list[str] = []
    n = 0
    while len(out) < count:
        key = f"{prefix}{n}"
        if crc32_hash(key) & (capacity - 1) == home:
            out.append(key)
        n += 1
    return out


def _chain_position(layout: dict[str, Any], key: object) -> tuple[int, int, int]:
    wanted = encode_key(key)
    for b, bucket in enumerate(layout["buckets"]):
        for g, chain in enumerate(bucket):
            for p, entry in enumerate(chain):
                if entry["key"] == wanted:
                    return b, g, p
    raise AssertionError(f"{key!r} not in layout")


def _busy_workload(m: Any, seed: int) -> list[Any]:
    """Puts, updates, hits, misses and deletes over str, bytes and int keys, traced."""
    rng = random.Random(seed)
    live: list[object] = []
    with trace(m) as events:
        for i in range(400):
            r = rng.random()
            if r < 0.5 or not live:
                key: object = rng.choice([f"s{i}", f"s{i}".encode(), i * 7919])
                m[key] = i
                live.append(key)
            elif r < 0.6:
                m[rng.choice(live)] = -i
            elif r < 0.75:
                m.get(rng.choice(live))
                m.get(f"missing{i}")
            else:
                key = live.pop(rng.randrange(len(live)))
                del m[key]
        m.compact()
    return events


# --------------------------------------------------------------------------- routing


@pytest.mark.parametrize("name", MAP_NAMES)
def test_no_events_outside_a_trace_block(name: str) -> None:
    m = _new_map(name)
    assert m._tracer is None
    m["before"] = 1
    with trace(m) as events:
        m["inside"] = 2
    count = len(events)
    assert count > 0
    assert m._tracer is None
    m["after"] = 3
    m.get("inside")
    m.get("nothing here")
    del m["before"]
    assert len(events) == count  # nothing leaks into a closed trace
    assert m._tracer is None


@pytest.mark.parametrize("name", MAP_NAMES)
def test_nested_trace_blocks_route_to_innermost_and_restore_outer(name: str) -> None:
    m = _new_map(name)
    with trace(m) as outer:
        m["a"] = 1
        n_outer = len(outer)
        with trace(m) as inner:
            assert m._tracer is inner
            m["b"] = 2
            m.get("a")
        assert m._tracer is outer
        assert len(outer) == n_outer  # b and the lookup went to the inner trace only
        m["c"] = 3
    assert m._tracer is None
    inner_keys = [e.key for e in inner if isinstance(e, ResultEvent)]
    outer_keys = [e.key for e in outer if isinstance(e, ResultEvent)]
    assert inner_keys == ["b", "a"]
    assert outer_keys == ["a", "c"]


def test_trace_restores_tracer_when_the_block_raises() -> None:
    m = RobinHoodMap()
    with pytest.raises(KeyError), trace(m):
        del m["absent"]
    assert m._tracer is None


def test_adaptive_backends_stop_tracing_after_a_block_that_started_a_migration() -> None:
    m = AdaptiveMap(migration_batch=1, guardrails=_migrating_guardrails())
    with trace(m) as events:
        for i in range(6):
            m[f"k{i}"] = i
        assert m.migrating  # a target table was created while the trace was open
    count = len(events)
    assert any(isinstance(e, MigrateEvent) and e.phase == "start" for e in events)
    for i in range(30):
        m[f"more{i}"] = i
    assert len(events) == count
    assert all(table._tracer is None for table in m.tables())


# --------------------------------------------------------------------------- event objects


@pytest.mark.parametrize("name", MAP_NAMES)
def test_every_event_is_frozen_json_safe_and_describable(name: str) -> None:
    m = _new_map(name)
    events = _busy_workload(m, seed=3)
    assert events
    for e in events:
        data = e.to_dict()
        assert data["kind"] == e.kind
        assert e.kind in engine.EVENT_KINDS
        assert data["table"] == e.table
        json.loads(json.dumps(data))  # round-trips as JSON
        text = e.describe()
        assert isinstance(text, str) and text.strip()
        with pytest.raises(dataclasses.FrozenInstanceError):
            e.table = "tampered"


def test_busy_workload_covers_every_event_kind() -> None:
    seen: set[str] = set()
    for seed, m in enumerate(_all_maps()):
        seen |= {e.kind for e in _busy_workload(m, seed)}
    required = {
        "hash",
        "probe",
        "compare",
        "displace",
        "place",
        "tombstone",
        "backshift",
        "resize",
        "migrate",
        "compact",
        "result",
        "remove",
        "guardrail",
    }
    assert required <= set(engine.EVENT_KINDS)
    assert required <= seen, f"never seen: {sorted(required - seen)}"
    assert seen <= set(engine.EVENT_KINDS)


def test_event_kinds_name_every_event_class_in_order() -> None:
    """EVENT_KINDS is written out (the step events load lazily): it must stay the kinds of
    the event classes, each once, in the documented order."""
    from engine.tracing import events, steps

    classes = [
        steps.HashEvent,
        steps.ProbeEvent,
        steps.CompareEvent,
        steps.DisplaceEvent,
        steps.PlaceEvent,
        steps.RemoveEvent,
        steps.TombstoneEvent,
        steps.BackshiftEvent,
        events.ResizeEvent,
        events.CompactEvent,
        events.MigrateEvent,
        events.GuardrailEvent,
        steps.ResultEvent,
    ]
    assert tuple(cls.kind for cls in classes) == engine.EVENT_KINDS
    every = {
        cls
        for module in (events, steps)
        for cls in vars(module).values()
        if isinstance(cls, type)
        and issubclass(cls, events.TraceEvent)
        and cls is not events.TraceEvent
    }
    assert every == set(classes)


def test_step_events_are_the_same_classes_from_every_name() -> None:
    from engine.tracing import events, steps

    assert set(steps.__all__) == events._STEP_EVENTS  # the names events answers for
    for name in steps.__all__:
        assert getattr(events, name) is getattr(steps, name) is getattr(engine, name)
        assert name in events.__all__
    with pytest.raises(AttributeError, match="NoSuchEvent"):
        events.NoSuchEvent  # noqa: B018
    for name in steps.__all__:  # what the maps' traced code reaches them through
        assert getattr(events.STEPS, name) is getattr(steps, name)
    with pytest.raises(AttributeError, match="NoSuchEvent"):
        events.STEPS.NoSuchEvent  # noqa: B018


def test_bytes_keys_encode_in_event_dicts() -> None:
    m = RobinHoodMap()
    with trace(m) as events:
        m[b"\x00\xff"] = b"v"
    hash_event = next(e for e in events if isinstance(e, HashEvent))
    assert hash_event.to_dict()["key"] == {"bytes": "00ff"}
    place = next(e for e in events if isinstance(e, PlaceEvent))
    assert place.to_dict()["value"] == {"bytes": "76"}


# --------------------------------------------------------------------------- Robin Hood lookups


def _filled_robinhood(capacity: int, count: int) -> RobinHoodMap:
    m = RobinHoodMap(capacity=capacity, max_load_factor=0.9)  # dense: long clusters
    for i in range(count):
        m[f"key-{i}"] = i
    assert m.capacity == capacity  # no resize: the layout is the one we built
    return m


def test_robinhood_hit_probes_consecutive_slots_from_home() -> None:
    cap = 64
    m = _filled_robinhood(cap, 55)
    layout = m.layout()
    longest = 0
    for key in [f"key-{i}" for i in range(55)]:
        with trace(m) as events:
            assert m[key] == int(key.split("-")[1])
        h = crc32_hash(key)
        hash_events = [e for e in events if isinstance(e, HashEvent)]
        assert len(hash_events) == 1
        assert hash_events[0].hash == h
        assert hash_events[0].index == h & (cap - 1)
        probes = [e for e in events if isinstance(e, ProbeEvent)]
        home = h & (cap - 1)
        assert [p.slot for p in probes] == [(home + d) % cap for d in range(len(probes))]
        assert [p.distance for p in probes] == list(range(len(probes)))
        assert probes[-1].slot == _rh_slot_of(layout, key)
        assert len(probes) == _rh_dib_of(layout, key) + 1
        hits = [e for e in events if isinstance(e, CompareEvent) and e.equal]
        assert [c.slot for c in hits] == [probes[-1].slot]
        longest = max(longest, len(probes))
    assert longest > 1  # the test exercised runs, not only direct hits


def test_robinhood_miss_stops_at_empty_or_richer_resident() -> None:
    cap = 64
    m = _filled_robinhood(cap, 55)
    layout = m.layout()
    early_exits = 0
    for i in range(300):
        key = f"absent-{i}"
        with trace(m) as events:
            assert m.get(key) is None
        probes = [e for e in events if isinstance(e, ProbeEvent)]
        home = crc32_hash(key) & (cap - 1)
        assert [p.slot for p in probes] == [(home + d) % cap for d in range(len(probes))]
        *walked, last = probes
        for p in walked:  # every slot passed holds an entry at least as far from home
            assert p.state == "occupied"
            assert layout["slots"][p.slot]["dib"] >= p.distance
        if last.state == "empty":
            assert layout["slots"][last.slot] == {"state": "empty"}
        else:
            assert last.resident_dib is not None and last.resident_dib < last.distance
            assert layout["slots"][last.slot]["dib"] == last.resident_dib
            early_exits += 1
    assert early_exits > 0


def test_robinhood_miss_early_exit_inside_a_cluster() -> None:
    cap = 16
    m = RobinHoodMap(capacity=cap)
    first = _keys_with_home(2, cap, 4, "a")  # three stored at slots 2, 3, 4 plus one probe key
    second = _keys_with_home(5, cap, 2, "b")  # homes at 5: slots 5, 6 with DIB 0, 1
    for key in first[:3] + second:
        m[key] = key
    layout = m.layout()
    assert [layout["slots"][i].get("dib") for i in range(2, 8)] == [0, 1, 2, 0, 1, None]
    run_end = next(i for i in range(2, cap) if layout["slots"][i]["state"] == "empty")
    with trace(m) as events:
        assert first[3] not in m
    probes = [e for e in events if isinstance(e, ProbeEvent)]
    # The walk stops at slot 5, where a resident at DIB 0 is richer than distance 3.
    assert [p.slot for p in probes] == [2, 3, 4, 5]
    assert probes[-1].state == "occupied"
    assert probes[-1].resident_dib == 0 < probes[-1].distance == 3
    assert len(probes) < run_end - 2 + 1  # shorter than walking to the cluster's empty end
    result = events[-1]
    assert isinstance(result, ResultEvent) and not result.found and result.probes == 4


# --------------------------------------------------------------------------- displacement


def test_displacement_moves_the_richer_resident_right() -> None:
    cap = 64
    m = RobinHoodMap(capacity=cap, max_load_factor=0.9)  # dense: long clusters
    for i in range(56):
        key = f"d{i}"
        before = m.layout()
        with trace(m) as events:
            m[key] = i
        displaced = [e for e in events if isinstance(e, DisplaceEvent)]
        if displaced:
            break
    else:
        pytest.fail("no insertion displaced anything")
    assert not any(isinstance(e, ResizeEvent) for e in events)
    after = m.layout()
    assert displaced[0].incoming == key
    for e in displaced:
        assert e.incoming_dib > e.evicted_dib
        # before: the evicted entry sat at the slot with the evicted DIB
        assert before["slots"][e.slot]["key"] == encode_key(e.evicted)
        assert before["slots"][e.slot]["dib"] == e.evicted_dib
        # after: the incoming entry holds the slot and the evicted one sits further right
        assert after["slots"][e.slot]["key"] == encode_key(e.incoming)
        assert after["slots"][e.slot]["dib"] == e.incoming_dib
        assert _rh_dib_of(after, e.evicted) > e.evicted_dib
        new_slot = _rh_slot_of(after, e.evicted)
        assert (new_slot - e.slot) % cap == _rh_dib_of(after, e.evicted) - e.evicted_dib
    m.check_invariants()


# --------------------------------------------------------------------------- deletion


def test_backshift_deletion_moves_each_follower_one_slot_back() -> None:
    cap = 32
    m = RobinHoodMap(capacity=cap, max_load_factor=0.9)  # dense: long clusters
    keys = [f"bs{i}" for i in range(26)]
    for key in keys:
        m[key] = key
    before = m.layout()
    victim = None
    for key in keys:  # a key followed by an entry with DIB > 0: a shift must happen
        nxt = before["slots"][(_rh_slot_of(before, key) + 1) % cap]
        if nxt["state"] == "occupied" and nxt["dib"] > 0:
            victim = key
            break
    assert victim is not None
    victim_slot = _rh_slot_of(before, victim)
    with trace(m) as events:
        del m[victim]
    after = m.layout()
    shifts = [e for e in events if isinstance(e, BackshiftEvent)]
    assert shifts
    assert shifts[0].to_slot == victim_slot
    for e in shifts:
        assert e.to_slot == (e.from_slot - 1) % cap
        assert before["slots"][e.from_slot]["key"] == encode_key(e.key)
        assert before["slots"][e.from_slot]["dib"] == e.dib + 1
        assert after["slots"][e.to_slot]["key"] == encode_key(e.key)
        assert after["slots"][e.to_slot]["dib"] == e.dib
    # the run ends with an empty slot where the last shifted entry used to be
    assert after["slots"][shifts[-1].from_slot] == {"state": "empty"}
    assert _rh_slot_of(after, victim) == -1
    assert not any(isinstance(e, TombstoneEvent) for e in events)
    assert after["tombstones"] == 0


def test_tombstone_deletion_marks_the_slot_and_keeps_its_dib() -> None:
    cap = 32
    m = RobinHoodMap(capacity=cap, deletion="tombstone", max_load_factor=0.9)  # dense
    keys = [f"ts{i}" for i in range(26)]
    for key in keys:
        m[key] = key
    before = m.layout()
    victim = max(keys, key=lambda k: _rh_dib_of(before, k))  # one with DIB > 0 if any
    slot = _rh_slot_of(before, victim)
    with trace(m) as events:
        del m[victim]
    after = m.layout()
    stones = [e for e in events if isinstance(e, TombstoneEvent)]
    assert len(stones) == 1
    assert stones[0].slot == slot and stones[0].key == victim
    assert stones[0].dib == before["slots"][slot]["dib"]
    assert after["slots"][slot]["state"] == "tombstone"
    assert after["slots"][slot]["dib"] == stones[0].dib
    assert after["tombstones"] == before["tombstones"] + 1
    assert not any(isinstance(e, BackshiftEvent) for e in events)
    # no other slot changed
    changed = [i for i in range(cap) if before["slots"][i] != after["slots"][i]]
    assert changed == [slot]
    with trace(m) as events:
        assert victim not in m
    # a later lookup of the deleted key walks from its home onto the tombstone and past it
    probes = [e for e in events if isinstance(e, ProbeEvent)]
    home = crc32_hash(victim) & (cap - 1)
    assert (slot - home) % cap == stones[0].dib
    assert probes[stones[0].dib].slot == slot
    assert probes[stones[0].dib].state == "tombstone"
    assert len(probes) > stones[0].dib + 1


# --------------------------------------------------------------------------- chaining


@pytest.mark.parametrize("groups", [1, 2, 4, 8])
def test_chaining_probe_locations_follow_the_hash(groups: int) -> None:
    cap = 4
    m = ChainingMap(capacity=cap, groups=groups, max_load_factor=8.0)
    keys = [f"c{i}" for i in range(30)]
    for key in keys:
        m[key] = key
    assert m.capacity == cap
    layout = m.layout()
    gbits = groups.bit_length() - 1
    longest = 0
    for key in [*keys, "nope-1", "nope-2", "nope-3", b"nope", 12345]:
        h = crc32_hash(key)
        bucket, group = h & (cap - 1), h >> (32 - gbits) if gbits else 0
        with trace(m) as events:
            m.get(key)
        (hash_event,) = [e for e in events if isinstance(e, HashEvent)]
        assert (hash_event.hash, hash_event.index) == (h, bucket)
        assert (hash_event.group, hash_event.groups) == (group, groups)
        probes = [e for e in events if isinstance(e, ProbeEvent)]
        assert all((p.bucket, p.group, p.slot) == (bucket, group, None) for p in probes)
        chain = layout["buckets"][bucket][group]
        if key in keys:
            _, _, pos = _chain_position(layout, key)
            expected = list(range(pos + 1))
        else:
            expected = list(range(len(chain))) or [0]
        assert [p.position for p in probes] == expected
        assert [p.distance for p in probes] == expected
        if not chain:
            assert [p.state for p in probes] == ["empty"]
        longest = max(longest, len(probes))
    # 30 keys in 4 x groups cells: with 8 groups (32 cells) CRC-32 spreads them to chains
    # of at most 2, which still walks past a first entry
    assert longest >= (3 if groups < 8 else 2)


# --------------------------------------------------------------------------- resize


def _first_growth(capacity: int, max_load: float, open_addressing: bool) -> int:
    """Entries held when the next insert must grow the table (from the documented rule)."""
    n = 0
    while True:
        after = n + 1
        if after / capacity > max_load or (open_addressing and after > capacity - 1):
            return n
        n += 1


@pytest.mark.parametrize(
    ("factory", "open_addressing", "max_load"),
    [
        (lambda: RobinHoodMap(capacity=8), True, 0.8),
        (lambda: RobinHoodMap(capacity=8, max_load_factor=0.9), True, 0.9),
        (lambda: RobinHoodMap(capacity=16, max_load_factor=0.5), True, 0.5),
        (lambda: ChainingMap(capacity=8), False, 0.75),
        (lambda: ChainingMap(capacity=4, max_load_factor=2.0), False, 2.0),
    ],
    ids=["rh-default", "rh-0.9", "rh-0.5", "chaining-0.75", "chaining-2.0"],
)
def test_resize_event_matches_layouts_and_history(
    factory: Any, open_addressing: bool, max_load: float
) -> None:
    m = factory()
    cap = m.capacity
    grow_at = _first_growth(cap, max_load, open_addressing)
    ops = 0
    for i in range(grow_at):
        m[f"r{i}"] = i
        m.get(f"r{i}")
        ops += 2
    before = m.layout()
    assert before["capacity"] == cap and m.history() == []
    with trace(m) as events:
        m["trigger"] = 0
    after = m.layout()
    resizes = [e for e in events if isinstance(e, ResizeEvent)]
    assert len(resizes) == 1
    e = resizes[0]
    assert (e.old_capacity, e.new_capacity) == (before["capacity"], after["capacity"])
    assert e.new_capacity == 2 * cap
    assert e.size == before["size"] == grow_at
    assert after["size"] == grow_at + 1
    history = m.history()
    assert len(history) == 1
    entry = dict(history[0])
    assert entry.pop("op") == ops  # operations completed before the growing insert
    assert entry == e.to_dict()
    assert m.stats()["resizes"] == 1


# --------------------------------------------------------------------------- migration


def test_migration_events_start_batches_end() -> None:
    m = AdaptiveMap(migration_batch=3, guardrails=_migrating_guardrails())
    with trace(m) as events:
        for i in range(40):
            m[f"m{i}"] = i
    kinds = [e.kind for e in events]
    start_at = next(
        i for i, e in enumerate(events) if isinstance(e, MigrateEvent) and e.phase == "start"
    )
    start = events[start_at]
    assert isinstance(start, MigrateEvent)
    end_at = next(
        i
        for i, e in enumerate(events)
        if i > start_at and isinstance(e, MigrateEvent) and e.phase == "end"
    )
    guard_at = max(i for i in range(start_at) if kinds[i] == "guardrail")
    guard = events[guard_at]
    assert isinstance(guard, GuardrailEvent)
    assert guard.metric == "load_factor" and guard.value > guard.threshold == 0.5
    assert start_at > guard_at
    batches = [
        e for e in events[start_at:end_at] if isinstance(e, MigrateEvent) and e.phase == "batch"
    ]
    assert len(batches) >= 2  # batch 3 against at least 4 entries
    assert sum(b.moved for b in batches) == start.total
    assert start.total >= 4
    running = 0
    for b in batches:
        assert b.moved == len(b.keys) <= 3
        running += b.moved
        assert b.moved_total == running
        assert (b.source, b.target) == (start.source, start.target)
    cursors = [b.cursor for b in batches]
    assert cursors == sorted(set(cursors))
    end = events[end_at]
    assert isinstance(end, MigrateEvent) and end.moved_total == start.total
    # every moved key now lives in the target, which became the only table
    assert m.active_backend == start.target and not m.migrating
    (table,) = m.layout()["tables"]
    assert table["layout"]["kind"] == start.target
    stored = (
        {s["key"] for s in table["layout"]["slots"] if s["state"] == "occupied"}
        if start.target == "robinhood"
        else {entry["key"] for bucket in table["layout"]["buckets"] for g in bucket for entry in g}
    )
    moved = [k for b in batches for k in b.keys]
    assert len(set(moved)) == len(moved) == start.total
    assert {encode_key(k) for k in moved} <= stored
    m.check_invariants()


# --------------------------------------------------------------------------- result events


def _lookup_phase(events: list[Any]) -> list[Any]:
    """Events up to the first structural change of a put (placement, swap or rebuild)."""
    out: list[Any] = []
    hashes = 0
    for e in events:
        if isinstance(e, HashEvent):
            hashes += 1
            if hashes > 1:
                break
        if e.kind in ("place", "displace", "resize", "compact"):
            break
        out.append(e)
    return out


def _random_ops(m: Any, seed: int, count: int) -> list[tuple[str, object, list[Any]]]:
    rng = random.Random(seed)
    live: list[object] = []
    done: list[tuple[str, object, list[Any]]] = []
    for i in range(count):
        r = rng.random()
        with trace(m) as events:
            if r < 0.45 or not live:
                op, key = "put", rng.choice([f"k{i}", f"k{i}".encode(), i])
                m[key] = i
                live.append(key)
            elif r < 0.55:
                op, key = "put", rng.choice(live)
                m[key] = -i
            elif r < 0.7:
                op, key = "get", rng.choice(live)
                m.get(key)
            elif r < 0.8:
                op, key = "get", f"miss{i}"
                m.get(key)
            elif r < 0.95:
                op, key = "del", live.pop(rng.randrange(len(live)))
                del m[key]
            else:
                op, key = "del", f"miss{i}"
                with pytest.raises(KeyError):
                    del m[key]
        done.append((op, key, events))
    return done


@pytest.mark.parametrize(
    "factory",
    [
        lambda: ChainingMap(capacity=2, groups=2),
        lambda: RobinHoodMap(capacity=2),
        lambda: RobinHoodMap(capacity=2, deletion="tombstone"),
    ],
    ids=["chaining", "robinhood-backshift", "robinhood-tombstone"],
)
def test_result_event_is_last_and_counts_probes(factory: Any) -> None:
    m = factory()
    for op, key, events in _random_ops(m, seed=11, count=600):
        results = [e for e in events if isinstance(e, ResultEvent)]
        assert len(results) == 1, (op, key, [e.kind for e in events])
        result = events[-1]
        assert isinstance(result, ResultEvent)
        assert (result.op, result.key) == (op, key)
        probes = [e for e in events if isinstance(e, ProbeEvent)]
        if m.kind == "chaining":
            assert result.probes == sum(p.state != "empty" for p in probes)
        elif op in ("get", "del"):
            assert result.probes == len(probes)
        else:
            assert result.probes == sum(isinstance(e, ProbeEvent) for e in _lookup_phase(events))
    m.check_invariants()


def test_result_event_is_last_for_adaptive_operations() -> None:
    """docs/engine.md: the ``result`` event is always the last event of an operation,
    including adaptive operations that start, advance or finish a migration."""
    m = AdaptiveMap(migration_batch=3, guardrails=_migrating_guardrails())
    ops = _random_ops(m, seed=5, count=300)
    assert m.stats()["migrations"] >= 1
    offenders = []
    for op, key, events in ops:
        results = [i for i, e in enumerate(events) if isinstance(e, ResultEvent)]
        assert len(results) == 1, (op, key, [e.kind for e in events])
        if results[0] != len(events) - 1:
            offenders.append((op, key, [e.kind for e in events[results[0] :]]))
    assert offenders == [], f"{len(offenders)} operations end after their result: {offenders[:3]}"
