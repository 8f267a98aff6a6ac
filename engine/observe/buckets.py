"""Histogram buckets of the Prometheus exposition, and a light latency counter.

Kept apart from :mod:`engine.observe.prometheus` so that a replay can count sampled
latencies without loading prometheus-client: the ``run-csv --metrics-port`` endpoint
runs in a process of its own (:mod:`engine.observe.endpoint_process`), and the replay
sends it these counts with each tick.
"""

from __future__ import annotations

from bisect import bisect_left

__all__ = ["LATENCY_BUCKETS", "OPS", "PROBE_BUCKETS", "LatencyCounts"]

#: Upper bounds (seconds) of ``hashmap_op_latency_seconds``; +Inf is implied.
LATENCY_BUCKETS = (1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 1e-2)
#: Upper bounds of ``hashmap_probe_length``; +Inf is implied.
PROBE_BUCKETS = (1, 2, 3, 4, 6, 8, 12, 16, 32, 64, 128)
OPS = ("put", "get", "del")


class LatencyCounts:
    """Per-op counts in :data:`LATENCY_BUCKETS` (the last slot is +Inf) and sums.

    Not locked: one thread observes and reads (the replay's)."""

    def __init__(self) -> None:
        self.counts: dict[str, list[int]] = {op: [0] * (len(LATENCY_BUCKETS) + 1) for op in OPS}
        self.sums: dict[str, float] = dict.fromkeys(OPS, 0.0)

    def observe(self, op: str, seconds: float) -> None:
        """Count one sampled operation: the first bucket whose bound is >= ``seconds``."""
        self.counts[op][bisect_left(LATENCY_BUCKETS, seconds)] += 1
        self.sums[op] += seconds
