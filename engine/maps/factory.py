"""``create_map(kind, **options)``: build any of the three maps by name."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from engine.maps.base import BaseMap

__all__ = ["MAP_KINDS", "MapKind", "create_map"]

MapKind = Literal["chaining", "robinhood", "adaptive"]


def _map_class(kind: str) -> type[BaseMap]:
    """The class of ``kind``, importing only its module (a replay on one backend does not
    load the others); KeyError for an unknown kind."""
    if kind == "chaining":
        from engine.maps.chaining import ChainingMap

        return ChainingMap
    if kind == "robinhood":
        from engine.maps.robinhood import RobinHoodMap

        return RobinHoodMap
    if kind == "adaptive":
        from engine.maps.adaptive import AdaptiveMap

        return AdaptiveMap
    raise KeyError(kind)


_KINDS: tuple[MapKind, ...] = ("chaining", "robinhood", "adaptive")

if TYPE_CHECKING:
    #: Each kind's class (built on first access, which imports all three maps).
    MAP_KINDS: dict[str, type[BaseMap]]


def __getattr__(name: str) -> Any:
    if name == "MAP_KINDS":
        kinds = {kind: _map_class(kind) for kind in _KINDS}
        globals()["MAP_KINDS"] = kinds
        return kinds
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def create_map(kind: str, **options: Any) -> BaseMap:
    """A new empty map of ``kind`` (chaining, robinhood or adaptive).

    ``options`` are that map's options (see :mod:`engine.maps.option_models`); an unknown kind or
    option raises ``ValueError`` naming it.
    """
    try:
        cls = _map_class(kind)
    except KeyError:
        known = ", ".join(_KINDS)
        raise ValueError(f"unknown map kind {kind!r} (known: {known})") from None
    return cls(**options)
