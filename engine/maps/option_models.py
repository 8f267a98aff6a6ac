"""Validated options for each map, with documented defaults (see ``docs/engine.md``).

The maps accept these options as keyword arguments; the models below validate them and
name the offending field in the error. They are pydantic models so the CLI's TOML
configuration can embed them unchanged.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "AdaptiveOptions",
    "ChainingOptions",
    "GuardrailConfig",
    "HashName",
    "RobinHoodOptions",
]

HashName = Literal["crc32", "fast", "keyed"]
#: The largest table a map may be asked for. A Robin Hood slot costs 32 bytes and a
#: chaining cell 24 (a bucket is ``groups`` cells: 96 bytes at the default 4), before any
#: entry is stored: 2**27 slots are 4 GiB and 2**27 cells 3 GiB, which leaves a 24 GiB
#: machine room for the entries, a resize (old and new table at once) and a migration.
MAX_CAPACITY = 1 << 27
MAX_CELLS = 1 << 27


def cells_within_budget(capacity: int, groups: int) -> None:
    """Raise ``ValueError`` when a chaining table of ``capacity`` buckets (rounded up to a
    power of two) and ``groups`` groups each would exceed :data:`MAX_CELLS` cells."""
    buckets = 1 << max(0, capacity - 1).bit_length()
    if buckets * groups > MAX_CELLS:
        raise ValueError(
            f"capacity {capacity} with {groups} groups is {buckets * groups} cells, more "
            f"than the {MAX_CELLS} (3 GiB) a table may have"
        )


class _Options(BaseModel):
    # defer_build: the validators are built on first use, not at import (faster start-up)
    model_config = ConfigDict(
        extra="forbid", frozen=True, defer_build=True, allow_inf_nan=False
    )


class _HashedOptions(_Options):
    hash: HashName = Field(
        "crc32",
        description="hash function: crc32 (unseeded, default), fast (unseeded, v1) or keyed",
    )
    seed: str | int | bytes | None = Field(
        None,
        description=(
            "keyed hash seed: 32 hex digits, 16 bytes or a non-negative int; random if unset"
        ),
    )
    capacity: int = Field(8, ge=1, le=MAX_CAPACITY, description="initial slots or buckets")


class ChainingOptions(_HashedOptions):
    """Two-level separate chaining. ``max_load_factor`` is entries per bucket."""

    max_load_factor: float = Field(
        0.75, gt=0.0, le=8.0, description="grow (double) when size / buckets would exceed this"
    )
    groups: int = Field(4, ge=1, le=64, description="groups per bucket (a power of two)")

    @field_validator("groups")
    @classmethod
    def _power_of_two(cls, value: int) -> int:
        if value & (value - 1):
            raise ValueError("groups must be a power of two")
        return value

    @model_validator(mode="after")
    def _cells_fit(self) -> Self:
        cells_within_budget(self.capacity, self.groups)
        return self


class RobinHoodOptions(_HashedOptions):
    """Robin Hood open addressing with linear probing."""

    max_load_factor: float = Field(
        0.8, gt=0.0, le=1.0, description="grow when (size + tombstones) / slots would exceed this"
    )
    deletion: Literal["backshift", "tombstone"] = Field(
        "backshift", description="backshift leaves no tombstones; tombstone marks slots"
    )


class GuardrailConfig(_Options):
    """Thresholds the adaptive map watches; crossing one starts a migration.

    Every check reads a counter the maps keep up to date, so it costs O(1) per write.
    """

    chaining_load_factor: float = Field(
        0.8, gt=0.0, le=8.0, description="chaining -> Robin Hood when size / buckets exceeds this"
    )
    chaining_max_group_len: int = Field(
        8, ge=1, description="chaining -> Robin Hood when the longest group chain exceeds this"
    )
    chaining_avg_probe: float = Field(
        3.0, gt=0.0, description="chaining -> Robin Hood when comparisons per hit exceed this"
    )
    robinhood_max_probe: int = Field(
        128,
        ge=1,
        description="Robin Hood -> chaining when the longest probe (DIB + 1) exceeds this",
    )
    robinhood_avg_probe: float = Field(
        8.0, gt=0.0, description="Robin Hood -> chaining when probes per hit exceed this"
    )
    robinhood_tombstone_ratio: float = Field(
        0.25,
        gt=0.0,
        le=1.0,
        description="Robin Hood -> chaining when tombstones / slots exceed this",
    )
    min_entries: int = Field(
        32, ge=0, description="no migration starts while the map holds fewer entries"
    )
    cooldown_ops: int = Field(
        1024, ge=0, description="minimum writes between the end of a migration and the next"
    )
    cooldown_per_entry: float = Field(
        4.0, ge=0.0, description="cooldown is at least this many writes per entry"
    )
    cooldown_backoff: float = Field(
        2.0, ge=1.0, description="each further migration multiplies the cooldown by this"
    )


class AdaptiveOptions(_HashedOptions):
    """The adaptive map: starts on ``initial_backend`` and migrates on guardrails."""

    initial_backend: Literal["chaining", "robinhood"] = "chaining"
    groups: int = Field(4, ge=1, le=64, description="chaining groups per bucket")
    chaining_max_load_factor: float = Field(
        1.0, gt=0.0, le=8.0, description="the chaining backend doubles above this load"
    )
    robinhood_max_load_factor: float = Field(
        0.8, gt=0.0, le=1.0, description="the Robin Hood backend grows above this load"
    )
    deletion: Literal["backshift", "tombstone"] = "backshift"
    migration_batch: int = Field(
        32, ge=1, le=1 << 20, description="entries moved per operation during a migration"
    )
    guardrails: GuardrailConfig = Field(default_factory=GuardrailConfig)

    @field_validator("groups")
    @classmethod
    def _power_of_two(cls, value: int) -> int:
        if value & (value - 1):
            raise ValueError("groups must be a power of two")
        return value

    @model_validator(mode="after")
    def _cells_fit(self) -> Self:
        cells_within_budget(self.capacity, self.groups)
        return self
