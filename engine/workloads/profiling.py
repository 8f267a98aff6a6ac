"""Recommend a backend for a workload: replay a prefix on each and compare."""

from __future__ import annotations

import time
from collections.abc import Callable
from itertools import islice
from typing import Any

from engine.maps.base import BaseMap
from engine.workloads.csv_format import WorkloadFile

__all__ = ["MODE_FOR_BACKEND", "profile_workload"]

MODE_FOR_BACKEND = {"chaining": "fast-insert", "robinhood": "fast-lookup", "adaptive": "adaptive"}


def profile_workload(
    workload: WorkloadFile, build: Callable[[str], BaseMap], sample: int = 5000, rounds: int = 3
) -> dict[str, Any]:
    """Replay the first ``sample`` operations on every backend (best of ``rounds``) and
    recommend the fastest, with its probe counts as the reason. O(sample x backends)."""
    rows = workload.rows()
    try:
        ops = list(islice(rows, sample))
    finally:
        rows.close()  # closes the file even when the sample stops early
    results: dict[str, dict[str, Any]] = {}
    for backend in ("chaining", "robinhood", "adaptive"):
        best = float("inf")
        m = build(backend)
        for _ in range(max(1, rounds)):
            m = build(backend)
            get, put, discard = m.get, m.put, m.discard
            started = time.perf_counter()
            for op, key, value in ops:
                if op == "get":
                    get(key)
                elif op == "put":
                    put(key, value)
                else:
                    discard(key)
            best = min(best, time.perf_counter() - started)
        stats = m.stats()
        results[backend] = {
            "seconds": best,
            "us_per_op": best / len(ops) * 1e6 if ops else 0.0,
            "mean_probes": stats["probes"]["mean"],
            "max_probes": stats["probes"]["max"],
            "migrations": stats["migrations"],
        }
    pick = min(results, key=lambda b: results[b]["seconds"]) if ops else "adaptive"
    others = ", ".join(f"{b} {r['us_per_op']:.2f} us/op" for b, r in results.items() if b != pick)
    reason = (
        f"{pick} was fastest on the first {len(ops)} operations "
        f"({results[pick]['us_per_op']:.2f} us/op, {results[pick]['mean_probes']:.2f} probes "
        f"on average; {others})"
        if ops
        else "the workload is empty; adaptive is the safe default"
    )
    return {
        "csv": workload.path,
        "sampled_ops": len(ops),
        "recommended_backend": pick,
        "recommended_mode": MODE_FOR_BACKEND[pick],
        "reason": reason,
        "results": results,
    }
