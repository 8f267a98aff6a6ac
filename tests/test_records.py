"""``engine.records``: every record class behaves as its twin made by plain ``@dataclass``
(construction, defaults and factories, ``==``, ``hash``, ``repr``, frozenness,
``fields``/``replace``/``asdict``), and the machinery itself follows ``@dataclass``'s
rules for inheritance, ``ClassVar``, ``kw_only``, ``__post_init__`` and bad
declarations."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
from functools import partial
from typing import Any, ClassVar

import pytest

import engine
from engine import records
from engine.records import FrozenRecord, Record, asdict, field, fields, replace


def _record_classes() -> list[type]:
    found: dict[str, type] = {}
    for info in pkgutil.walk_packages(engine.__path__, "engine."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, (Record, FrozenRecord))
                and value not in (Record, FrozenRecord)
                and value.__module__ == module.__name__
            ):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return [found[name] for name in sorted(found)]


CLASSES = _record_classes()


def _twin(cls: type) -> type:
    """The same fields made into a dataclass with the generated methods."""
    specs = []
    for f in fields(cls):
        options: dict[str, Any] = {
            "compare": f.compare,
            "repr": f.repr,
            "hash": f.hash,
            "kw_only": f.kw_only,
            "metadata": f.metadata,
        }
        if f.default is not records.MISSING:
            options["default"] = f.default
        if f.default_factory is not records.MISSING:
            options["default_factory"] = f.default_factory
        specs.append((f.name, f.type, dataclasses.field(**options)))
    twin = dataclasses.make_dataclass(
        cls.__name__, specs, frozen=issubclass(cls, FrozenRecord), namespace={}
    )
    twin.__qualname__ = cls.__qualname__
    twin.__init__.__qualname__ = f"{cls.__qualname__}.__init__"  # type: ignore[misc]
    return twin


def _refusal(make: Any) -> str:
    with pytest.raises(TypeError) as caught:
        make()
    return str(caught.value)


def _build(cls: type, values: dict[str, Any]) -> Any:
    """An instance with these field values, past ``__init__`` and any checks."""
    obj = object.__new__(cls)
    for name, value in values.items():
        object.__setattr__(obj, name, value)
    return obj


def _required(cls: type) -> dict[str, Any]:
    return {
        f.name: f"given-{f.name}"
        for f in fields(cls)
        if f.default is records.MISSING and f.default_factory is records.MISSING
    }


def _state(obj: Any) -> dict[str, Any]:
    return (
        {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
        if (dataclasses.is_dataclass(obj))
        else {f.name: getattr(obj, f.name) for f in fields(obj)}
    )


def test_the_start_up_records_are_found() -> None:
    names = {cls.__name__ for cls in CLASSES}
    assert {"HashEvent", "TraceEvent", "AdaptiveSpec", "ReplayResult", "Context"} <= names


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__qualname__)
def test_a_record_behaves_as_its_dataclass_twin(cls: type) -> None:
    twin = _twin(cls)
    names = [f.name for f in fields(cls)]
    assert names == [f.name for f in dataclasses.fields(twin)]
    values = {name: (f"v{i}", i) for i, name in enumerate(names)}
    a, b = _build(cls, values), _build(cls, dict(values))
    ta = _build(twin, values)
    assert repr(a) == repr(ta)
    assert a == b
    assert (a != b) is False
    assert a.__eq__(ta) is NotImplemented and ta.__eq__(a) is NotImplemented
    if names:
        changed = _build(cls, {**values, names[-1]: "other"})
        assert a != changed
        assert (a == changed) == (ta == _build(twin, {**values, names[-1]: "other"}))
    if issubclass(cls, FrozenRecord):
        assert hash(a) == hash(b) == hash(ta)
    else:
        with pytest.raises(TypeError):
            hash(a)
        with pytest.raises(TypeError):
            hash(ta)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__qualname__)
def test_a_record_is_made_as_its_dataclass_twin_is(cls: type) -> None:
    twin = _twin(cls)
    given = _required(cls)
    made, twin_made = cls(**given), twin(**given)
    assert _state(made) == _state(twin_made)  # the defaults, and the factories' values
    for f in fields(cls):
        if f.default_factory is not records.MISSING:  # a new value for each instance
            assert getattr(made, f.name) is not getattr(cls(**given), f.name)
    everything = {name: f"set-{name}" for name in (f.name for f in fields(cls))}
    assert _state(cls(**everything)) == _state(twin(**everything))
    positional = [f.name for f in fields(cls) if not f.kw_only]
    args = [everything[name] for name in positional]
    rest = {k: v for k, v in everything.items() if k not in positional}
    assert _state(cls(*args, **rest)) == _state(twin(*args, **rest))
    bad_calls = [
        lambda c: c(*args, "one too many", **rest),
        lambda c: c(**everything, not_a_field=1),
    ]
    if args:
        bad_calls.append(lambda c: c(*args[:1], **everything))
    for bad_call in bad_calls:  # the same TypeError, word for word
        assert _refusal(partial(bad_call, cls)) == _refusal(partial(bad_call, twin))
    for name in given:
        missing = {k: v for k, v in given.items() if k != name}
        assert name in _refusal(partial(cls, **missing))
        assert _refusal(partial(cls, **missing)) == _refusal(partial(twin, **missing))
    ours, theirs = inspect.signature(cls), inspect.signature(twin)
    assert [(p.name, p.kind) for p in ours.parameters.values()] == [
        (p.name, p.kind) for p in theirs.parameters.values()
    ]
    for f in fields(cls):
        if f.default is not records.MISSING:
            assert ours.parameters[f.name].default == theirs.parameters[f.name].default
    assert _state(replace(made, **everything)) == _state(
        dataclasses.replace(twin_made, **everything)
    )
    assert asdict(cls(**everything)) == dataclasses.asdict(twin(**everything))


@pytest.mark.parametrize(
    "cls", [c for c in CLASSES if issubclass(c, FrozenRecord)], ids=lambda c: c.__qualname__
)
def test_a_frozen_record_refuses_changes_as_a_frozen_dataclass_does(cls: type) -> None:
    made = cls(**_required(cls))
    for f in fields(cls):
        before = getattr(made, f.name)
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(made, f.name, "changed")
        with pytest.raises(dataclasses.FrozenInstanceError):
            delattr(made, f.name)
        assert getattr(made, f.name) is before


def test_a_record_that_holds_itself_is_shown_as_its_twin_is() -> None:
    from engine.workloads.replay import ReplayProgress

    twin = _twin(ReplayProgress)
    names = [f.name for f in fields(ReplayProgress)]
    shown = []
    for cls in (ReplayProgress, twin):
        obj = _build(cls, dict.fromkeys(names, 0))
        object.__setattr__(obj, names[0], [obj])
        shown.append(repr(obj))
    assert shown[0] == shown[1]
    assert "[...]" in shown[0]


def test_fields_left_out_of_comparison_or_repr_are_left_out() -> None:
    class Mixed(FrozenRecord):
        shown: int
        hidden: int = field(default=0, repr=False)
        ignored: int = field(default=0, compare=False)

    twin = _twin(Mixed)
    for one, other in ((Mixed(1, 2, 3), Mixed(1, 2, 4)), (Mixed(1, 2, 3), Mixed(1, 5, 3))):
        t1, t2 = twin(**asdict(one)), twin(**asdict(other))
        assert repr(one) == repr(t1)
        assert "hidden" not in repr(one) and "ignored=" in repr(one)
        assert (one == other) == (t1 == t2)
        assert (hash(one) == hash(other)) == (hash(t1) == hash(t2))


def test_fields_are_inherited_in_order_and_class_constants_are_not_fields() -> None:
    class Base(Record):
        kind: ClassVar[str] = "base"
        a: int
        b: int = 2

    class Child(Base):
        kind: ClassVar[str] = "child"
        b: int = 20  # a base's field again: it keeps its place, with the new default
        c: list[int] = field(default_factory=list)

    assert [f.name for f in fields(Child)] == ["a", "b", "c"]
    assert [f.name for f in fields(Base)] == ["a", "b"]
    made = Child(1)
    assert (made.a, made.b, made.c, made.kind) == (1, 20, [], "child")
    assert Child(1, 5, [3]) == Child(a=1, b=5, c=[3]) != Child(1)
    assert Base(1).b == 2 and Base.kind == "base"
    assert fields(made) == fields(Child)


def test_kw_only_post_init_and_bad_declarations_follow_dataclass() -> None:
    calls = []

    class Event(FrozenRecord, kw_only=True):
        table: str

    class Step(Event, kw_only=True):
        size: int = 0
        where: str

        def __post_init__(self) -> None:
            calls.append((self.table, self.size, self.where))

    with pytest.raises(TypeError):
        Step("t", 1, "w")  # type: ignore[misc]
    Step(table="t", where="w")
    assert calls == [("t", 0, "w")]
    with pytest.raises(ValueError, match="mutable default"):

        class Mutable(Record):
            items: list[int] = []  # noqa: RUF012 (the mistake under test)

    with pytest.raises(TypeError, match="non-default argument 'b'"):

        class Ordered(Record):
            a: int = 1
            b: int

    with pytest.raises(ValueError, match="both default and default_factory"):
        field(default=1, default_factory=int)
    with pytest.raises(TypeError):
        fields(object())
    with pytest.raises(TypeError):
        asdict({"a": 1})
    with pytest.raises(TypeError, match="no field 'nope'"):
        replace(Step(table="t", where="w"), nope=1)


def test_a_record_survives_copy() -> None:
    import copy

    from engine.maps.options import AdaptiveSpec
    from engine.tracing.events import ResizeEvent

    for obj in (
        AdaptiveSpec(capacity=16),
        ResizeEvent(table="chaining", old_capacity=8, new_capacity=16, size=7, reason="x"),
    ):
        for clone in (copy.copy(obj), copy.deepcopy(obj)):
            assert clone == obj and clone is not obj and hash(clone) == hash(obj)


def test_the_records_made_in_numbers_keep_no_instance_dict() -> None:
    """Trace events (one per step of every traced operation) and map options have slots,
    as their dataclasses had: no ``__dict__`` per instance."""
    from engine.maps.options import AdaptiveSpec
    from engine.tracing.events import ResizeEvent
    from engine.tracing.steps import ProbeEvent

    made = [
        ProbeEvent(table="chaining", distance=0, state="empty", bucket=1, group=0, position=0),
        ResizeEvent(table="chaining", old_capacity=8, new_capacity=16, size=7, reason="x"),
        AdaptiveSpec(),
    ]
    for obj in made:
        assert not hasattr(obj, "__dict__"), type(obj).__name__
        with pytest.raises(AttributeError):
            object.__setattr__(obj, "not_a_field", 1)


@pytest.mark.parametrize(
    "name", ["not an identifier", "x=1); import os; (y", "class", "_record_set"]
)
def test_a_field_name_that_is_not_a_plain_identifier_is_refused(name: str) -> None:
    """``__init__`` is written from the field names: only identifiers may get there."""
    with pytest.raises(TypeError, match="not a plain identifier"):
        type(Record)("Crafted", (Record,), {"__annotations__": {name: "int"}})


def test_the_records_of_compiled_modules_take_no_class_keywords() -> None:
    """mypyc drops class keywords (``kw_only=True``, ``slots=True``) when it builds the
    classes of a compiled module, so a record there would change under that build."""
    from engine.build import HOT_MODULES

    compiled = [cls for cls in CLASSES if cls.__module__ in HOT_MODULES]
    assert compiled, "the hot modules define records (HashSpec, RowBatch)"
    for cls in compiled:
        assert "__slots__" not in vars(cls), cls.__qualname__
        assert not any(f.kw_only for f in fields(cls)), cls.__qualname__
