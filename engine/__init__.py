"""Instrumented hash maps: two-level chaining, Robin Hood, and an adaptive map.

All three are ``collections.abc.MutableMapping`` with deterministic hashing, traceable
operations (:func:`trace`), ``layout()``, ``stats()`` and ``check_invariants()``, and
safe versioned snapshots (:func:`save_snapshot`, :func:`load_snapshot`).
This package never imports Qt. The pydantic option models (``AdaptiveOptions``,
``ChainingOptions``, ``GuardrailConfig``, ``RobinHoodOptions``) and the snapshot functions
load on first access, so importing the maps (and starting a replay) stays quick.
"""

from __future__ import annotations

import typing as _typing

from engine.adaptive import AdaptiveMap
from engine.base import BaseMap
from engine.chaining import ChainingMap
from engine.errors import EngineError, InvariantError, UnsupportedKeyError
from engine.events import (
    EVENT_KINDS,
    BackshiftEvent,
    CompactEvent,
    CompareEvent,
    DisplaceEvent,
    GuardrailEvent,
    HashEvent,
    MigrateEvent,
    PlaceEvent,
    ProbeEvent,
    RemoveEvent,
    ResizeEvent,
    ResultEvent,
    TombstoneEvent,
    TraceEvent,
)
from engine.factory import MAP_KINDS, create_map
from engine.hashing import DEFAULT_HASH, HASH_FUNCTIONS, HashSpec, crc32_hash, fast_hash, keyed_hash
from engine.robinhood import RobinHoodMap
from engine.tracing import trace

if _typing.TYPE_CHECKING:
    from engine.config import (
        AdaptiveOptions,
        ChainingOptions,
        GuardrailConfig,
        RobinHoodOptions,
    )
    from engine.snapshot import load_snapshot, save_snapshot

__version__ = "0.1.0"

_CONFIG_MODELS = ("AdaptiveOptions", "ChainingOptions", "GuardrailConfig", "RobinHoodOptions")


def __getattr__(name: str) -> _typing.Any:
    """The option models, imported from :mod:`engine.config` (pydantic) on first use, and
    the snapshot functions from :mod:`engine.snapshot` (hashlib, gzip, the format)."""
    if name in _CONFIG_MODELS:
        from engine import config

        return getattr(config, name)
    if name in ("load_snapshot", "save_snapshot"):
        from engine import snapshot

        return getattr(snapshot, name)
    raise AttributeError(f"module 'engine' has no attribute {name!r}")


__all__ = [
    "DEFAULT_HASH",
    "EVENT_KINDS",
    "HASH_FUNCTIONS",
    "MAP_KINDS",
    "AdaptiveMap",
    "AdaptiveOptions",
    "BackshiftEvent",
    "BaseMap",
    "ChainingMap",
    "ChainingOptions",
    "CompactEvent",
    "CompareEvent",
    "DisplaceEvent",
    "EngineError",
    "GuardrailConfig",
    "GuardrailEvent",
    "HashEvent",
    "HashSpec",
    "InvariantError",
    "MigrateEvent",
    "PlaceEvent",
    "ProbeEvent",
    "RemoveEvent",
    "ResizeEvent",
    "ResultEvent",
    "RobinHoodMap",
    "RobinHoodOptions",
    "TombstoneEvent",
    "TraceEvent",
    "UnsupportedKeyError",
    "__version__",
    "crc32_hash",
    "create_map",
    "fast_hash",
    "keyed_hash",
    "load_snapshot",
    "save_snapshot",
    "trace",
]
