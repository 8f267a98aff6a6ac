"""Instrumented hash maps: two-level chaining, Robin Hood, and an adaptive map.

All three are ``collections.abc.MutableMapping`` with deterministic hashing, traceable
operations (:func:`trace`), ``layout()``, ``stats()`` and ``check_invariants()``, and
safe versioned snapshots (:func:`save_snapshot`, :func:`load_snapshot`).
This package never imports Qt. Every public name loads from its module on first access
(``engine.ChainingMap`` imports :mod:`engine.maps.chaining`, the pydantic option models
``AdaptiveOptions``, ``ChainingOptions``, ``GuardrailConfig`` and ``RobinHoodOptions`` come
from :mod:`engine.maps.option_models`), so ``import engine``, and the ``engine`` command
with it, costs only what is used: a replay on one backend never loads the other maps,
pydantic or the snapshot format.

The subpackages are layers; each imports only those below it (``docs/architecture.md``;
import-linter checks it): ``cli`` → ``observe`` → ``settings`` → ``workloads`` → ``store``
→ ``maps`` → ``tracing`` → ``errors`` and ``jsonsafe``.
"""

from __future__ import annotations

import typing as _typing

if _typing.TYPE_CHECKING:
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
    from engine.maps.option_models import (
        AdaptiveOptions,
        ChainingOptions,
        GuardrailConfig,
        RobinHoodOptions,
    )
    from engine.maps.robinhood import RobinHoodMap
    from engine.store import snapshot as snapshot
    from engine.store.snapshot import load_snapshot, save_snapshot
    from engine.tracing.collect import trace
    from engine.tracing.events import (
        EVENT_KINDS,
        CompactEvent,
        GuardrailEvent,
        MigrateEvent,
        ResizeEvent,
        TraceEvent,
    )
    from engine.tracing.steps import (
        BackshiftEvent,
        CompareEvent,
        DisplaceEvent,
        HashEvent,
        PlaceEvent,
        ProbeEvent,
        RemoveEvent,
        ResultEvent,
        TombstoneEvent,
    )

__version__ = "0.1.0"

#: Where each public name lives: ``engine.<name>`` imports that module on first access.
_ORIGIN: dict[str, str] = {
    **dict.fromkeys(("EngineError", "InvariantError", "UnsupportedKeyError"), "engine.errors"),
    "AdaptiveMap": "engine.maps.adaptive",
    "BaseMap": "engine.maps.base",
    "ChainingMap": "engine.maps.chaining",
    "RobinHoodMap": "engine.maps.robinhood",
    **dict.fromkeys(("MAP_KINDS", "create_map"), "engine.maps.factory"),
    **dict.fromkeys(
        ("DEFAULT_HASH", "HASH_FUNCTIONS", "HashSpec", "crc32_hash", "fast_hash", "keyed_hash"),
        "engine.maps.hashing",
    ),
    **dict.fromkeys(
        ("AdaptiveOptions", "ChainingOptions", "GuardrailConfig", "RobinHoodOptions"),
        "engine.maps.option_models",
    ),
    **dict.fromkeys(("load_snapshot", "save_snapshot"), "engine.store.snapshot"),
    "trace": "engine.tracing.collect",
    **dict.fromkeys(
        (
            "EVENT_KINDS",
            "CompactEvent",
            "GuardrailEvent",
            "MigrateEvent",
            "ResizeEvent",
            "TraceEvent",
        ),
        "engine.tracing.events",
    ),
    **dict.fromkeys(
        (
            "BackshiftEvent",
            "CompareEvent",
            "DisplaceEvent",
            "HashEvent",
            "PlaceEvent",
            "ProbeEvent",
            "RemoveEvent",
            "ResultEvent",
            "TombstoneEvent",
        ),
        "engine.tracing.steps",
    ),
}


def __getattr__(name: str) -> _typing.Any:
    """``engine.<name>`` for a public name: imported from its module on first use, then
    kept in this module (``engine.snapshot`` is the module :mod:`engine.store.snapshot`)."""
    if name == "snapshot":
        from engine.store import snapshot

        value: _typing.Any = snapshot
    elif name in _ORIGIN:
        module = __import__(_ORIGIN[name], fromlist=[name])
        value = getattr(module, name)
    else:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


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
