"""Records: the engine's small typed value classes, without importing :mod:`dataclasses`.

A class that subclasses :class:`Record` (mutable) or :class:`FrozenRecord` declares its
fields as ``@dataclass`` would, by annotations with optional defaults or :func:`field`
specifiers, and gets what ``@dataclass(eq=True, repr=True)`` would write for it:

- ``__init__`` taking the fields in order, positionally or by name (by name only for
  a class made with ``kw_only=True``: ``class E(FrozenRecord, kw_only=True)``), with the
  defaults and factories, then ``__post_init__()`` when the class has one: the same
  function text ``@dataclass`` writes, so the same signature and errors;
- ``__slots__`` for a class made with ``slots=True`` (no ``__dict__`` per instance);
- ``__eq__`` comparing the fields with ``compare=True`` as a tuple, for two instances of
  exactly the same class, and ``NotImplemented`` otherwise;
- ``__hash__`` the hash of that tuple for a :class:`FrozenRecord`, and ``None``
  (unhashable) for a mutable :class:`Record`;
- ``__repr__`` ``ClassName(field=value!r, ...)`` over the fields with ``repr=True``,
  ``...`` for an instance met again while it is being shown;
- for a :class:`FrozenRecord`, assigning or deleting a field raises
  ``dataclasses.FrozenInstanceError``.

:func:`fields`, :func:`replace` and :func:`asdict` work as the functions of the same
names in :mod:`dataclasses`. ``ClassVar`` annotations are class constants, not fields.
Fields are inherited: a subclass's own come after its bases', and re-annotating a
base's field keeps its place. Type checkers see each subclass as a dataclass
(:func:`typing.dataclass_transform`).

Why not ``@dataclass``: importing :mod:`dataclasses` loads :mod:`inspect` (and with it
:mod:`ast`, :mod:`dis` and :mod:`tokenize`), and ``@dataclass`` writes every method of
every class as source text and compiles it when the module is imported. The engine
defines some thirty records on the path of a short command (its trace events, map
options, replay and CSV records, default settings, the CLI's context), and the two
costs together were about a third of a 10-row replay's start-up (docs/performance.md).
Here a class costs one pass over its annotations when it is made, and its ``__init__``
is written and compiled the first time the class is instantiated (about 60
microseconds, once): most classes on a short command's path are never instantiated
(the trace events, for one), and an instance is then made as fast as a dataclass's.
``tests/test_records.py`` holds every
subclass to a twin made by plain ``@dataclass``.

The bottom layer, beside :mod:`engine.errors`: imports nothing from the engine.
"""

from __future__ import annotations

from collections.abc import Iterator
from keyword import iskeyword
from reprlib import recursive_repr
from typing import Any, ClassVar, Final, TypeVar, dataclass_transform

__all__ = [
    "Field",
    "FrozenRecord",
    "Record",
    "asdict",
    "field",
    "fields",
    "interpreted",
    "replace",
]

_C = TypeVar("_C", bound=type)
_R = TypeVar("_R", bound="_Fields")


def interpreted(cls: _C) -> _C:
    """Keep ``cls`` an ordinary Python class when its module is compiled with mypyc.

    mypyc makes a native class of every class it compiles unless the class has a decorator
    it does not know, and a native class cannot derive from :class:`Record` (a Python class
    whose fields ``__init_subclass__`` works out at run time): the compiled module fails at
    import. This decorator does nothing else, so the pure build is unchanged (see
    docs/performance.md, the compiled build).
    """
    return cls


#: mypyc builds the classes of a compiled module without their class keywords
#: (``kw_only=True``, ``slots=True``): the records in the modules it compiles
#: (:mod:`engine.maps.hashing`, :mod:`engine.maps.batch`) take none.


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final[Any] = _Missing()


class Field:
    """One field of a record: what :func:`field` said about it, and its name and type
    (the annotation's text) once the class is made."""

    __slots__ = (
        "compare",
        "default",
        "default_factory",
        "hash",
        "kw_only",
        "metadata",
        "name",
        "repr",
        "type",
    )

    def __init__(
        self,
        default: Any,
        default_factory: Any,
        repr: bool,
        compare: bool,
        hash: bool | None,
        metadata: dict[str, Any] | None,
    ) -> None:
        if default is not MISSING and default_factory is not MISSING:
            raise ValueError("cannot specify both default and default_factory")
        self.name = ""
        self.type: Any = None
        self.default = default
        self.default_factory = default_factory
        self.repr = repr
        self.compare = compare
        self.hash = hash
        self.metadata: dict[str, Any] = dict(metadata or {})
        self.kw_only = False

    def __repr__(self) -> str:
        return f"Field(name={self.name!r}, default={self.default!r})"


