"""Prometheus exposition of the metrics ticks, built on prometheus-client.

Each new tick reaches :class:`TickCollector` by one reference assignment, so the scrape
thread always sees a whole tick; a scrape turns the latest tick into metric families.
``run-csv --metrics-port`` feeds it in a process of its own
(:mod:`engine.observe.endpoint_worker`), with the latency counts the replay keeps.
Names follow the established ``hashmap_*`` set, plus histograms of per-operation latency
(seconds) and of probe lengths.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from engine.observe.buckets import LATENCY_BUCKETS, OPS, PROBE_BUCKETS

__all__ = ["LATENCY_BUCKETS", "PROBE_BUCKETS", "TickCollector"]


class TickCollector(Collector):
    """Serves the latest tick; ``observe_latency`` feeds the latency histograms."""

    def __init__(self) -> None:
        self._tick: dict[str, Any] | None = None
        self._lock = threading.Lock()
        self._latency = {op: [0] * (len(LATENCY_BUCKETS) + 1) for op in OPS}
        self._latency_sum = dict.fromkeys(OPS, 0.0)

    def update(self, tick: dict[str, Any]) -> None:
        self._tick = tick

    def set_latency(self, counts: dict[str, list[int]], sums: dict[str, float]) -> None:
        """Replace the latency histograms with counts kept elsewhere (per op, one count
        per bucket of ``LATENCY_BUCKETS`` and one for +Inf), as a replay's
        :class:`~engine.observe.buckets.LatencyCounts` holds them."""
        latency = {op: [int(c) for c in counts[op]] for op in OPS}
        if any(len(c) != len(LATENCY_BUCKETS) + 1 for c in latency.values()):
            raise ValueError("latency counts do not match the buckets")
        total = {op: float(sums[op]) for op in OPS}
        with self._lock:
            self._latency, self._latency_sum = latency, total

    def observe_latency(self, op: str, seconds: float) -> None:
        """Count one sampled operation's latency. O(buckets)."""
        with self._lock:
            counts = self._latency[op]
            for i, bound in enumerate(LATENCY_BUCKETS):
                if seconds <= bound:
                    counts[i] += 1
                    break
            else:
                counts[-1] += 1
            self._latency_sum[op] += seconds

    def collect(self) -> Iterator[Metric]:
        tick = self._tick
        if tick is None:
            return
        for name, field, text in (
            ("hashmap_ops_total", "ops", "operations replayed"),
            ("hashmap_puts_total", "puts", "put operations"),
            ("hashmap_gets_total", "gets", "get operations"),
            ("hashmap_dels_total", "dels", "delete operations"),
            ("hashmap_migrations_total", "migrations", "adaptive migrations started"),
            ("hashmap_compactions_total", "compactions", "tombstone compactions"),
        ):
            yield CounterMetricFamily(name.removesuffix("_total"), text, value=tick[field])
        yield GaugeMetricFamily(
            "hashmap_load_factor", "entries per slot or bucket", value=tick["load_factor"]
        )
        chaining = tick["backend"] == "chaining"
        yield GaugeMetricFamily(
            "hashmap_max_group_len",
            "longest chain (chaining backend)",
            value=tick["max_probe"] if chaining else 0,
        )
        yield GaugeMetricFamily(
            "hashmap_avg_probe_estimate", "mean probes for a hit", value=tick["avg_probe"]
        )
        yield GaugeMetricFamily(
            "hashmap_tombstone_ratio", "tombstones per slot", value=tick["tombstone_ratio"]
        )
        info = InfoMetricFamily("hashmap_backend", "the backend in charge")
        info.add_metric([], {"name": tick["backend"]})
        yield info
        yield self._latency_family()
        yield _probe_family(tick["probe_hist"])

    def _latency_family(self) -> HistogramMetricFamily:
        family = HistogramMetricFamily(
            "hashmap_op_latency_seconds", "sampled per-operation latency", labels=["op"]
        )
        with self._lock:
            for op, counts in self._latency.items():
                family.add_metric([op], _cumulative(LATENCY_BUCKETS, counts), self._latency_sum[op])
        return family


def _cumulative(bounds: Iterable[float], counts: list[int]) -> list[tuple[str, float]]:
    out, running = [], 0
    for bound, count in zip(bounds, counts, strict=False):
        running += count
        out.append((repr(float(bound)), float(running)))
    out.append(("+Inf", float(running + counts[-1])))
    return out


def _probe_family(pairs: list[list[int]]) -> HistogramMetricFamily:
    counts = [0] * (len(PROBE_BUCKETS) + 1)
    total = 0
    for length, count in pairs:
        total += length * count
        for i, bound in enumerate(PROBE_BUCKETS):
            if length <= bound:
                counts[i] += count
                break
        else:
            counts[-1] += count
    family = HistogramMetricFamily("hashmap_probe_length", "probes per operation")
    family.add_metric([], _cumulative(PROBE_BUCKETS, counts), float(total))
    return family
