"""What the compiled build (mypyc, docs/performance.md) once got wrong, held in both builds.

Each test here passes in the pure build and in the compiled one (tests/compiled_check.py
runs the suite there); each failed, or would have, against code that relied on what mypyc
does not keep: a ``put = __setitem__`` alias, copies through ``object.__new__`` and
``__dict__``, ``isinstance`` through the ``MutableMapping`` subclass cache, a ``list``
subclass's ``append`` override, and ints held in ``float`` variables (``44`` in the JSON
summary becoming ``44.0``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, MutableMapping
from pathlib import Path
from typing import Any

import pytest

import engine
from engine import AdaptiveMap, cli
from engine.build import HOT_MODULES, build_info, build_name
from engine.maps.adversarial import colliding_keys
from engine.tracing.events import MigrateEvent, ResultEvent, TraceEvent

ROOT = Path(__file__).resolve().parent.parent


def _mid_migration() -> AdaptiveMap:
    m = AdaptiveMap(migration_batch=1, guardrails=engine.GuardrailConfig(min_entries=10**6))
    for i in range(30):
        m[f"k{i}"] = i
    m.migrate_to("robinhood")
    m.get("k0")
    assert m.migrating
    return m


BUILDERS: dict[str, Callable[[], engine.BaseMap]] = {
    "chaining": lambda: engine.create_map("chaining"),
    "robinhood": lambda: engine.create_map("robinhood", deletion="tombstone"),
    "adaptive": lambda: engine.create_map("adaptive"),
    "adaptive-migrating": _mid_migration,
}


def _filled(name: str) -> engine.BaseMap:
    m = BUILDERS[name]()
    for i in range(40):
        m[f"key{i}"] = i
    for i in range(0, 40, 3):
        del m[f"key{i}"]
    m.get("absent")
    return m


# --------------------------------------------------------------------------- the build


def test_the_build_is_the_one_expected() -> None:
    """The development venv runs the source (an edit takes effect); the compiled check
    sets AHME_EXPECT_BUILD=compiled, so its run cannot quietly test the source instead."""
    expected = os.environ.get("AHME_EXPECT_BUILD", "pure")
    info = build_info()
    assert build_name() == info["build"] == expected
    assert set(info["modules"]) == set(HOT_MODULES)  # type: ignore[call-overload]
    if expected == "pure":
        for name, path in info["files"].items():  # type: ignore[attr-defined]
            assert Path(path) == ROOT / (name.replace(".", "/") + ".py")


@pytest.mark.skipif(
    build_name() != "pure", reason="reads the source tree, which the compiled run has not"
)
def test_setup_compiles_the_modules_the_build_reports() -> None:
    """setup.py reads engine.build.HOT_MODULES, and each names a module of the tree."""
    assert "HOT_MODULES" in (ROOT / "setup.py").read_text(encoding="utf-8")
    for name in HOT_MODULES:
        assert (ROOT / (name.replace(".", "/") + ".py")).is_file()


def test_version_names_the_build(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"engine {engine.__version__} ({build_name()} build)\n"


# --------------------------------------------------------------------------- the maps


@pytest.mark.parametrize("name", list(BUILDERS))
def test_put_is_setitem(name: str) -> None:
    """``put`` does what ``m[k] = v`` does: the same contents, layout and counters."""
    a, b = BUILDERS[name](), BUILDERS[name]()
    expected = dict(a.items())
    for i in range(60):
        a[f"p{i % 45}"] = i
        b.put(f"p{i % 45}", i)
        expected[f"p{i % 45}"] = i
    assert dict(a.items()) == dict(b.items()) == expected
    assert a.layout() == b.layout()
    assert a.stats() == b.stats()
    assert b.stats()["updates"] == a.stats()["updates"] >= 15


def _state_names(m: engine.BaseMap) -> set[str]:
    """The instance attributes: the compiled classes list theirs in ``__mypyc_attrs__``."""
    native = getattr(type(m), "__mypyc_attrs__", None)
    names = set(vars(m)) if native is None else set(native) - {"__dict__"}
    assert "_hist_get" in names and "_size" in names
    return names


@pytest.mark.parametrize("name", list(BUILDERS))
def test_copy_is_of_the_class_with_all_its_state(name: str) -> None:
    m = _filled(name)
    clone = m.copy()
    assert type(clone) is type(m)
    for attribute in _state_names(m):
        getattr(clone, attribute)  # set on the copy (AttributeError if a copy forgot it)
    if isinstance(m, AdaptiveMap):
        assert isinstance(clone, AdaptiveMap)
        assert clone.migrating == m.migrating
        assert all(table._owner is clone for table in clone.tables())
    assert clone.layout() == m.layout()
    assert clone.stats() == m.stats()
    assert clone.history() == m.history()
    clone.check_invariants()
    # independent: changing the copy leaves the original as it was
    before_layout, before_stats = m.layout(), m.stats()
    for i in range(50):
        clone[f"new{i}"] = i
    clone.discard("key1")
    assert m.layout() == before_layout and m.stats() == before_stats
    m.check_invariants()


@pytest.mark.parametrize("name", list(BUILDERS))
def test_every_map_is_a_mutable_mapping(name: str) -> None:
    m = BUILDERS[name]()
    assert isinstance(m, MutableMapping) and isinstance(m, Mapping)
    assert issubclass(type(m), MutableMapping)
    assert isinstance(m.copy(), MutableMapping)
    # and no other map class: compiled, the classes once shared one ABC cache, so a
    # chaining map checked after an adaptive one "was" an AdaptiveMap
    classes = (engine.ChainingMap, engine.RobinHoodMap, AdaptiveMap)
    for other in BUILDERS.values():
        assert isinstance(other(), engine.BaseMap)
    for cls in classes:
        assert isinstance(m, cls) == (type(m) is cls)


class _Counting(list[TraceEvent]):
    """A trace list whose ``append`` override counts (as the explorer's capture does)."""

    def __init__(self) -> None:
        super().__init__()
        self.appended: set[int] = set()

    def append(self, event: TraceEvent) -> None:
        self.appended.add(id(event))
        super().append(event)


@pytest.mark.parametrize("name", list(BUILDERS))
def test_a_trace_list_subclass_sees_every_append(name: str) -> None:
    m = BUILDERS[name]()
    events = _Counting()
    with engine.trace(m, into=events):
        for i in range(40):
            m[f"t{i}"] = i
        m.get("t3")
        m.discard("t4")
        if isinstance(m, AdaptiveMap):
            m.finish_migration() if m.migrating else m.migrate_to("robinhood")
            m.finish_migration()
    assert len(events) > 40
    assert {id(e) for e in events} == events.appended  # every event came through append
    assert sum(isinstance(e, ResultEvent) for e in events) == 42
    if isinstance(m, AdaptiveMap):
        assert any(isinstance(e, MigrateEvent) for e in events)


# --------------------------------------------------------------------------- JSON summaries

#: Keys of the run-csv summary whose values are counts: ints, never floats.
_COUNT_KEYS = {
    "total_ops", "final_size", "size", "capacity", "get", "put", "del", "total", "max",
    "get_hits", "get_misses", "del_hits", "del_misses", "updates", "resizes", "compactions",
    "migrations", "migrations_completed", "start_op", "end_op", "moved", "tombstones",
    "migrations_triggered", "compactions_triggered",
}  # fmt: skip


def _counts(value: Any, key: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [pair for k, v in value.items() for pair in _counts(v, k)]
    if isinstance(value, list):
        return [pair for v in value for pair in _counts(v, key)]
    return [(key, value)] if key in _COUNT_KEYS or key.endswith("histogram") else []


def test_json_summary_counts_and_int_guardrails_are_ints(tmp_path: Path) -> None:
    """A migration for a too-long chain reports ``"value": 9, "threshold": 8``, not 9.0."""
    keys = colliding_keys(40, 32)  # one bucket and one group at every size
    csv = tmp_path / "attack.csv"
    rows = "".join(f"put,{k},v\n" for k in keys) + "get,absent,\n"
    csv.write_text("op,key,value\n" + rows, encoding="utf-8")
    summary = tmp_path / "summary.json"
    code = cli.main(
        ["--backend", "adaptive", "run-csv", "--csv", str(csv), "--json-summary-out",
         str(summary)]
    )  # fmt: skip
    assert code == 0
    data = json.loads(summary.read_text(encoding="utf-8"))
    history = data["final_stats"]["migration_history"]
    chains = [e for e in history if e["metric"] == "max_group_len"]
    assert chains, history
    for entry in chains:
        assert type(entry["value"]) is int and type(entry["threshold"]) is int
        assert '"threshold": 8' in json.dumps(entry)
    counted = _counts(data)
    assert len(counted) > 30
    wrong = [(k, v) for k, v in counted if type(v) is not int and v is not None]
    assert not wrong
