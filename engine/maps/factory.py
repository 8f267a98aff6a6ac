"""``create_map(kind, **options)``: build any of the three maps by name."""

from __future__ import annotations

from typing import Any, Literal

from engine.maps.adaptive import AdaptiveMap
from engine.maps.base import BaseMap
from engine.maps.chaining import ChainingMap
from engine.maps.robinhood import RobinHoodMap

__all__ = ["MAP_KINDS", "MapKind", "create_map"]

MapKind = Literal["chaining", "robinhood", "adaptive"]
MAP_KINDS: dict[str, type[BaseMap]] = {
    "chaining": ChainingMap,
    "robinhood": RobinHoodMap,
    "adaptive": AdaptiveMap,
}


def create_map(kind: str, **options: Any) -> BaseMap:
    """A new empty map of ``kind`` (chaining, robinhood or adaptive).

    ``options`` are that map's options (see :mod:`engine.maps.option_models`); an unknown kind or
    option raises ``ValueError`` naming it.
    """
    try:
        cls = MAP_KINDS[kind]
    except KeyError:
        known = ", ".join(MAP_KINDS)
        raise ValueError(f"unknown map kind {kind!r} (known: {known})") from None
    return cls(**options)
