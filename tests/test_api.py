"""The public surface: ``MutableMapping`` behaviour of every kind, key types, option
validation, JSON layouts and the package's exports."""

from __future__ import annotations

import inspect
import json
import runpy
import types
from collections.abc import Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

import pydantic
import pytest

import engine
from engine import AdaptiveMap, UnsupportedKeyError
from engine.jsonsafe import decode_key

KINDS = ["chaining", "robinhood", "adaptive"]


def _adaptive_mid_migration(initial: str) -> AdaptiveMap:
    """An adaptive map with a migration in flight (batch 1, so it stays in flight)."""
    m = engine.create_map(
        "adaptive",
        initial_backend=initial,
        migration_batch=1,
        guardrails=engine.GuardrailConfig(min_entries=10**6),
    )
    assert isinstance(m, AdaptiveMap)
    for i in range(24):
        m[f"seed{i}"] = i
    m.migrate_to("robinhood" if initial == "chaining" else "chaining")
    m.get("seed0")  # one step, so both tables hold entries
    assert m.migrating
    return m


#: Builders for an empty-ish map of every kind, plus adaptive maps mid-migration.
BUILDERS: dict[str, Callable[[], engine.BaseMap]] = {
    "chaining": lambda: engine.create_map("chaining"),
    "robinhood": lambda: engine.create_map("robinhood"),
    "robinhood-tombstone": lambda: engine.create_map("robinhood", deletion="tombstone"),
    "adaptive": lambda: engine.create_map("adaptive"),
    "adaptive-migrating-c2r": lambda: _adaptive_mid_migration("chaining"),
    "adaptive-migrating-r2c": lambda: _adaptive_mid_migration("robinhood"),
}


@pytest.fixture(params=list(BUILDERS))
def m(request: pytest.FixtureRequest) -> engine.BaseMap:
    """A map of each kind (mid-migration variants start with 24 ``seed*`` keys)."""
    return BUILDERS[request.param]()


def _model(m: engine.BaseMap) -> dict[Any, Any]:
    return dict(m.items())


# --------------------------------------------------------------------------- lookups


def test_missing_key_raises_key_error_carrying_the_key(m: engine.BaseMap) -> None:
    """``m[k]``, ``del m[k]`` and ``pop(k)`` raise KeyError(k) for a missing key."""
    for key in ("missing", b"missing", 12345):
        with pytest.raises(KeyError) as got:
            m[key]
        assert got.value.args == (key,)
        with pytest.raises(KeyError) as deleted:
            del m[key]
        assert deleted.value.args == (key,)
        with pytest.raises(KeyError) as popped:
            m.pop(key)
        assert popped.value.args == (key,)


def test_get_default_in_and_len(m: engine.BaseMap) -> None:
    """``get`` returns the default only when missing; a stored None is a hit."""
    model = _model(m)
    sentinel = object()
    assert m.get("absent") is None
    assert m.get("absent", sentinel) is sentinel
    assert "absent" not in m
    m["none"] = None
    model["none"] = None
    assert m.get("none", sentinel) is None
    assert "none" in m
    assert m["none"] is None
    assert len(m) == len(model)
    m["x"] = 1
    model["x"] = 1
    m["x"] = 2  # an update does not change the length
    model["x"] = 2
    assert len(m) == len(model)
    assert m.get("x") == 2
    assert _model(m) == model


def test_is_a_mutable_mapping_and_equals_dicts(m: engine.BaseMap) -> None:
    """``isinstance`` MutableMapping; ``==`` compares contents with a dict, both ways."""
    assert isinstance(m, MutableMapping)
    model = _model(m)
    m["a"] = [1, 2]
    model["a"] = [1, 2]
    assert m == model
    assert model == m
    assert m != {**model, "a": [1, 3]}
    assert m != {**model, "extra": 0}
    assert m != [("a", [1, 2])]


# --------------------------------------------------------------------------- iteration