def field(
    *,
    default: Any = MISSING,
    default_factory: Any = MISSING,
    repr: bool = True,
    compare: bool = True,
    hash: bool | None = None,
    metadata: dict[str, Any] | None = None,
) -> Any:
    """A field's default or factory, and whether ``repr``, ``==`` and ``hash`` use it
    (as :func:`dataclasses.field`)."""
    return Field(default, default_factory, repr, compare, hash, metadata)


def _is_class_var(annotation: Any) -> bool:
    text = annotation if isinstance(annotation, str) else repr(annotation)
    return text.startswith(("ClassVar", "typing.ClassVar"))


def _own_fields(ns: dict[str, Any], kw_only: bool, slots: bool) -> Iterator[Field]:
    """The fields a class body declares, taken out of its namespace: a default stays as
    the class attribute of that name (as ``@dataclass`` leaves it), unless the class has
    slots, whose descriptors take those names."""
    for name, annotation in ns.get("__annotations__", {}).items():
        if _is_class_var(annotation):
            continue
        if not name.isidentifier() or iskeyword(name) or name.startswith("_record_"):
            raise TypeError(f"field name {name!r} is not a plain identifier")
        value = ns.get(name, MISSING)
        spec = value if isinstance(value, Field) else field(default=value)
        if isinstance(spec.default, list | dict | set):
            raise ValueError(
                f"mutable default {type(spec.default)} for field {name} is not allowed: "
                "use default_factory"
            )
        spec.name, spec.type, spec.kw_only = name, annotation, kw_only
        if slots or spec.default is MISSING:
            ns.pop(name, None)
        else:
            ns[name] = spec.default
        yield spec


_FACTORY = MISSING  # the parameter default that stands for "call the factory"


def _init_source(declared: tuple[Field, ...], frozen: bool, post_init: bool) -> str:
    """The text of a record class's ``__init__``, as ``@dataclass`` writes it."""
    params: list[str] = ["self"]
    kw_params: list[str] = []
    body: list[str] = []
    for f in declared:
        if f.default is not MISSING:
            param = f"{f.name}=_record_default_{f.name}"
        elif f.default_factory is not MISSING:
            param = f"{f.name}=_record_FACTORY"
        else:
            param = f.name
        (kw_params if f.kw_only else params).append(param)
        value = f.name
        if f.default_factory is not MISSING:
            value = f"_record_factory_{f.name}() if {f.name} is _record_FACTORY else {f.name}"
        if frozen:
            body.append(f"    _record_set(self, {f.name!r}, {value})")
        else:
            body.append(f"    self.{f.name} = {value}")
    if post_init:
        body.append("    self.__post_init__()")
    if kw_params:
        params += ["*", *kw_params]
    return f"def __init__({', '.join(params)}):\n" + ("\n".join(body) or "    pass") + "\n"


def _compile_init(cls: type) -> Any:
    """Write, compile and install ``cls.__init__`` (the first time ``cls`` is made, so
    that a class no command instantiates costs nothing). About 60 microseconds."""
    declared: tuple[Field, ...] = cls.__record_fields__  # type: ignore[attr-defined]
    scope: dict[str, Any] = {
        "_record_set": object.__setattr__,
        "_record_FACTORY": _FACTORY,
    }
    for f in declared:
        scope[f"_record_default_{f.name}"] = f.default
        scope[f"_record_factory_{f.name}"] = f.default_factory
    frozen = issubclass(cls, FrozenRecord)
    source = _init_source(declared, frozen, hasattr(cls, "__post_init__"))
    exec(source, scope)  # text made here from field names, as dataclasses does
    init = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__doc__ = "The fields in order, by position or name (see engine.records)."
    type.__setattr__(cls, "__init__", init)
    return init


def _first_init(cls: type) -> Any:
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        init = cls.__dict__["__init__"]
        if init is __init__:
            init = _compile_init(cls)
        init(self, *args, **kwargs)

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    return __init__


