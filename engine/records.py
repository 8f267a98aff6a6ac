"""Shared ``__eq__``, ``__hash__`` and ``__repr__`` for the engine's dataclasses.

``@dataclass`` writes each of these methods as source text for every class and compiles
it when the module is imported: about half of the cost of a frozen dataclass, and the
engine defines some thirty on the path of a short command (its trace events, map
options, replay records, default settings). The classes that subclass :class:`Record`
or :class:`FrozenRecord` ask ``@dataclass`` for ``eq=False, repr=False`` and inherit these
instead, which behave as the generated ones do:

- ``__eq__`` compares the fields with ``compare=True`` as a tuple, for two instances of
  exactly the same class, and returns ``NotImplemented`` otherwise;
- ``__hash__`` is the hash of that tuple for a :class:`FrozenRecord` (as with ``frozen=True``
  and the default ``eq=True``), and ``None`` (unhashable) for a mutable :class:`Record`;
- ``__repr__`` is ``ClassName(field=value!r, ...)`` over the fields with ``repr=True``,
  ``...`` for an instance met again while it is being shown.

``dataclasses.fields``, ``replace``, ``asdict`` and ``__init__`` are ``@dataclass``'s own.
``tests/test_records.py`` holds each subclass to a twin made by plain ``@dataclass``.

The bottom layer, beside :mod:`engine.errors`: imports nothing from the engine.
"""

from __future__ import annotations

from dataclasses import fields
from reprlib import recursive_repr
from typing import TypeVar

__all__ = ["FrozenRecord", "Record", "interpreted"]

_C = TypeVar("_C", bound=type)


def interpreted(cls: _C) -> _C:
    """Keep ``cls`` an ordinary Python class when its module is compiled with mypyc.

    mypyc makes a native class of every class it compiles unless the class has a decorator
    it does not know, and a native class cannot derive from :class:`Record` (a Python class
    with ``__slots__``): the compiled module fails at import. This decorator does nothing
    else, so the pure build is unchanged (see docs/performance.md, the compiled build).
    """
    return cls


#: class -> (names compared, names hashed, names shown), worked out on first use
_NAMES: dict[type, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {}


def _names(cls: type) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    names = _NAMES.get(cls)
    if names is None:
        found = fields(cls)
        names = (
            tuple(f.name for f in found if f.compare),
            tuple(f.name for f in found if (f.compare if f.hash is None else f.hash)),
            tuple(f.name for f in found if f.repr),
        )
        _NAMES[cls] = names
    return names


class _Fields:
    """``__eq__`` and ``__repr__`` over the dataclass fields."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        compared = _names(self.__class__)[0]
        return tuple(getattr(self, n) for n in compared) == tuple(
            getattr(other, n) for n in compared
        )

    @recursive_repr()
    def __repr__(self) -> str:
        shown = _names(self.__class__)[2]
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in shown)
        return f"{self.__class__.__qualname__}({inner})"


class Record(_Fields):
    """A mutable dataclass's ``__eq__`` and ``__repr__``; unhashable, as a mutable
    dataclass with ``eq=True`` is."""

    __slots__ = ()
    __hash__ = None  # type: ignore[assignment]


class FrozenRecord(_Fields):
    """A frozen dataclass's ``__eq__``, ``__hash__`` and ``__repr__``."""

    __slots__ = ()

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, n) for n in _names(self.__class__)[1]))