def test_iteration_orders_agree(m: engine.BaseMap) -> None:
    """``iter``, ``keys()``, ``items()`` and ``values()`` walk the same physical order."""
    model = _model(m)
    for i in range(40):
        key: Any = (f"s{i}", b"b%d" % i, i * 7919 - 100)[i % 3]
        m[key] = i
        model[key] = i
    keys = list(m)
    assert keys == list(m.keys())
    assert keys == [k for k, _ in m.items()]
    assert list(m.values()) == [v for _, v in m.items()]
    assert len(keys) == len(set(keys)) == len(m)
    assert dict(m.items()) == model
    assert len(m.items()) == len(m.values()) == len(model)
    assert ("s3", 3) in m.items()
    assert ("s3", 4) not in m.items()
    assert 3 in m.values()
    assert -1 not in m.values()


def _iterators(m: engine.BaseMap) -> dict[str, Iterator[Any]]:
    return {
        "iter": iter(m),
        "keys": iter(m.keys()),
        "items": iter(m.items()),
        "values": iter(m.values()),
    }


@pytest.mark.parametrize("view", ["iter", "keys", "items", "values"])
def test_insertion_during_iteration_raises_runtime_error(m: engine.BaseMap, view: str) -> None:
    """Adding keys while iterating raises RuntimeError, as a dict does."""
    for i in range(5):
        m[f"k{i}"] = i
    capacity = m.capacity
    it = _iterators(m)[view]
    next(it)
    m["new"] = 0
    assert m.capacity == capacity  # no resize: only the size changed
    with pytest.raises(RuntimeError):
        next(it)


@pytest.mark.parametrize("view", ["iter", "keys", "items", "values"])
def test_deletion_during_iteration_raises_runtime_error(m: engine.BaseMap, view: str) -> None:
    """Deleting keys while iterating raises RuntimeError, as a dict does."""
    for i in range(5):
        m[f"k{i}"] = i
    it = _iterators(m)[view]
    next(it)
    del m["k4"]
    with pytest.raises(RuntimeError):
        next(it)


@pytest.mark.parametrize("name", list(BUILDERS))
def test_reading_during_iteration_yields_every_key_once(name: str) -> None:
    """Lookups while iterating are allowed (as in a dict) and must not disturb iteration:
    each key exactly once, no error."""
    m = BUILDERS[name]()
    if not len(m):
        for i in range(24):
            m[f"r{i}"] = i
    expected = sorted(m)
    seen = []
    for key in m:
        assert m[key] is not None
        seen.append(key)
    assert sorted(seen) == expected
    pairs = []
    for key, value in m.items():
        assert m.get(key) == value
        pairs.append(key)
    assert sorted(pairs) == expected


@pytest.mark.parametrize("name", list(BUILDERS))
def test_value_updates_during_iteration_see_every_key_once(name: str) -> None:
    """Replacing values of existing keys while iterating is allowed, as in a dict."""
    m = BUILDERS[name]()
    if not len(m):
        for i in range(24):
            m[f"u{i}"] = i
    expected = sorted(m)
    seen = []
    for key in m:
        m[key] = "updated"
        seen.append(key)
    assert sorted(seen) == expected
    assert set(m.values()) == {"updated"}


def _cooling_adaptive(first: str, cooldown: int) -> AdaptiveMap:
    """An adaptive map on ``first`` whose guardrail is already crossed but held back by a
    cooldown of ``cooldown`` writes (counted from its first migration)."""
    guardrails = engine.GuardrailConfig(
        min_entries=2,
        chaining_load_factor=0.8 if first == "chaining" else 8.0,
        robinhood_tombstone_ratio=0.25,
        cooldown_ops=cooldown,
        cooldown_per_entry=0,
        cooldown_backoff=1.0,
    )
    other = "robinhood" if first == "chaining" else "chaining"
    m = AdaptiveMap(initial_backend=other, deletion="tombstone", guardrails=guardrails)
    if first == "chaining":
        for i in range(8):
            m[f"k{i}"] = i
        m.migrate_to("chaining")
        m.finish_migration()
        for i in range(8, 16):  # load 1.0 > 0.8, inside the cooldown
            m[f"k{i}"] = i
    else:
        for i in range(30):
            m[f"k{i}"] = i
        m.migrate_to("robinhood")
        m.finish_migration()
        for i in range(30, 40):
            m[f"k{i}"] = i
        for i in range(0, 36, 2):  # tombstone ratio 0.28 > 0.25, inside the cooldown
            del m[f"k{i}"]
    return m


