"""The default settings without pydantic, for commands run with nothing overriding them.

:mod:`engine.settings.models` (pydantic models, a TOML file, ``ADHASH_*`` variables) is the
reference for every setting, but importing pydantic and building its validators costs
more than a short replay. With no ``--config`` file and no ``ADHASH_*`` variable, every
setting is at its default (:func:`settings_overridden` is False), so the CLI reads the
records below instead and loads the models only for a command that needs them. Tests
hold these values to ``Settings()`` field for field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, Literal

from engine.errors import BadInputError
from engine.maps.factory import create_map
from engine.records import FrozenRecord
from engine.workloads.csv_format import DEFAULT_MAX_BYTES, DEFAULT_MAX_ROWS

if TYPE_CHECKING:
    from engine.maps.base import BaseMap

__all__ = [
    "BACKEND",
    "ENV_PREFIX",
    "MAP_OPTIONS",
    "MAX_LATENCY_SAMPLES",
    "MODES",
    "RESERVED_ENV",
    "DefaultHashing",
    "DefaultLimits",
    "DefaultSampling",
    "build_default_map",
    "environment_overrides",
    "settings_overridden",
]

#: The latency reservoir holds this many samples at most (8 bytes each: 80 MB).
MAX_LATENCY_SAMPLES: Final = 10_000_000
ENV_PREFIX: Final = "ADHASH_"
#: Variables with the prefix that are secrets, not settings (read where they are used).
RESERVED_ENV: Final = frozenset({"ADHASH_SIGN_KEY", "ADHASH_TOKEN"})
Backend = Literal["adaptive", "chaining", "robinhood"]
MODES: dict[str, Backend] = {
    "adaptive": "adaptive",
    "fast-insert": "chaining",
    "fast-lookup": "robinhood",
    "memory-tight": "robinhood",
}
BACKEND: Final[Backend] = "adaptive"


class DefaultHashing(FrozenRecord):
    function: str = "crc32"
    seed: str | int | None = None


class DefaultSampling(FrozenRecord):
    latency_sample_k: int = 1000
    latency_sample_every: int = 128


class DefaultLimits(FrozenRecord):
    csv_max_rows: int = DEFAULT_MAX_ROWS
    csv_max_bytes: int = DEFAULT_MAX_BYTES
    snapshot_max_bytes: int = 512 * 1024 * 1024


#: Each map section's options at their defaults (the adaptive guardrails: the map's own).
MAP_OPTIONS: Final[dict[str, dict[str, Any]]] = {
    "chaining": {"capacity": 64, "max_load_factor": 0.75, "groups": 4},
    "robinhood": {"capacity": 64, "max_load_factor": 0.8, "deletion": "backshift"},
    "adaptive": {
        "capacity": 64,
        "initial_backend": "chaining",
        "groups": 4,
        "chaining_max_load_factor": 1.0,
        "robinhood_max_load_factor": 0.8,
        "deletion": "backshift",
        "migration_batch": 32,
    },
}


def environment_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """Nested settings data from ``ADHASH_<SECTION>__<FIELD>`` variables (names are
    case-insensitive; values are validated, and converted, by the models)."""
    data: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.upper().startswith(ENV_PREFIX) or len(name) == len(ENV_PREFIX):
            continue
        if name.upper() in RESERVED_ENV:
            continue
        path = [part.lower() for part in name[len(ENV_PREFIX) :].split("__")]
        node = data
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise BadInputError(f"environment variable {name} conflicts with another")
            node = child
        node[path[-1]] = value
    return data


def settings_overridden(config: str | None, environ: Mapping[str, str]) -> bool:
    """Whether a config file or an ``ADHASH_*`` variable sets anything. O(variables)."""
    return config is not None or bool(environment_overrides(environ))


def build_default_map(kind: str) -> BaseMap:
    """A new map of ``kind`` with every setting at its default, as
    ``Settings().build_map(kind)`` builds it."""
    return create_map(kind, **MAP_OPTIONS[kind], hash="crc32", seed=None)
