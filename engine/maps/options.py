"""Map options checked without pydantic on the common path.

The option models in :mod:`engine.maps.option_models` are the reference: defaults, bounds and error
messages. Importing pydantic and building their validators, though, costs more than
a short replay, so the maps call :func:`chaining_options`, :func:`robinhood_options` and
:func:`adaptive_options` here. Each accepts plain values (an exact ``int``, a ``float``
or ``int`` for a float, one of the allowed strings, a seed of ``str``, ``int``, ``bytes`` or
``None``) within the documented bounds, in O(number of options), and hands anything
else (other types, values out of bounds, unknown names, guardrails given as a mapping)
to the pydantic model, which converts the value or raises its usual ValidationError.
Either way the map receives one of the frozen records below; tests hold the two paths
to the same values and the records' defaults to the models'.
"""

from __future__ import annotations

from typing import Any, Final, TypeVar

from engine.records import FrozenRecord, asdict, field, fields

__all__ = [
    "AdaptiveSpec",
    "ChainingSpec",
    "GuardrailSpec",
    "RobinHoodSpec",
    "adaptive_options",
    "chaining_options",
    "guardrail_options",
    "robinhood_options",
    "spec_dict",
]

MAX_CAPACITY: Final = 1 << 27  # the models' bounds (engine.maps.option_models)
MAX_CELLS: Final = 1 << 27
_Spec = TypeVar("_Spec")
_INF: Final = float("inf")


class GuardrailSpec(FrozenRecord, slots=True):
    """The fields of :class:`engine.maps.option_models.GuardrailConfig`, checked."""

    chaining_load_factor: float = 0.8
    chaining_max_group_len: int = 8
    chaining_avg_probe: float = 3.0
    robinhood_max_probe: int = 128
    robinhood_avg_probe: float = 8.0
    robinhood_tombstone_ratio: float = 0.25
    min_entries: int = 32
    cooldown_ops: int = 1024
    cooldown_per_entry: float = 4.0
    cooldown_backoff: float = 2.0


class ChainingSpec(FrozenRecord, slots=True):
    """The fields of :class:`engine.maps.option_models.ChainingOptions`, checked."""

    hash: str = "crc32"
    seed: str | int | bytes | None = None
    capacity: int = 8
    max_load_factor: float = 0.75
    groups: int = 4


class RobinHoodSpec(FrozenRecord, slots=True):
    """The fields of :class:`engine.maps.option_models.RobinHoodOptions`, checked."""

    hash: str = "crc32"
    seed: str | int | bytes | None = None
    capacity: int = 8
    max_load_factor: float = 0.8
    deletion: str = "backshift"


class AdaptiveSpec(FrozenRecord, slots=True):
    """The fields of :class:`engine.maps.option_models.AdaptiveOptions`, checked."""

    hash: str = "crc32"
    seed: str | int | bytes | None = None
    capacity: int = 8
    initial_backend: str = "chaining"
    groups: int = 4
    chaining_max_load_factor: float = 1.0
    robinhood_max_load_factor: float = 0.8
    deletion: str = "backshift"
    migration_batch: int = 32
    guardrails: GuardrailSpec = field(default_factory=GuardrailSpec)


# Per field: (type, low, low included, high) for numbers, or the allowed strings.
_Rule = tuple[type, float, bool, float] | tuple[str, ...]
_HASHED: dict[str, _Rule] = {
    "hash": ("crc32", "fast", "keyed"),
    "capacity": (int, 1, True, MAX_CAPACITY),
}
_RULES: dict[type, dict[str, _Rule]] = {
    ChainingSpec: {
        **_HASHED,
        "max_load_factor": (float, 0.0, False, 8.0),
        "groups": (int, 1, True, 64),
    },
    RobinHoodSpec: {
        **_HASHED,
        "max_load_factor": (float, 0.0, False, 1.0),
        "deletion": ("backshift", "tombstone"),
    },
    AdaptiveSpec: {
        **_HASHED,
        "initial_backend": ("chaining", "robinhood"),
        "groups": (int, 1, True, 64),
        "chaining_max_load_factor": (float, 0.0, False, 8.0),
        "robinhood_max_load_factor": (float, 0.0, False, 1.0),
        "deletion": ("backshift", "tombstone"),
        "migration_batch": (int, 1, True, 1 << 20),
    },
    GuardrailSpec: {
        "chaining_load_factor": (float, 0.0, False, 8.0),
        "chaining_max_group_len": (int, 1, True, _INF),
        "chaining_avg_probe": (float, 0.0, False, _INF),
        "robinhood_max_probe": (int, 1, True, _INF),
        "robinhood_avg_probe": (float, 0.0, False, _INF),
        "robinhood_tombstone_ratio": (float, 0.0, False, 1.0),
        "min_entries": (int, 0, True, _INF),
        "cooldown_ops": (int, 0, True, _INF),
        "cooldown_per_entry": (float, 0.0, True, _INF),
        "cooldown_backoff": (float, 1.0, True, _INF),
    },
}


