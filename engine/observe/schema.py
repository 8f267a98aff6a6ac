"""The ``metrics.v1`` tick schema as pydantic models (see ``docs/metrics_schema.md``).

Only validation needs these (``engine metrics validate``, ``engine serve``, the schema
file): producing ticks does not, so :mod:`engine.observe.metrics` imports this module lazily.
``engine/observe/schemas/metrics.v1.json`` is the JSON Schema of :class:`MetricsTick`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["LatencyNs", "MetricsTick", "Percentiles", "TickEvent", "schema_document"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="allow", defer_build=True)


class Percentiles(_Strict):
    p50: float = Field(ge=0)
    p90: float = Field(ge=0)
    p99: float = Field(ge=0)


class LatencyNs(_Strict):
    overall: Percentiles
    put: Percentiles
    get: Percentiles
    # "del" is a keyword in Python: the JSON name is "del".
    del_: Percentiles = Field(alias="del")


class TickEvent(_Strict):
    type: str = Field(min_length=1)
    t: float = Field(ge=0)


class MetricsTick(_Strict):
    """One tick of ``metrics.v1``. Later versions only add fields (extra keys allowed)."""

    schema_: Literal["metrics.v1"] = Field(alias="schema")
    t: float = Field(ge=0, description="seconds since the run started")
    backend: str
    ops: int = Field(ge=0)
    puts: int = Field(ge=0)
    gets: int = Field(ge=0)
    dels: int = Field(ge=0)
    size: int = Field(ge=0)
    capacity: int = Field(ge=1)
    load_factor: float = Field(ge=0)
    tombstone_ratio: float = Field(ge=0, le=1)
    max_probe: int = Field(ge=0)
    avg_probe: float = Field(ge=0)
    probe_hist: list[tuple[int, int]] = Field(description="[probe length, count] pairs")
    latency_ns: LatencyNs
    migrations: int = Field(ge=0)
    compactions: int = Field(ge=0)
    events: list[TickEvent]


def schema_document() -> dict[str, Any]:
    """The JSON Schema of :class:`MetricsTick` (what ``SCHEMA_PATH`` holds)."""
    schema = MetricsTick.model_json_schema(by_alias=True)
    schema["$id"] = "metrics.v1"
    return schema
