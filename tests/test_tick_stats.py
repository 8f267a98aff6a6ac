"""``tick_stats()``, the cheap view of a map the metrics producer reads at every tick,
against the full ``stats()``: the same values (to the JSON text, so an int stays an int)
under the same keys, after any operations, mid-migration included; and a tick built
from it against the tick built from ``stats()`` as the producer used to."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from conftest import KEY_POOL, MAP_FACTORIES, MapFactory, keys, values
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from engine.maps.batch import RowBatch
from engine.maps.stats import hist_merge, hist_merged_pairs, hist_pairs
from engine.observe.metrics import MetricsProducer
from engine.workloads.latency import Reservoir

#: The keys of tick_stats() that are stats() keys too (adaptive maps add active_backend).
SHARED = (
    "backend",
    "size",
    "capacity",
    "load_factor",
    "ops",
    "compactions",
    "migrations",
    "tombstone_ratio",
    "max_probe_current",
    "avg_probe_current",
)

#: Mostly a few keys, so deletes hit, tombstones pile up and compactions remove them.
few_keys = st.one_of(st.sampled_from(KEY_POOL[:6]), st.sampled_from(KEY_POOL), keys)
steps = st.lists(
    st.tuples(st.sampled_from(["put", "put", "get", "del", "del", "compact"]), few_keys, values),
    max_size=120,
)


def expected_view(m: engine.BaseMap) -> dict[str, Any]:
    """tick_stats() as the projection of the full stats(full=False)."""
    full = m.stats(full=False)
    names = SHARED + (("active_backend",) if "active_backend" in full else ())
    out = {name: full[name] for name in names}
    out["probe_histogram"] = full["probes"]["histogram"]
    return out


def same_view(m: engine.BaseMap) -> None:
    view, expected = m.tick_stats(), expected_view(m)
    assert json.dumps(view, sort_keys=True) == json.dumps(expected, sort_keys=True)


def apply(m: engine.BaseMap, op: str, key: Any, value: Any) -> None:
    if op == "put":
        m[key] = value
    elif op == "get":
        m.get(key)
    elif op == "del":
        m.discard(key)
    else:
        m.compact()


@pytest.mark.parametrize("factory", MAP_FACTORIES, ids=[f.id for f in MAP_FACTORIES])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
def test_tick_stats_is_what_stats_says(
    factory: MapFactory, ops: list[tuple[str, Any, Any]]
) -> None:
    m = factory()
    same_view(m)
    for op, key, value in ops:
        apply(m, op, key, value)
        same_view(m)


@pytest.mark.parametrize("factory", MAP_FACTORIES, ids=[f.id for f in MAP_FACTORIES])
def test_tick_stats_after_batch_replays(factory: MapFactory) -> None:
    """Rows applied by the batch kernels (which keep the counters themselves)."""
    draw = random.Random(factory.id)
    m = factory()
    for _ in range(12):
        rows = [
            [draw.choice(["get", "put", "put", "del"]), f"k{draw.randrange(60)}", "v"]
            for _ in range(draw.randrange(1, 50))
        ]
        batch = RowBatch(iter(rows), (0, 1, 2))
        batch.stop = len(rows) + 1
        m.apply_rows(batch)
        same_view(m)


@given(st.lists(st.lists(st.integers(0, 5), max_size=12), max_size=9))
def test_merged_pairs_is_pairs_of_the_merge(hists: list[list[int]]) -> None:
    assert hist_merged_pairs(hists) == hist_pairs(hist_merge(*hists))


def reference_tick(
    producer: MetricsProducer, m: engine.BaseMap, latency: dict[str, Reservoir]
) -> dict[str, Any]:
    """The tick as the producer built it from the full stats(full=False)."""
    stats = m.stats(full=False)
    ops = stats["ops"]
    return {
        "schema": "metrics.v1",
        "backend": stats.get("active_backend", stats["backend"]),
        "ops": ops["total"],
        "puts": ops["put"],
        "gets": ops["get"],
        "dels": ops["del"],
        "size": stats["size"],
        "capacity": stats["capacity"],
        "load_factor": stats["load_factor"],
        "tombstone_ratio": stats.get("tombstone_ratio", 0.0),
        "max_probe": stats.get("max_probe_current", 0),
        "avg_probe": stats.get("avg_probe_current", 0.0),
        "probe_hist": stats["probes"]["histogram"],
        "latency_ns": {
            name: {
                f"p{round(p * 100)}": v * 1e9
                for p, v in zip(
                    (0.5, 0.9, 0.99),
                    _nearest_ranks(sorted(latency[name].values)),
                    strict=True,
                )
            }
            for name in ("overall", "put", "get", "del")
        },
        "migrations": stats["migrations"],
        "compactions": stats["compactions"],
    }


def _nearest_ranks(data: list[float]) -> list[float]:
    if not data:
        return [0.0, 0.0, 0.0]
    last = len(data) - 1
    return [data[min(last, max(0, round(p * last)))] for p in (0.5, 0.9, 0.99)]


@pytest.mark.parametrize("factory", MAP_FACTORIES[::3], ids=[f.id for f in MAP_FACTORIES[::3]])
def test_ticks_equal_the_ticks_of_the_full_stats(factory: MapFactory) -> None:
    draw = random.Random(7)
    m = factory()
    producer = MetricsProducer()
    latency = {
        name: Reservoir(8, seed=i) for i, name in enumerate(("overall", "put", "get", "del"))
    }
    for tick in range(30):
        for _ in range(draw.randrange(40)):
            op = draw.choice(["put", "put", "get", "del"])
            apply(m, op, f"k{draw.randrange(50)}", tick)
            elapsed = draw.lognormvariate(-12, 1)
            latency["overall"].offer(elapsed)
            latency[op].offer(elapsed)
        got = producer.tick(m, latency)
        got.pop("t")
        got.pop("events")
        assert json.dumps(got, sort_keys=True) == json.dumps(
            reference_tick(producer, m, latency), sort_keys=True
        )
