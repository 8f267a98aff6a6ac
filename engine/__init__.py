"""Instrumented hash maps: two-level chaining, Robin Hood, and an adaptive map.

All three are ``collections.abc.MutableMapping`` with deterministic hashing, traceable
operations (:func:`trace`), ``layout()``, ``stats()`` and ``check_invariants()``, and
safe versioned snapshots (:func:`save_snapshot`, :func:`load_snapshot`).
This package never imports Qt. The pydantic option models (``AdaptiveOptions``,
``ChainingOptions``, ``GuardrailConfig``, ``RobinHoodOptions``) and the snapshot functions
load on first access, so importing the maps (and starting a replay) stays quick.

The subpackages are layers; each imports only those below it (``docs/architecture.md``;
import-linter checks it): ``cli`` → ``observe`` → ``settings`` → ``workloads`` → ``store``
→ ``maps`` → ``tracing`` → ``errors`` and ``jsonsafe``.
"""

from __future__ import annotations

import typing as _typing

from engine.errors import EngineError, InvariantError, UnsupportedKeyError
from engine.maps.adaptive import AdaptiveMap
from engine.maps.base import BaseMap
from engine.maps.chaining import ChainingMap
from engine.maps.factory import MAP_KINDS, create_map
from engine.maps.hashing import (
    DEFAULT_HASH,
    HASH_FUNCTIONS,
    HashSpec,
    crc32_hash,
    fast_hash,
    keyed_hash,
)
from engine.maps.robinhood import RobinHoodMap
from engine.tracing.collect import trace
from engine.tracing.events import (
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

if _typing.TYPE_CHECKING:
    from engine.maps.option_models import (
        AdaptiveOptions,
        ChainingOptions,
        GuardrailConfig,
        RobinHoodOptions,
    )
    from engine.store import snapshot as snapshot
    from engine.store.snapshot import load_snapshot, save_snapshot

__version__ = "0.1.0"

_CONFIG_MODELS = ("AdaptiveOptions", "ChainingOptions", "GuardrailConfig", "RobinHoodOptions")


def __getattr__(name: str) -> _typing.Any:
    """Loaded on first use, so importing the maps (and starting a replay) stays quick: the
    option models from :mod:`engine.maps.option_models` (pydantic), and the snapshot
    functions and module ``engine.snapshot`` from :mod:`engine.store.snapshot`."""
    if name in _CONFIG_MODELS:
        from engine.maps import option_models

        return getattr(option_models, name)
    if name in ("load_snapshot", "save_snapshot", "snapshot"):
        from engine.store import snapshot

        return snapshot if name == "snapshot" else getattr(snapshot, name)
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
