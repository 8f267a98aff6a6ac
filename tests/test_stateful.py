"""Every map against a ``dict`` model: hypothesis state machines, a traced/untraced
lockstep property, and a long seeded run through two-way adaptive migrations."""

from __future__ import annotations

import json
import random
from collections import Counter
from typing import Any, ClassVar

import pytest
from conftest import ADAPTIVE_FACTORIES, MAP_FACTORIES, MapFactory, keys, values
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import engine
from engine import AdaptiveMap, ResultEvent

MISSING = object()


def dumps(m: engine.BaseMap) -> str:
    """The layout as canonical JSON text."""
    return json.dumps(m.layout(), sort_keys=True)


# --------------------------------------------------------------------------- state machine


class MapMachine(RuleBasedStateMachine):
    """Drives one map and a dict model with the same operations."""

    factory: ClassVar[MapFactory]

    def __init__(self) -> None:
        super().__init__()
        self.map = self.factory()
        self.model: dict[Any, Any] = {}
        # what stats() must report: ops by kind, misses and updates
        self.expected: Counter[str] = Counter()

    # ------------------------------------------------------------ bookkeeping helpers
    def _count_get(self, key: Any) -> None:
        self.expected["get"] += 1
        if key not in self.model:
            self.expected["get_misses"] += 1

    def _count_put(self, key: Any) -> None:
        self.expected["put"] += 1
        if key in self.model:
            self.expected["updates"] += 1

    def _count_del(self, key: Any) -> None:
        self.expected["del"] += 1
        if key not in self.model:
            self.expected["del_misses"] += 1

    def _existing(self, data: st.DataObject) -> Any:
        return data.draw(st.sampled_from(list(self.model)), label="existing key")

    # ------------------------------------------------------------ the operations
    def _put(self, m: engine.BaseMap, key: Any, value: Any) -> None:
        self._count_put(key)
        m[key] = value
        self.model[key] = value

    def _getitem(self, m: engine.BaseMap, key: Any) -> None:
        self._count_get(key)
        if key in self.model:
            assert m[key] == self.model[key]
        else:
            with pytest.raises(KeyError):
                m[key]

    def _get_default(self, m: engine.BaseMap, key: Any) -> None:
        self._count_get(key)
        assert m.get(key, MISSING) == self.model.get(key, MISSING)

    def _contains(self, m: engine.BaseMap, key: Any) -> None:
        self._count_get(key)
        assert (key in m) == (key in self.model)

    def _delitem(self, m: engine.BaseMap, key: Any) -> None:
        self._count_del(key)
        if key in self.model:
            del m[key]
            del self.model[key]
        else:
            with pytest.raises(KeyError):
                del m[key]

    def _pop_default(self, m: engine.BaseMap, key: Any) -> None:
        # MutableMapping.pop: one lookup, then one delete when the key is there
        self._count_get(key)
        if key in self.model:
            self._count_del(key)
        assert m.pop(key, MISSING) == self.model.pop(key, MISSING)

    # ------------------------------------------------------------ rules
    @rule(key=keys, value=values)
    def put(self, key: Any, value: Any) -> None:
        self._put(self.map, key, value)

    @precondition(lambda self: self.model)
    @rule(data=st.data(), value=values)
    def put_existing(self, data: st.DataObject, value: Any) -> None:
        self._put(self.map, self._existing(data), value)

    @rule(key=keys)
    def getitem(self, key: Any) -> None:
        self._getitem(self.map, key)

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def getitem_hit(self, data: st.DataObject) -> None:
        self._getitem(self.map, self._existing(data))

    @rule(key=keys)
    def get_with_default(self, key: Any) -> None:
        self._get_default(self.map, key)

    @rule(key=keys)
    def contains(self, key: Any) -> None:
        self._contains(self.map, key)

    @rule(key=keys)
    def delete(self, key: Any) -> None:
        self._delitem(self.map, key)

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def delete_hit(self, data: st.DataObject) -> None:
        self._delitem(self.map, self._existing(data))

    @rule(key=keys)
    def pop_with_default(self, key: Any) -> None:
        self._pop_default(self.map, key)

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def pop_hit(self, data: st.DataObject) -> None:
        self._pop_default(self.map, self._existing(data))

    @rule(batch=st.dictionaries(keys, values, max_size=8))
    def update(self, batch: dict[Any, Any]) -> None:
        for key in batch:
            self._count_put(key)
            self.model[key] = batch[key]
        self.map.update(batch)

    @rule(key=keys, default=values)
    def setdefault(self, key: Any, default: Any) -> None:
        self._count_get(key)
        if key not in self.model:
            self._count_put(key)
        assert self.map.setdefault(key, default) == self.model.setdefault(key, default)

    @rule()
    def popitem(self) -> None:
        m = self.map
        if not self.model:
            with pytest.raises(KeyError):
                m.popitem()
            return
        first = next(iter(m.items()))
        self._count_get(first[0])
        self._count_del(first[0])
        assert m.popitem() == first
        assert self.model.pop(first[0]) == first[1]

    @precondition(lambda self: len(self.model) >= 4)
    @rule()
    def clear(self) -> None:
        self.map.clear()
        self.model.clear()
        assert len(self.map) == 0
        assert list(self.map) == []

    @rule()
    def compact(self) -> None:
        removed = self.map.compact()
        assert removed >= 0
        if isinstance(self.map, engine.RobinHoodMap):
            assert self.map.tombstones == 0
        if isinstance(self.map, AdaptiveMap):
            assert not self.map.migrating

    @rule(key=keys, value=values, data=st.data())
    def copy_is_equal_and_independent(self, key: Any, value: Any, data: st.DataObject) -> None:
        m = self.map
        clone = m.copy()
        assert type(clone) is type(m)
        assert dumps(clone) == dumps(m)
        assert clone.stats() == m.stats()
        assert list(clone.items()) == list(m.items())
        clone.check_invariants()

        layout_before, stats_before = dumps(m), m.stats()
        clone_model = dict(self.model)
        clone[key] = ("copy-only", value)
        clone_model[key] = ("copy-only", value)
        if self.model:
            victim = self._existing(data)
            del clone[victim]
            del clone_model[victim]
        clone.compact()
        clone.check_invariants()
        assert dict(clone.items()) == clone_model
        assert len(clone) == len(clone_model)
        # the original saw none of it
        assert dumps(m) == layout_before
        assert m.stats() == stats_before
        assert dict(m.items()) == self.model

    @rule(
        op=st.sampled_from(["put", "getitem", "get", "contains", "delete", "pop"]),
        key=keys,
        value=values,
        use_existing=st.booleans(),
        data=st.data(),
    )
    def traced_operation(
        self, op: str, key: Any, value: Any, use_existing: bool, data: st.DataObject
    ) -> None:
        """One operation inside ``engine.trace``: same result and state as untraced."""
        if use_existing and self.model:
            key = self._existing(data)
        shadow = self.map.copy()
        shadow_model = dict(self.model)
        shadow_expected = Counter(self.expected)
        ops = {
            "put": lambda m: self._put(m, key, value),
            "getitem": lambda m: self._getitem(m, key),
            "get": lambda m: self._get_default(m, key),
            "contains": lambda m: self._contains(m, key),
            "delete": lambda m: self._delitem(m, key),
            "pop": lambda m: self._pop_default(m, key),
        }
        present = key in self.model
        with engine.trace(self.map) as events:
            ops[op](self.map)
        results = [e for e in events if isinstance(e, ResultEvent)]
        wanted = {"getitem": "get", "contains": "get", "pop": "get", "delete": "del"}.get(op, op)
        assert results, f"no result event for traced {op}"
        assert results[0].op == wanted
        assert results[0].found == present

        # the same operation untraced on a copy gives the same physical state
        traced_model, traced_expected = self.model, self.expected
        self.model, self.expected = shadow_model, shadow_expected
        ops[op](shadow)
        assert self.model == traced_model
        self.model, self.expected = traced_model, traced_expected
        assert dumps(shadow) == dumps(self.map)
        assert shadow.stats() == self.map.stats()

    @precondition(lambda self: isinstance(self.map, AdaptiveMap))
    @rule()
    def finish_migration(self) -> None:
        m = self.map
        assert isinstance(m, AdaptiveMap)
        was = m.active_backend
        m.finish_migration()
        assert not m.migrating
        assert m.migration_progress() is None
        assert m.active_backend == was
        assert len(m.tables()) == 1

    @precondition(lambda self: isinstance(self.map, AdaptiveMap))
    @rule(kind=st.sampled_from(["chaining", "robinhood"]))
    def migrate_to(self, kind: str) -> None:
        m = self.map
        assert isinstance(m, AdaptiveMap)
        if m.migrating:
            with pytest.raises(RuntimeError):
                m.migrate_to(kind)
            return
        before = len(m.migration_history())
        m.migrate_to(kind)
        assert m.active_backend == kind
        if m.migrating:
            assert len(m.migration_history()) == before + 1
            assert m.migration_progress()["to"] == kind  # type: ignore[index]
        else:  # already there
            assert len(m.migration_history()) == before

    # ------------------------------------------------------------ invariants
    @invariant()
    def matches_model(self) -> None:
        m = self.map
        m.check_invariants()
        assert len(m) == len(self.model)
        items = list(m.items())
        assert len(items) == len(self.model)
        assert dict(items) == self.model
        assert list(m) == [k for k, _ in items]
        assert list(m.values()) == [v for _, v in items]

    @invariant()
    def migration_bookkeeping(self) -> None:
        m = self.map
        if not isinstance(m, AdaptiveMap):
            return
        history = m.migration_history()
        running = [h for h in history if h["end_op"] is None]
        assert len(running) == (1 if m.migrating else 0)
        assert len(m.tables()) == (2 if m.migrating else 1)
        assert m.stats()["migrations"] == len(history)
        progress = m.migration_progress()
        if progress is not None:
            assert (progress["from"], progress["to"]) == (history[-1]["from"], history[-1]["to"])
            assert progress["to"] == m.active_backend
            assert 0 <= progress["moved"] <= progress["total"]

    @invariant()
    def stats_count_every_operation(self) -> None:
        s = self.map.stats()
        e = self.expected
        assert s["ops"] == {
            "get": e["get"],
            "put": e["put"],
            "del": e["del"],
            "total": e["get"] + e["put"] + e["del"],
        }
        assert s["get_misses"] == e["get_misses"]
        assert s["del_misses"] == e["del_misses"]
        assert s["updates"] == e["updates"]
        assert s["size"] == len(self.model)
        assert sum(count for _, count in s["probes"]["histogram"]) == s["ops"]["total"]


