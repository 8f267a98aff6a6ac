"""Workload DNA: what a workload looks like, in one streaming pass.

Reports the op mix, the key-space size, how skewed the key popularity is (a zipf exponent
fitted to the rank/frequency curve), the hottest keys, the entropy of the key
distribution, and the low-bit collision risk of the keys under the configured hash: how
many distinct keys share the fullest home slot of a table sized for them, compared with
what random hashing would give.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from engine.maps.hashing import HashFunction
from engine.workloads.csv_format import OPS, WorkloadFile

__all__ = ["analyse_workload"]

_RISK_BITS = (8, 12, 16)


def _zipf_exponent(counts: list[int]) -> float:
    """Least-squares slope of log(frequency) against log(rank) over the top ranks."""
    top = [c for c in counts[:1000] if c > 0]
    if len(top) < 3:
        return 0.0
    xs = [math.log(rank) for rank in range(1, len(top) + 1)]
    ys = [math.log(c) for c in top]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mean_x) ** 2 for x in xs)
    cov = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    return max(0.0, -cov / var) if var else 0.0


def _expected_max_load(keys: int, slots: int) -> float:
    """About the fullest slot's load when ``keys`` land uniformly in ``slots``."""
    if keys == 0:
        return 0.0
    mean = keys / slots
    if mean >= 1:
        return mean + math.sqrt(2 * mean * math.log(slots))
    return max(1.0, math.log(slots) / math.log(max(math.e, 1.0 / mean)))


def _collision_risk(keys: list[Any], hashfn: HashFunction) -> dict[str, Any]:
    hashes = [hashfn(k) for k in keys]
    out: dict[str, Any] = {"by_bits": []}
    worst = 0.0
    for bits in _RISK_BITS:
        counts = Counter(h & ((1 << bits) - 1) for h in hashes)
        fullest = max(counts.values(), default=0)
        expected = _expected_max_load(len(keys), 1 << bits)
        ratio = fullest / expected if expected else 0.0
        worst = max(worst, ratio)
        out["by_bits"].append(
            {
                "bits": bits,
                "fullest_slot": fullest,
                "expected_fullest": round(expected, 2),
                "ratio": round(ratio, 2),
            }
        )
    out["worst_ratio"] = round(worst, 2)
    out["level"] = "high" if worst >= 4 else "elevated" if worst >= 2 else "low"
    return out


def analyse_workload(workload: WorkloadFile, hashfn: HashFunction, top: int = 10) -> dict[str, Any]:
    """One pass over ``workload``; memory O(distinct keys)."""
    ops = dict.fromkeys(OPS, 0)
    keys: Counter[str] = Counter()
    for op, key, _value in workload.rows():
        ops[op] += 1
        keys[key] += 1
    total = sum(ops.values())
    ranked = keys.most_common()
    counts = [c for _, c in ranked]
    entropy = -sum((c / total) * math.log2(c / total) for c in counts) if total else 0.0
    max_entropy = math.log2(len(keys)) if len(keys) > 1 else 1.0
    hot_share = sum(counts[: max(1, len(counts) // 100)]) / total if total else 0.0
    return {
        "csv": workload.path,
        "total_ops": total,
        "op_ratios": {op: (n / total if total else 0.0) for op, n in ops.items()},
        "op_counts": ops,
        "key_space": len(keys),
        "skew": {
            "zipf_exponent": round(_zipf_exponent(counts), 3),
            "top_1_percent_share": round(hot_share, 4),
        },
        "hot_keys": [{"key": k, "count": c, "share": round(c / total, 4)} for k, c in ranked[:top]],
        "entropy_bits": round(entropy, 3),
        "entropy_normalised": round(entropy / max_entropy, 4) if keys else 0.0,
        "collision_risk": _collision_risk(list(keys), hashfn),
    }
