"""``engine.records``: the shared ``__eq__``, ``__hash__`` and ``__repr__`` behave as the
methods ``@dataclass`` would have written for each class that uses them."""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from typing import Any

import pytest

import engine
from engine.records import FrozenRecord, Record


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
    params = cls.__dataclass_params__  # type: ignore[attr-defined]
    specs = [
        (f.name, f.type, dataclasses.field(compare=f.compare, repr=f.repr, hash=f.hash))
        for f in dataclasses.fields(cls)
    ]
    twin = dataclasses.make_dataclass(cls.__name__, specs, frozen=params.frozen, init=False)
    twin.__qualname__ = cls.__qualname__
    return twin


def _build(cls: type, values: dict[str, Any]) -> Any:
    """An instance with these field values, past ``__init__`` and any checks."""
    obj = object.__new__(cls)
    for name, value in values.items():
        object.__setattr__(obj, name, value)
    return obj


def test_the_start_up_records_are_found() -> None:
    names = {cls.__name__ for cls in CLASSES}
    assert {"HashEvent", "TraceEvent", "AdaptiveSpec", "ReplayResult", "Context"} <= names


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__qualname__)
def test_a_record_behaves_as_its_dataclass_twin(cls: type) -> None:
    params = cls.__dataclass_params__  # type: ignore[attr-defined]
    assert not params.eq and not params.repr  # else dataclass writes its own methods again
    assert issubclass(cls, FrozenRecord) == params.frozen
    twin = _twin(cls)
    names = [f.name for f in dataclasses.fields(cls)]
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
    if params.frozen:
        assert hash(a) == hash(b) == hash(ta)
    else:
        with pytest.raises(TypeError):
            hash(a)
        with pytest.raises(TypeError):
            hash(ta)


def test_a_record_that_holds_itself_is_shown_as_its_twin_is() -> None:
    from engine.workloads.replay import ReplayProgress

    twin = _twin(ReplayProgress)
    names = [f.name for f in dataclasses.fields(ReplayProgress)]
    shown = []
    for cls in (ReplayProgress, twin):
        obj = _build(cls, dict.fromkeys(names, 0))
        object.__setattr__(obj, names[0], [obj])
        shown.append(repr(obj))
    assert shown[0] == shown[1]
    assert "[...]" in shown[0]


def test_fields_left_out_of_comparison_or_repr_are_left_out() -> None:
    @dataclasses.dataclass(frozen=True, eq=False, repr=False)
    class Mixed(FrozenRecord):
        shown: int
        hidden: int = dataclasses.field(default=0, repr=False)
        ignored: int = dataclasses.field(default=0, compare=False)

    twin = _twin(Mixed)
    for one, other in ((Mixed(1, 2, 3), Mixed(1, 2, 4)), (Mixed(1, 2, 3), Mixed(1, 5, 3))):
        t1 = _build(twin, dataclasses.asdict(one))
        t2 = _build(twin, dataclasses.asdict(other))
        assert repr(one) == repr(t1)
        assert (one == other) == (t1 == t2)
        assert (hash(one) == hash(other)) == (hash(t1) == hash(t2))