@pytest.mark.parametrize("first", ["chaining", "robinhood"])
def test_value_updates_that_start_a_migration_mid_iteration(first: str) -> None:
    """When a value update inside ``for k in m`` ends the cooldown and starts a migration,
    iteration must still see every key exactly once, without an error."""
    started_mid_loop = 0
    wrong: list[tuple[int, int, int, str]] = []
    for cooldown in range(1, 60):
        m = _cooling_adaptive(first, cooldown)
        if m.migrating:
            continue
        migrations = len(m.migration_history())
        expected = sorted(m)
        seen: list[Any] = []
        error = ""
        try:
            for key in m:
                seen.append(key)
                m[key] = "updated"
        except RuntimeError as exc:
            error = str(exc)
        if len(m.migration_history()) == migrations:
            continue  # no migration inside the loop: not the case under test
        started_mid_loop += 1
        if sorted(seen) != expected or error:
            wrong.append((cooldown, len(seen), len(expected), error))
    assert started_mid_loop, "no cooldown made a migration start inside the loop"
    assert wrong == [], "(cooldown, keys seen, keys stored, error)"


# --------------------------------------------------------------------------- mutation API


def test_pop_popitem_setdefault(m: engine.BaseMap) -> None:
    """``pop``, ``popitem`` and ``setdefault`` follow dict semantics."""
    model = _model(m)
    m["p"] = "v"
    model["p"] = "v"
    assert m.pop("p") == "v"
    del model["p"]
    assert "p" not in m
    assert m.pop("p", "dflt") == "dflt"
    assert m.setdefault("s", [1]) == [1]
    model["s"] = [1]
    assert m.setdefault("s", [2]) == [1]
    assert m.setdefault("n") is None  # default None is stored
    model["n"] = None
    assert "n" in m
    assert _model(m) == model
    drained = {}
    while len(m):
        first = next(iter(m))
        key, value = m.popitem()
        assert key == first
        assert key not in m
        drained[key] = value
    with pytest.raises(KeyError):
        m.popitem()
    assert drained == model
    assert len(m) == 0
    m.check_invariants()


def test_update_accepts_mapping_pairs_and_keywords(m: engine.BaseMap) -> None:
    """``update`` takes a mapping, an iterable of pairs, and keyword arguments."""
    model = _model(m)
    m.update({"a": 1, b"a": 2})
    m.update([(3, "three"), ("a", 10)])
    m.update(kw=None)
    model.update({"a": 10, b"a": 2, 3: "three", "kw": None})
    assert m == model
    m.check_invariants()


def test_clear_then_reuse(m: engine.BaseMap) -> None:
    """``clear`` empties the map and leaves it fully usable."""
    for i in range(30):
        m[i] = i
    m.clear()
    assert len(m) == 0
    assert list(m) == []
    assert "seed0" not in m
    assert 0 not in m
    m.check_invariants()
    model = {}
    for i in range(30):
        m[f"again{i}"] = i
        model[f"again{i}"] = i
    for i in range(0, 30, 3):
        del m[f"again{i}"]
        del model[f"again{i}"]
    assert m == model
    m.check_invariants()


# --------------------------------------------------------------------------- keys and values


@pytest.mark.parametrize("bad_key", [1.5, 1.0, ("a",), None, frozenset(), bytearray(b"x")])
def test_unsupported_key_types_raise_type_error(m: engine.BaseMap, bad_key: object) -> None:
    """Anything but str, bytes or int is refused by every operation, changing nothing."""
    m["ok"] = 1
    layout_before = json.dumps(m.layout())
    stats_before = m.stats()
    operations: list[Callable[[], object]] = [
        lambda: m.__setitem__(bad_key, 1),
        lambda: m[bad_key],
        lambda: m.get(bad_key),
        lambda: bad_key in m,
        lambda: m.__delitem__(bad_key),
        lambda: m.pop(bad_key, None),
    ]
    for operation in operations:
        with pytest.raises(UnsupportedKeyError) as got:
            operation()
        assert isinstance(got.value, TypeError)
        assert type(bad_key).__name__ in str(got.value)
    assert json.dumps(m.layout()) == layout_before
    assert m.stats() == stats_before
    m.check_invariants()