def _checked(value: Any, rule: _Rule) -> Any:
    """``value`` as the model would store it, or ``_UNSURE`` to let the model decide."""
    kind = rule[0]
    if isinstance(kind, str):
        return value if type(value) is str and value in rule else _UNSURE
    _, low, low_included, high = rule
    if kind is int:
        if type(value) is not int:
            return _UNSURE
    elif type(value) is int and -(2**53) <= value <= 2**53:
        value = float(value)  # exactly, as the model converts it
    elif type(value) is not float or value != value or value in (_INF, -_INF):
        return _UNSURE  # NaN and infinities: the model refuses them
    above_low = value >= low if low_included else value > low
    return value if above_low and value <= high else _UNSURE


_UNSURE: Final[Any] = object()


def _quick(spec: type[_Spec], values: dict[str, Any]) -> _Spec | None:
    """A ``spec`` record from plain, in-bounds ``values``; None when the model must look."""
    rules = _RULES[spec]
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name == "seed":
            if value is not None and type(value) not in (str, int, bytes):
                return None
            out[name] = value
            continue
        rule = rules.get(name)
        if rule is None:
            return None
        checked = _checked(value, rule)
        if checked is _UNSURE:
            return None
        out[name] = checked
    groups = out.get("groups", 4)
    if groups & (groups - 1):
        return None
    if "groups" in rules:  # a chaining table: its cells must fit (see MAX_CELLS)
        capacity = out.get("capacity", 8)
        if (1 << max(0, capacity - 1).bit_length()) * groups > MAX_CELLS:
            return None
    return spec(**out)


def guardrail_options(value: Any) -> GuardrailSpec:
    """Guardrails from a :class:`GuardrailSpec`, a ``GuardrailConfig`` or a mapping."""
    if isinstance(value, GuardrailSpec):
        return value
    if isinstance(value, dict):
        quick = _quick(GuardrailSpec, value)
        if quick is not None:
            return quick
    from engine.maps.option_models import GuardrailConfig

    model = GuardrailConfig.model_validate(value)
    return GuardrailSpec(**model.model_dump())


def chaining_options(capacity: int, options: dict[str, Any]) -> ChainingSpec:
    """Checked :class:`ChainingSpec` (see the module docstring)."""
    quick = _quick(ChainingSpec, {"capacity": capacity, **options})
    if quick is not None:
        return quick
    from engine.maps.option_models import ChainingOptions

    return ChainingSpec(**ChainingOptions(capacity=capacity, **options).model_dump())


def robinhood_options(capacity: int, options: dict[str, Any]) -> RobinHoodSpec:
    """Checked :class:`RobinHoodSpec` (see the module docstring)."""
    quick = _quick(RobinHoodSpec, {"capacity": capacity, **options})
    if quick is not None:
        return quick
    from engine.maps.option_models import RobinHoodOptions

    return RobinHoodSpec(**RobinHoodOptions(capacity=capacity, **options).model_dump())


def adaptive_options(capacity: int, options: dict[str, Any]) -> AdaptiveSpec:
    """Checked :class:`AdaptiveSpec` (see the module docstring)."""
    values = {"capacity": capacity, **options}
    guard = values.pop("guardrails", _UNSURE)
    quick = _quick(AdaptiveSpec, values)
    if quick is not None:
        if guard is _UNSURE:
            return quick
        if isinstance(guard, GuardrailSpec) or _is_guardrail_model(guard):
            return AdaptiveSpec(**_fields(quick), guardrails=guardrail_options(guard))
    from engine.maps.option_models import AdaptiveOptions

    model = AdaptiveOptions(capacity=capacity, **options)
    data = model.model_dump(exclude={"guardrails"})
    return AdaptiveSpec(**data, guardrails=guardrail_options(model.guardrails))


def _is_guardrail_model(value: Any) -> bool:
    """Whether ``value`` is a GuardrailConfig (its module is loaded if so)."""
    import sys

    config = sys.modules.get("engine.maps.option_models")
    return config is not None and isinstance(value, config.GuardrailConfig)


def _fields(record: Any) -> dict[str, Any]:
    """A record's fields, one level deep (nested records stay records)."""
    return {f.name: getattr(record, f.name) for f in fields(record) if f.name != "guardrails"}


def spec_dict(record: Any) -> dict[str, Any]:
    """A record as plain data (nested records as dicts), like ``model_dump()``."""
    return asdict(record)