class _RecordType(type):
    """Makes each record class: its fields from the annotations (the bases' first),
    ``__slots__`` for a class made with ``slots=True``, and an ``__init__`` written the
    first time the class is instantiated. O(fields) per class."""

    def __new__(
        mcls,
        name: str,
        bases: tuple[type, ...],
        ns: dict[str, Any],
        *,
        kw_only: bool = False,
        slots: bool = False,
        **kwargs: Any,
    ) -> _RecordType:
        found: dict[str, Field] = {}
        for base in reversed(bases):
            for f in getattr(base, "__record_fields__", ()):
                found[f.name] = f
        own = list(_own_fields(ns, kw_only, slots))
        if slots:
            ns["__slots__"] = tuple(f.name for f in own if f.name not in found)
        for f in own:
            found[f.name] = f
        ordered = tuple(found.values())
        seen_default = ""
        for f in ordered:
            if f.kw_only:
                continue
            if f.default is MISSING and f.default_factory is MISSING:
                if seen_default:
                    raise TypeError(f"non-default argument {f.name!r} follows default argument")
            else:
                seen_default = f.name
        ns["__record_fields__"] = ordered
        ns["__record_names__"] = (
            tuple(f.name for f in ordered if f.compare),
            tuple(f.name for f in ordered if (f.compare if f.hash is None else f.hash)),
            tuple(f.name for f in ordered if f.repr),
        )
        cls = super().__new__(mcls, name, bases, ns, **kwargs)
        if "__init__" not in ns:
            type.__setattr__(cls, "__init__", _first_init(cls))
        return cls


class _Fields(metaclass=_RecordType):
    """The machinery :class:`Record` and :class:`FrozenRecord` share."""

    __slots__ = ()
    __record_fields__: ClassVar[tuple[Field, ...]] = ()
    __record_names__: ClassVar[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = (
        (),
        (),
        (),
    )

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        compared = self.__record_names__[0]
        return tuple(getattr(self, n) for n in compared) == tuple(
            getattr(other, n) for n in compared
        )

    @recursive_repr()
    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__record_names__[2])
        return f"{self.__class__.__qualname__}({inner})"


@dataclass_transform(field_specifiers=(field,))
class Record(_Fields):
    """A mutable record; unhashable, as a mutable dataclass with ``eq=True`` is."""

    __slots__ = ()
    __hash__ = None  # type: ignore[assignment]


def _frozen(name: str) -> Exception:
    from dataclasses import FrozenInstanceError  # only on this error: see the docstring

    return FrozenInstanceError(f"cannot assign to field {name!r}")


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
class FrozenRecord(_Fields):
    """A frozen record: its fields are set once, by ``__init__``."""

    __slots__ = ()

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, n) for n in self.__record_names__[1]))

    def __setattr__(self, name: str, value: object) -> None:
        raise _frozen(name)

    def __delattr__(self, name: str) -> None:
        raise _frozen(name)

    def __getstate__(self) -> list[Any]:
        """The field values, for :mod:`copy` (which would otherwise set them one by one)."""
        return [getattr(self, f.name) for f in self.__record_fields__]

    def __setstate__(self, state: list[Any]) -> None:
        for f, value in zip(self.__record_fields__, state, strict=True):
            object.__setattr__(self, f.name, value)


def fields(record: Any) -> tuple[Field, ...]:
    """The fields of a record class or instance, in order (as :func:`dataclasses.fields`)."""
    found = getattr(record, "__record_fields__", None)
    if found is None:
        raise TypeError("must be called with a record type or instance")
    return found  # type: ignore[no-any-return]


def replace(record: _R, /, **changes: Any) -> _R:
    """A new record of the same class with ``changes`` applied. O(fields)."""
    values = {f.name: getattr(record, f.name) for f in record.__record_fields__}
    for name in changes:
        if name not in values:
            raise TypeError(f"{record.__class__.__qualname__} has no field {name!r}")
    values.update(changes)
    return record.__class__(**values)


def asdict(record: Any) -> dict[str, Any]:
    """The record's fields as a dict, records inside it (and in lists, tuples and dicts)
    turned into dicts too (as :func:`dataclasses.asdict`, which also deep-copies other
    values: the records here hold immutable ones). O(size)."""
    if not isinstance(record, _Fields):
        raise TypeError("asdict() should be called on record instances")
    return _as_plain(record)  # type: ignore[no-any-return]


def _as_plain(value: Any) -> Any:
    if isinstance(value, _Fields):
        return {f.name: _as_plain(getattr(value, f.name)) for f in value.__record_fields__}
    if isinstance(value, list | tuple):
        return type(value)(_as_plain(v) for v in value)
    if isinstance(value, dict):
        return {_as_plain(k): _as_plain(v) for k, v in value.items()}
    return value