def test_lookalike_keys_of_different_types_are_distinct(m: engine.BaseMap) -> None:
    """The keys "1", b"1" and 1 are distinct; True aliases 1 exactly as in a dict; 2**64 and 1
    share a fast hash but stay separate keys."""
    model = _model(m)
    for key, value in [("1", "str"), (b"1", "bytes"), (1, "int"), (2**64, "big"), (-1, "neg")]:
        m[key] = value
        model[key] = value
    m[True] = "bool"
    model[True] = "bool"
    assert engine.fast_hash(2**64) == engine.fast_hash(1)
    assert m["1"] == "str"
    assert m[b"1"] == "bytes"
    assert m[1] == "bool"
    assert m[2**64] == "big"
    assert m[-1] == "neg"
    assert len(m) == len(model)
    assert m == model
    del m[1]
    del model[1]
    assert m == model
    assert True not in m
    m.check_invariants()


def test_values_may_be_any_object(m: engine.BaseMap) -> None:
    """Values are stored by reference and may be unhashable or None."""
    model = _model(m)
    marker = object()
    stored: dict[Any, Any] = {"list": [1, [2]], "dict": {"k": {1, 2}}, "none": None, 7: marker}
    m.update(stored)
    model.update(stored)
    assert m["list"] is stored["list"]
    assert m[7] is marker
    assert m == model


# --------------------------------------------------------------------------- layout JSON


def _layout_keys(layout: dict[str, Any]) -> list[Any]:
    """Every key a layout shows, decoded."""
    if layout["kind"] == "adaptive":
        return [k for table in layout["tables"] for k in _layout_keys(table["layout"])]
    if layout["kind"] == "robinhood":
        return [decode_key(s["key"]) for s in layout["slots"] if s["state"] == "occupied"]
    return [decode_key(e["key"]) for bucket in layout["buckets"] for g in bucket for e in g]


class _Opaque:
    def __repr__(self) -> str:
        return "<opaque>"


def test_layout_is_json_with_bytes_keys_and_arbitrary_values(m: engine.BaseMap) -> None:
    """``json.dumps(layout())`` works for bytes keys and any values; keys round-trip."""
    weird: dict[Any, Any] = {
        b"\x00\xff": _Opaque(),
        b"": {1: "int-keyed dict"},
        "set": {1, 2},
        "nested": [b"\x01", ("t", None), {"s": b"\x02"}],
        "float": 1.5,
        "\ud800": "lone surrogate key",
        2**70: object,
    }
    m.update(weird)
    model = _model(m)
    text = json.dumps(m.layout())
    data = json.loads(text)
    shown = _layout_keys(data)
    assert sorted(map(repr, shown)) == sorted(map(repr, model))
    assert {"bytes": "00ff"} in [s.get("key") for s in _all_entries(data)]


def _all_entries(layout: dict[str, Any]) -> list[dict[str, Any]]:
    if layout["kind"] == "adaptive":
        return [e for table in layout["tables"] for e in _all_entries(table["layout"])]
    if layout["kind"] == "robinhood":
        return [s for s in layout["slots"] if s["state"] == "occupied"]
    return [e for bucket in layout["buckets"] for g in bucket for e in g]


@pytest.mark.parametrize("kind", KINDS)
def test_layout_survives_a_self_referencing_value(kind: str) -> None:
    """A list that contains itself is a legal value (``repr`` shows ``[[...]]``);
    ``layout()`` must still produce JSON rather than recurse forever."""
    m = engine.create_map(kind)
    loop: list[Any] = []
    loop.append(loop)
    m["loop"] = loop
    assert "[[...]]" in repr(m)
    json.dumps(m.layout())


# --------------------------------------------------------------------------- construction


