"""Shared hypothesis strategies and map factories with tiny, aggressive settings.

The factories start every map at capacity 1 with low load limits (and, for the adaptive
map, hair-trigger guardrails with no cooldown) so resizes, tombstones, compactions and
migrations happen within a handful of operations.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

import engine

# --------------------------------------------------------------------------- strategies

#: Awkward strings: empty, non-ASCII, astral, lone surrogates (hashed with surrogatepass).
SPECIAL_TEXT = ["", "a", "é", "日本", "🙂", "\ud800", "a\udfff", "\udbff\udc00x"]
#: Ints around the 64-bit fold: 2**64 and 1 share a fast hash but are different keys.
SPECIAL_INTS = [0, 1, -1, 2**63, 2**64 - 1, 2**64, 2**64 + 1, -(2**64), 2**100, -(2**100)]

text_keys = st.one_of(
    st.sampled_from(SPECIAL_TEXT),
    st.text(st.characters(exclude_categories=()), max_size=3),
)
bytes_keys = st.binary(max_size=3)
int_keys = st.one_of(
    st.integers(-4, 4),
    st.sampled_from(SPECIAL_INTS),
    st.integers(min_value=-(2**80), max_value=2**80),
)
#: A small pool drawn from often, so keys are re-put after deletion (tombstone reuse),
#: collide and hit instead of always being fresh.
KEY_POOL = ["a", "b", "k1", "é", "\ud800", b"a", b"", b"k1", 0, 1, -1, 7, 2**64, 2**64 + 1]

#: Every supported key type. ``True == 1`` and ``False == 0`` (as in a dict), which the
#: dict models in the tests handle by construction.
keys = st.one_of(st.sampled_from(KEY_POOL), text_keys, bytes_keys, int_keys, st.booleans())

#: Values of any kind, including None and unhashable lists.
values = st.one_of(
    st.none(),
    st.integers(-5, 5),
    st.text(max_size=3),
    st.binary(max_size=2),
    st.lists(st.integers(0, 3), max_size=2),
)

# --------------------------------------------------------------------------- factories

AGGRESSIVE_GUARDRAILS = engine.GuardrailConfig(
    min_entries=2,
    cooldown_ops=0,
    cooldown_per_entry=0,
    cooldown_backoff=1.0,
    chaining_load_factor=0.5,
    chaining_max_group_len=2,
    robinhood_avg_probe=1.2,
    robinhood_tombstone_ratio=0.05,
)

KEYED_SEED = "00112233445566778899aabbccddeeff"


@dataclass(frozen=True)
class MapFactory:
    """Builds fresh, identical maps of one kind and configuration."""

    id: str
    kind: str
    options: dict[str, Any] = field(default_factory=dict)

    def __call__(self) -> engine.BaseMap:
        return engine.create_map(self.kind, **self.options)

    @property
    def adaptive(self) -> bool:
        return self.kind == "adaptive"


def _adaptive(initial: str, deletion: str, batch: int, **extra: Any) -> dict[str, Any]:
    return {
        "capacity": 1,
        "initial_backend": initial,
        "deletion": deletion,
        "migration_batch": batch,
        "guardrails": AGGRESSIVE_GUARDRAILS,
        **extra,
    }


def _chaining(groups: int, max_load_factor: float) -> dict[str, Any]:
    return {"capacity": 1, "groups": groups, "max_load_factor": max_load_factor}


MAP_FACTORIES: list[MapFactory] = [
    MapFactory("chaining-g1-lf0.5", "chaining", _chaining(1, 0.5)),
    MapFactory("chaining-g1-lf2", "chaining", _chaining(1, 2.0)),
    MapFactory("chaining-g4-lf0.5", "chaining", _chaining(4, 0.5)),
    MapFactory("chaining-g4-lf2", "chaining", _chaining(4, 2.0)),
    MapFactory("rh-backshift-0.5", "robinhood", {"capacity": 1, "max_load_factor": 0.5}),
    MapFactory("rh-backshift-0.9", "robinhood", {"capacity": 1, "max_load_factor": 0.9}),
    MapFactory(
        "rh-tombstone-0.5",
        "robinhood",
        {"capacity": 1, "max_load_factor": 0.5, "deletion": "tombstone"},
    ),
    MapFactory(
        "rh-tombstone-0.9",
        "robinhood",
        {"capacity": 1, "max_load_factor": 0.9, "deletion": "tombstone"},
    ),
    MapFactory("adaptive-c-backshift-b1", "adaptive", _adaptive("chaining", "backshift", 1)),
    MapFactory("adaptive-c-tombstone-b2", "adaptive", _adaptive("chaining", "tombstone", 2)),
    MapFactory("adaptive-r-backshift-b2", "adaptive", _adaptive("robinhood", "backshift", 2)),
    MapFactory("adaptive-r-tombstone-b1", "adaptive", _adaptive("robinhood", "tombstone", 1)),
    MapFactory(
        "chaining-g4-keyed",
        "chaining",
        {"capacity": 1, "groups": 4, "max_load_factor": 1.0, "hash": "keyed", "seed": KEYED_SEED},
    ),
    MapFactory(
        "rh-tombstone-0.9-keyed",
        "robinhood",
        {
            "capacity": 1,
            "max_load_factor": 0.9,
            "deletion": "tombstone",
            "hash": "keyed",
            "seed": KEYED_SEED,
        },
    ),
    # "fast", the 64-bit hash of snapshot format v1, stays supported for old snapshots
    MapFactory(
        "chaining-g4-fast",
        "chaining",
        {"capacity": 1, "groups": 4, "max_load_factor": 1.0, "hash": "fast"},
    ),
    MapFactory(
        "rh-backshift-0.9-fast",
        "robinhood",
        {"capacity": 1, "max_load_factor": 0.9, "hash": "fast"},
    ),
    MapFactory(
        "adaptive-c-tombstone-b1-keyed",
        "adaptive",
        _adaptive("chaining", "tombstone", 1, hash="keyed", seed=KEYED_SEED),
    ),
]

ADAPTIVE_FACTORIES = [f for f in MAP_FACTORIES if f.adaptive]

# Qt renders offscreen in the tests unless told otherwise (tests/run.sh sets it too).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