STATEFUL_SETTINGS = settings(
    max_examples=25,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _machine_test_case(factory: MapFactory) -> type:
    machine = type(f"Machine[{factory.id}]", (MapMachine,), {"factory": factory})
    case = machine.TestCase
    case.settings = STATEFUL_SETTINGS
    return case


for _factory in MAP_FACTORIES:
    _name = "TestStateful_" + "".join(c if c.isalnum() else "_" for c in _factory.id)
    globals()[_name] = _machine_test_case(_factory)
del _factory, _name


# --------------------------------------------------------------------------- lockstep

op_strategy = st.one_of(
    st.tuples(st.just("put"), keys, values),
    st.tuples(st.just("get"), keys),
    st.tuples(st.just("del"), keys),
    st.tuples(st.just("pop"), keys),
    st.tuples(st.just("contains"), keys),
    st.tuples(st.just("compact")),
    st.tuples(st.just("finish")),
    st.tuples(st.just("migrate"), st.sampled_from(["chaining", "robinhood"])),
)


def _apply(m: engine.BaseMap, op: tuple[Any, ...]) -> Any:
    """Run one operation and return what a caller would observe."""
    name = op[0]
    if name == "put":
        m[op[1]] = op[2]
        return None
    if name == "get":
        return m.get(op[1], MISSING)
    if name == "del":
        return m.discard(op[1])
    if name == "pop":
        return m.pop(op[1], MISSING)
    if name == "contains":
        return op[1] in m
    if name == "compact":
        return m.compact()
    if not isinstance(m, AdaptiveMap):
        return None
    if name == "finish":
        m.finish_migration()
        return None
    if m.migrating:
        return "busy"
    m.migrate_to(op[1])
    return m.migrating


@pytest.mark.parametrize("factory", MAP_FACTORIES, ids=[f.id for f in MAP_FACTORIES])
@settings(max_examples=50, deadline=None)
@given(ops=st.lists(op_strategy, min_size=1, max_size=60))
def test_traced_and_untraced_paths_stay_in_lockstep(
    factory: MapFactory, ops: list[tuple[Any, ...]]
) -> None:
    """Every operation traced vs untraced: same results, layout and stats throughout."""
    plain, traced = factory(), factory()
    model: dict[Any, Any] = {}
    for op in ops:
        expected = _apply(plain, op)
        with engine.trace(traced) as events:
            got = _apply(traced, op)
        assert got == expected, op
        if op[0] in ("put", "get", "del", "pop", "contains"):
            assert any(isinstance(e, ResultEvent) for e in events), op
        if op[0] == "put":
            model[op[1]] = op[2]
        elif op[0] in ("del", "pop"):
            model.pop(op[1], None)
        assert dumps(traced) == dumps(plain), op
    assert traced.stats() == plain.stats()
    assert dict(plain.items()) == model
    traced.check_invariants()
    plain.check_invariants()


# --------------------------------------------------------------------------- two-way migrations


@pytest.mark.slow
@pytest.mark.parametrize("factory", ADAPTIVE_FACTORIES, ids=[f.id for f in ADAPTIVE_FACTORIES])
def test_seeded_run_migrates_both_ways_mid_operation(factory: MapFactory) -> None:
    """5,000 seeded ops on hair-trigger guardrails: migrations both ways, with gets, puts
    and deletes landing while a migration is in flight; invariants after every op."""
    rng = random.Random(f"two-way-{factory.id}")
    m = factory()
    assert isinstance(m, AdaptiveMap)
    model: dict[Any, Any] = {}
    pool: list[Any] = [f"k{i}" for i in range(48)]
    pool += [*range(-8, 24), *(b"b%d" % i for i in range(8))]
    during: Counter[str] = Counter()
    for step in range(5000):
        key = rng.choice(pool)
        r = rng.random()
        migrating = m.migrating
        if r < 0.45:
            op = "put"
            m[key] = step
            model[key] = step
        elif r < 0.75:
            op = "get"
            assert m.get(key, MISSING) == model.get(key, MISSING)
        else:
            op = "del"
            if key in model:
                del m[key]
                del model[key]
            else:
                with pytest.raises(KeyError):
                    del m[key]
        if migrating:
            during[op] += 1
        m.check_invariants()
        assert len(m) == len(model)
    assert dict(m.items()) == model
    directions = Counter((h["from"], h["to"]) for h in m.migration_history())
    assert directions[("chaining", "robinhood")] > 0
    assert directions[("robinhood", "chaining")] > 0
    assert during["get"] > 0
    assert during["put"] > 0
    assert during["del"] > 0
    assert m.stats()["migrations"] == len(m.migration_history())