def test_unknown_kind_is_a_value_error_naming_it() -> None:
    """``create_map`` with an unknown kind names it and the known kinds."""
    with pytest.raises(ValueError, match="'nope'") as got:
        engine.create_map("nope")
    for kind in KINDS:
        assert kind in str(got.value)
    assert sorted(engine.MAP_KINDS) == sorted(KINDS)


@pytest.mark.parametrize(
    ("kind", "options", "field"),
    [
        ("robinhood", {"max_load_factor": 1.5}, "max_load_factor"),
        ("robinhood", {"max_load_factor": 0}, "max_load_factor"),
        ("robinhood", {"deletion": "x"}, "deletion"),
        ("chaining", {"groups": 3}, "groups"),
        ("chaining", {"max_load_factor": -1}, "max_load_factor"),
        ("chaining", {"capacity": 0}, "capacity"),
        ("adaptive", {"deletion": "x"}, "deletion"),
        ("adaptive", {"groups": 6}, "groups"),
        ("adaptive", {"migration_batch": 0}, "migration_batch"),
        ("adaptive", {"initial_backend": "cuckoo"}, "initial_backend"),
        ("adaptive", {"guardrails": {"min_entries": -1}}, "min_entries"),
        ("chaining", {"colour": 1}, "colour"),
        ("robinhood", {"colour": 1}, "colour"),
        ("adaptive", {"colour": 1}, "colour"),
        ("robinhood", {"hash": "md5"}, "hash"),
    ],
)
def test_bad_options_name_the_field(kind: str, options: dict[str, Any], field: str) -> None:
    """Invalid or unknown options raise a ValidationError (a ValueError) naming the field."""
    with pytest.raises(pydantic.ValidationError) as got:
        engine.create_map(kind, **options)
    assert isinstance(got.value, ValueError)
    assert field in str(got.value)


@pytest.mark.parametrize("kind", KINDS)
def test_bad_seed_is_a_value_error(kind: str) -> None:
    """A seed for the unseeded hash, or a malformed keyed seed, is refused."""
    with pytest.raises(ValueError, match="seed"):
        engine.create_map(kind, hash="fast", seed=1)
    with pytest.raises(ValueError, match="seed"):
        engine.create_map(kind, hash="keyed", seed="not hex")


# --------------------------------------------------------------------------- exports


def _public_names_missing_from_all(module: types.ModuleType) -> set[str]:
    """Public attributes defined in the package (not modules, not ``__future__`` flags)
    that ``__all__`` leaves out."""
    missing = set()
    for name, obj in vars(module).items():
        if name.startswith("_") or isinstance(obj, types.ModuleType):
            continue
        if type(obj).__module__ == "__future__":  # ``from __future__ import annotations``
            continue
        if inspect.isclass(obj) or inspect.isfunction(obj):
            origin = getattr(obj, "__module__", "") or ""
            if origin != module.__name__ and not origin.startswith(module.__name__ + "."):
                continue
        if name not in module.__all__:
            missing.add(name)
    return missing


def test_all_lists_exactly_the_public_names(tmp_path: Path) -> None:
    """Every ``__all__`` name exists; every public engine export is in ``__all__``."""
    assert len(engine.__all__) == len(set(engine.__all__))
    for name in engine.__all__:
        assert hasattr(engine, name), name
    star = tmp_path / "star_import.py"
    star.write_text("from engine import *\n", encoding="utf-8")
    namespace = runpy.run_path(str(star))
    imported = {n for n in namespace if n in engine.__all__ or not n.startswith("__")}
    assert imported == set(engine.__all__)
    assert _public_names_missing_from_all(engine) == set()


def test_export_check_catches_a_forgotten_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above fails when a public engine class or function is not in ``__all__``."""

    def helper() -> None: ...

    class Widget: ...

    helper.__module__ = Widget.__module__ = "engine.extra"
    monkeypatch.setattr(engine, "helper", helper, raising=False)
    monkeypatch.setattr(engine, "Widget", Widget, raising=False)
    monkeypatch.setattr(engine, "LIMIT", 3, raising=False)
    monkeypatch.setattr(engine, "dumps", json.dumps, raising=False)  # re-exported stdlib
    assert _public_names_missing_from_all(engine) == {"helper", "Widget", "LIMIT"}
