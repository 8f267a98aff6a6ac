"""The adaptive map: guardrails, incremental migration, cooldown and bookkeeping."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest

import engine
from engine import AdaptiveMap, GuardrailConfig
from engine.build import build_name
from engine.maps.adversarial import colliding_keys
from engine.maps.base import BaseMap
from engine.maps.batch import RowBatch, WriteGuard

# --------------------------------------------------------------------------- helpers


def _low_guardrails(**overrides: Any) -> GuardrailConfig:
    settings: dict[str, Any] = {
        "min_entries": 4,
        "chaining_load_factor": 0.5,
        "cooldown_ops": 0,
        "cooldown_per_entry": 0,
    }
    settings.update(overrides)
    return GuardrailConfig(**settings)


def _assert_matches_model(m: AdaptiveMap, model: dict[object, object]) -> None:
    """Every model key is retrievable (looked up on a copy, so the check itself does not
    advance the migration of ``m``), nothing extra is stored, and the tables agree."""
    assert len(m) == len(model)
    assert dict(m.items()) == model
    probe = m.copy()
    for key, value in model.items():
        assert probe[key] == value, key


class _Counter:
    def __init__(self) -> None:
        self.get = self.put = self.delete = 0

    @property
    def total(self) -> int:
        return self.get + self.put + self.delete


def _mixed_ops(
    m: AdaptiveMap,
    model: dict[object, object],
    rng: random.Random,
    count: int,
    counter: _Counter,
    *,
    after_each: Any = None,
) -> None:
    """Puts (new and updates), hits, misses and deletes (including missing keys)."""
    for _ in range(count):
        r = rng.random()
        n = rng.getrandbits(40)
        if r < 0.4 or not model:
            key: object = rng.choice([f"s{n}", f"b{n}".encode(), n])
            m[key] = n
            model[key] = n
            counter.put += 1
        elif r < 0.5:
            key = rng.choice(list(model))
            m[key] = -n
            model[key] = -n
            counter.put += 1
        elif r < 0.65:
            key = rng.choice(list(model))
            assert m[key] == model[key]
            counter.get += 1
        elif r < 0.72:
            assert m.get(f"absent{n}") is None
            counter.get += 1
        elif r < 0.75:
            with pytest.raises(KeyError):
                m[f"absent{n}"]
            counter.get += 1
        elif r < 0.95:
            key = rng.choice(list(model))
            del m[key]
            del model[key]
            counter.delete += 1
        else:
            with pytest.raises(KeyError):
                del m[f"absent{n}"]
            counter.delete += 1
        if after_each is not None:
            after_each()


# --------------------------------------------------------------------------- default guardrails


def test_crafted_keys_trip_both_backends_with_default_guardrails() -> None:
    keys = colliding_keys(600, 20)
    m = AdaptiveMap()
    defaults = GuardrailConfig()
    for i, key in enumerate(keys):
        m[key] = i
    first_round = m.migration_history()
    assert len(first_round) == 1
    first = first_round[0]
    assert (first["from"], first["to"]) == ("chaining", "robinhood")
    assert first["metric"] == "max_group_len"
    assert first["value"] > first["threshold"] == defaults.chaining_max_group_len
    assert first["start_op"] >= defaults.min_entries
    assert first["end_op"] is not None
    # Rewrite the values until the cooldown is over and the Robin Hood guardrail trips.
    rounds = 0
    while len(m.migration_history()) < 2 and rounds < 10:
        for i, key in enumerate(keys):
            m[key] = i + rounds
        rounds += 1
    m.finish_migration()
    history = m.migration_history()
    assert len(history) >= 2
    second = history[1]
    assert (second["from"], second["to"]) == ("robinhood", "chaining")
    assert second["metric"] in ("max_probe", "avg_probe")
    assert second["value"] > second["threshold"]
    # documented cooldown after the first migration: max(ops, per-entry * size) * backoff**0
    size_at_end = first["end_op"]  # every operation so far inserted a new key
    cooldown = max(defaults.cooldown_ops, defaults.cooldown_per_entry * size_at_end)
    assert first["end_op"] + cooldown <= second["start_op"] <= first["end_op"] + cooldown + 1
    assert m.active_backend == "chaining"
    assert all(m[key] == i + rounds - 1 for i, key in enumerate(keys))
    m.check_invariants()


@pytest.mark.slow
def test_uniform_keys_migrate_once_early_then_never() -> None:
    rng = random.Random(2024)
    m = AdaptiveMap()
    model: dict[object, object] = {}
    for _ in range(64):
        n = rng.getrandbits(64)
        m[n] = n
        model[n] = n
    history = m.migration_history()
    assert len(history) == 1
    (only,) = history
    assert (only["from"], only["to"], only["metric"]) == ("chaining", "robinhood", "load_factor")
    assert only["start_op"] <= 64
    _mixed_ops(m, model, rng, 50_000, _Counter())
    assert m.migration_history() == history
    assert m.active_backend == "robinhood"
    assert len(m) == len(model) > 1000
    m.check_invariants()


# --------------------------------------------------------------------------- migration progress


def test_migration_progress_is_monotonic() -> None:
    m = AdaptiveMap(migration_batch=2, guardrails=_low_guardrails(min_entries=64))
    keys = [f"p{i}" for i in range(400)]
    progress: list[dict[str, Any]] = []
    i = 0
    while not m.migrating:
        m[keys[i]] = i
        i += 1
    start = m.migration_progress()
    assert start is not None and start["moved"] == 0 and start["total"] == len(m)
    while m.migrating:
        p = m.migration_progress()
        assert p is not None
        progress.append(p)
        # only new puts and hits: nothing leaves the source except by batches
        if i % 2:
            m[keys[i]] = i
        else:
            assert m[keys[i // 2]] == i // 2
        i += 1
    assert m.migration_progress() is None
    assert len(progress) > 5
    assert all(p["total"] == start["total"] for p in progress)
    assert all(p["positions"] == start["positions"] for p in progress)
    moved = [p["moved"] for p in progress]
    cursors = [p["cursor"] for p in progress]
    assert moved == sorted(moved) and cursors == sorted(cursors)
    assert all(0 <= x <= start["total"] for x in moved)
    assert len(set(moved)) > 10  # it really advanced step by step
    (done,) = m.migration_history()
    assert done["moved"] == done["total"] == start["total"]


@pytest.mark.parametrize(
    ("initial", "deletion"),
    [("chaining", "backshift"), ("robinhood", "backshift"), ("robinhood", "tombstone")],
)
def test_every_key_is_retrievable_after_every_operation_during_migration(
    initial: str, deletion: str
) -> None:
    rng = random.Random(f"{initial}-{deletion}")
    m = AdaptiveMap(
        initial_backend=initial,
        deletion=deletion,
        migration_batch=1,
        guardrails=GuardrailConfig(min_entries=10**6),  # only manual migrations
    )
    model: dict[object, object] = {}
    counter = _Counter()
    _mixed_ops(m, model, rng, 300, counter)
    other = "robinhood" if initial == "chaining" else "chaining"
    m.migrate_to(other)
    assert m.migrating and m.active_backend == other
    checked = 0

    def check() -> None:
        nonlocal checked
        if m.migrating:
            _assert_matches_model(m, model)
            m.check_invariants()
            checked += 1

    while m.migrating:
        _mixed_ops(m, model, rng, 1, counter, after_each=check)
    assert checked > 20
    _assert_matches_model(m, model)
    assert m.tables()[0].kind == other and len(m.tables()) == 1


@pytest.mark.slow
def test_every_key_is_retrievable_during_guardrail_migrations() -> None:
    rng = random.Random(77)
    m = AdaptiveMap(
        migration_batch=1,
        guardrails=_low_guardrails(robinhood_avg_probe=1.2, cooldown_ops=40, cooldown_backoff=1),
    )
    model: dict[object, object] = {}
    during = 0

    def check() -> None:
        nonlocal during
        if m.migrating:
            _assert_matches_model(m, model)
            during += 1

    _mixed_ops(m, model, rng, 1500, _Counter(), after_each=check)
    directions = {(e["from"], e["to"]) for e in m.migration_history()}
    assert directions == {("chaining", "robinhood"), ("robinhood", "chaining")}
    assert during > 50
    m.check_invariants()


# --------------------------------------------------------------------------- history, cooldown


def test_migration_history_entries() -> None:
    m = AdaptiveMap(migration_batch=4, guardrails=_low_guardrails())
    for i in range(5):
        m[i] = i
    assert m.migrating
    (running,) = m.migration_history()
    assert {"from", "to", "reason", "start_op", "end_op"} <= set(running)
    assert running["end_op"] is None
    assert running["start_op"] == 5
    assert running["reason"] and running["metric"] in running["reason"]
    m.finish_migration()
    (done,) = m.migration_history()
    assert (done["from"], done["to"]) == ("chaining", "robinhood")
    assert done["end_op"] is not None and done["end_op"] >= done["start_op"]
    assert done["total"] == done["moved"] == 5
    # the returned entries are copies
    m.migration_history()[0]["from"] = "tampered"
    assert m.migration_history()[0]["from"] == "chaining"


def test_cooldown_delays_the_next_migration() -> None:
    cooldown = 1000
    guard = GuardrailConfig(
        min_entries=8,
        chaining_max_group_len=4,
        robinhood_max_probe=16,
        cooldown_ops=cooldown,
        cooldown_per_entry=0,
        cooldown_backoff=1,
    )
    m = AdaptiveMap(migration_batch=8, guardrails=guard)
    keys = colliding_keys(200, 20)
    for i, key in enumerate(keys):
        m[key] = i
    for round_ in range(25):  # both backends stay hurt: migrations keep coming
        for key in keys:
            m[key] = round_
    history = m.migration_history()
    finished = [e for e in history if e["end_op"] is not None]
    assert len(finished) >= 3
    gaps = [nxt["start_op"] - prev["end_op"] for prev, nxt in itertools.pairwise(history)]
    assert all(gap >= cooldown for gap in gaps), gaps
    assert min(gaps) <= cooldown + 1  # the cooldown, not something else, set the pace


# --------------------------------------------------------------------------- manual control


def test_manual_migration_finish_and_compact() -> None:
    m = AdaptiveMap(migration_batch=1, deletion="tombstone")
    for i in range(20):
        m[f"k{i}"] = i
    assert not m.migrating  # below min_entries: the guardrails stay quiet
    with pytest.raises(ValueError):
        m.migrate_to("cuckoo")
    m.migrate_to("chaining")  # already there: nothing happens
    assert not m.migrating and m.migration_history() == []
    m.migrate_to("robinhood")
    assert m.migrating and m.active_backend == "robinhood"
    with pytest.raises(RuntimeError):
        m.migrate_to("chaining")
    (entry,) = m.migration_history()
    assert entry["metric"] == "manual" and entry["end_op"] is None
    m.finish_migration()
    assert not m.migrating and m.active_backend == "robinhood"
    assert dict(m.items()) == {f"k{i}": i for i in range(20)}
    assert m.migration_history()[0]["moved"] == 20
    m.finish_migration()  # no-op
    assert len(m.migration_history()) == 1

    # compact() in the middle of a migration finishes it first
    m.migrate_to("chaining")
    m["fresh"] = 1  # goes to the target
    assert m.migrating
    assert m.compact() == 0  # chaining has no tombstones
    assert not m.migrating and m.active_backend == "chaining"
    assert len(m) == 21 and m["fresh"] == 1


def test_compact_during_migration_purges_target_tombstones() -> None:
    m = AdaptiveMap(migration_batch=1, deletion="tombstone")
    for i in range(20):
        m[f"k{i}"] = i
    m.migrate_to("robinhood")
    for i in range(3):
        m[f"new{i}"] = i  # written to the Robin Hood target
    for i in range(3):
        del m[f"new{i}"]  # tombstones in the target
    assert m.migrating
    target = m.tables()[1]
    assert target.kind == "robinhood"
    stones = target.layout()["tombstones"]
    assert stones == 3
    assert m.compact() == stones
    assert not m.migrating
    assert m.stats()["tombstones"] == 0
    assert dict(m.items()) == {f"k{i}": i for i in range(20)}
    m.check_invariants()


# --------------------------------------------------------------------------- stats


def test_stats_count_every_operation_across_backends() -> None:
    rng = random.Random(9)
    m = AdaptiveMap(
        migration_batch=3,
        guardrails=_low_guardrails(robinhood_avg_probe=1.2, cooldown_ops=60, cooldown_backoff=1),
    )
    model: dict[object, object] = {}
    counter = _Counter()
    seen_mid_migration = 0

    def check() -> None:
        nonlocal seen_mid_migration
        ops = m.stats()["ops"]
        assert ops == {
            "get": counter.get,
            "put": counter.put,
            "del": counter.delete,
            "total": counter.total,
        }
        assert m.operation_count() == counter.total
        seen_mid_migration += m.migrating

    _mixed_ops(m, model, rng, 1500, counter, after_each=check)
    stats = m.stats()
    assert stats["migrations"] >= 4
    assert stats["migrations_completed"] >= 3
    assert seen_mid_migration > 0
    assert stats["ops"]["total"] == counter.total == 1500
    assert sum(c for _, c in stats["probes"]["histogram"]) == 1500
    assert stats["size"] == len(model)


# --------------------------------------------------------------------------- O(1) guardrails

#: The hot modules are compiled (mypyc): Python subclasses and patched methods do not work.
COMPILED = build_name() != "pure"


class _ScanForbidden(AssertionError):
    pass


def _watched_map_class() -> type[AdaptiveMap]:
    """An adaptive map that fails if a guardrail check walks a table. Made on demand: the
    compiled build refuses a Python subclass of its classes at definition."""

    class _WatchedAdaptiveMap(AdaptiveMap):
        """Fails if a guardrail check walks a table (layout, iteration, invariant check)."""

        checking = False
        checks = 0

        def _new_backend(self, kind: str, capacity: int) -> BaseMap:
            backend = super()._new_backend(kind, capacity)
            for name in ("layout", "_iter_entries", "check_invariants", "stats", "dib_histogram"):
                original = getattr(backend, name, None)
                if original is not None:
                    setattr(backend, name, self._guarded(name, original))
            return backend

        def _guarded(self, name: str, original: Any) -> Any:
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                if self.checking:
                    raise _ScanForbidden(f"guardrail check called {name}()")
                return original(*args, **kwargs)

            return wrapper

        def _check_guardrails(self) -> None:
            type(self).checks += 1
            self.checking = True
            try:
                super()._check_guardrails()
            finally:
                self.checking = False

        def layout(self) -> dict[str, Any]:
            assert not self.checking, "guardrail check called layout()"
            return super().layout()

        def check_invariants(self) -> None:
            assert not self.checking, "guardrail check called check_invariants()"
            super().check_invariants()

    return _WatchedAdaptiveMap


@pytest.mark.skipif(
    COMPILED,
    reason="compiled build: a Python subclass of a compiled map is refused, and a method "
    "set on an instance is not called; the pure run checks the same source",
)
def test_guardrail_checks_never_walk_the_tables() -> None:
    watched = _watched_map_class()
    m = watched(
        migration_batch=4,
        guardrails=_low_guardrails(robinhood_avg_probe=1.2, cooldown_ops=30, cooldown_backoff=1),
    )
    model: dict[object, object] = {}
    _mixed_ops(m, model, random.Random(4), 1200, _Counter())
    # the tripwire spares most writes the full check; every migration still began in one
    assert watched.checks >= len(m.migration_history()) >= 4  # type: ignore[attr-defined]
    assert len(m.migration_history()) >= 4
    # the wrappers are live: outside a check the same calls work
    m.check_invariants()
    assert m.layout()["size"] == len(model)
    m.finish_migration()
    assert sum(1 for _ in m.tables()[0]._iter_entries()) == len(model)


@pytest.mark.parametrize("backend", ["chaining", "robinhood"])
def test_the_tripwire_answers_yes_whenever_the_full_check_would_trip(backend: str) -> None:
    """The cheap per-write tripwire is a superset of the full guardrail check: on random
    states, near and far past every threshold, the check never trips where the tripwire
    said no (a miss would let a map run past its guardrails)."""
    near = {"robinhood_max_probe": 6, "robinhood_avg_probe": 1.5} if backend == "robinhood" else {}
    m = AdaptiveMap(
        initial_backend=backend,
        capacity=8,
        groups=2,
        guardrails=GuardrailConfig(min_entries=4, cooldown_ops=0, cooldown_per_entry=0, **near),
    )

    rng = random.Random(11)
    yes = no = trips = 0
    for i in range(4000):
        # waves: fill a growing key space, then empty most of it (crafted-looking runs of
        # similar keys push probes and chains up; deletes bring them down). The writes go
        # to the table itself, so no migration starts and the counters keep moving past
        # the thresholds (no method is patched: the compiled build would not see it).
        wave = (i // 500) % 2
        key = f"k{rng.randrange(60 + i // 8)}"
        if wave == 0 or rng.random() < 0.2:
            m._active[key] = i
        else:
            m._active.discard(key)
        said = m._tripwire()
        if m._tripped_guardrail() is not None:
            assert said, f"the check tripped where the tripwire did not (write {i})"
            trips += 1
        yes, no = yes + said, no + (not said and len(m) >= 4)
    assert not m.migrating
    assert yes > 100 and no > 100  # both answers were exercised, above min_entries
    assert trips > 100  # and the check did trip, often


@pytest.mark.parametrize("backend", ["chaining", "robinhood"])
def test_the_kernel_guard_crosses_exactly_where_the_tripwire_does(backend: str) -> None:
    """The batch kernels compare the guard's limits themselves (no call a write): with the
    map's own limits, on the same random states, a kernel's write must call the check
    exactly where the tripwire says a threshold is crossed."""
    near = {"robinhood_max_probe": 6, "robinhood_avg_probe": 1.5} if backend == "robinhood" else {}
    m = AdaptiveMap(
        initial_backend=backend,
        capacity=8,
        groups=2,
        guardrails=GuardrailConfig(min_entries=4, cooldown_ops=0, cooldown_per_entry=0, **near),
    )
    checked: list[int] = []
    own = m._write_guard()
    guard = WriteGuard(
        lambda: checked.append(guard.writes) is not None, own.min_entries, 0, 0.0, 0.0
    )
    guard.most, guard.per_slot = own.most, own.per_slot
    guard.mean_num, guard.mean_den = own.mean_num, own.mean_den
    rng = random.Random(5)
    agreed = {True: 0, False: 0}
    for i in range(3000):
        key = f"k{rng.randrange(60 + i // 8)}"
        row = ["put", key, "v"] if (i // 500) % 2 == 0 or rng.random() < 0.2 else ["del", key, ""]
        checked.clear()
        guard.writes = 0
        m._active.apply_rows(RowBatch(iter([row]), stop=10), guard=guard)  # the table's kernel
        said = m._tripwire()
        assert bool(checked) == said, f"kernel guard and tripwire differ at write {i}"
        assert checked in ([], [1]) and guard.writes == 1  # the write counted once
        agreed[said] += 1
    assert agreed[True] > 100 and agreed[False] > 100


@pytest.mark.parametrize("backend", ["chaining", "robinhood"])
def test_the_kernel_guard_waits_out_the_cooldown(backend: str) -> None:
    """A guard's ``quiet`` writes go by without a check, counted all the same."""
    table = engine.create_map(backend)
    checked: list[int] = []
    guard = WriteGuard(lambda: checked.append(guard.writes) is not None, 1, -1, 0.0, 0.0)
    guard.quiet = 5
    rows = [["put", f"k{i}", "v"] for i in range(8)]
    table.apply_rows(RowBatch(iter(rows), stop=100), guard=guard)
    assert checked == [5, 6, 7, 8]  # limits below 0: every write from the fifth on crosses
    assert guard.writes == 8


def test_options_are_validated() -> None:
    with pytest.raises(ValueError):
        AdaptiveMap(migration_batch=0)
    with pytest.raises(ValueError):
        AdaptiveMap(groups=3)
    with pytest.raises(ValueError):
        GuardrailConfig(cooldown_backoff=0.5)
    assert isinstance(engine.create_map("adaptive"), AdaptiveMap)
