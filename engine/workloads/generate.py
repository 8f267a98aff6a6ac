"""Synthetic workload generation: ``engine generate-csv``.

Rows are produced in chunks with :meth:`random.Random.choices` (C-speed sampling) and
written with :func:`csv.writer.writerows`, so a million rows take about a second. Output is
deterministic for a seed and written atomically.

Key choice (``distribution``):

* ``uniform``: every key of ``K0 .. K{key_space-1}`` equally likely.
* ``zipf``: key ``i`` has weight ``1 / (i + 1) ** key_skew`` (``key_skew`` defaults to
  0.99 here, the constant of the YCSB zipfian generator).
* ``hotspot``: 80% of operations go to the hottest 20% of keys, uniformly within each set.
* ``latest``: recently inserted keys are likeliest (zipf over recency); writes insert new
  keys in order.

A ``--key-skew`` above 0 without ``--distribution`` means zipf, as before.
``adversarial_ratio`` of the operations use keys from a pool crafted to collide in the low
``adversarial_lowbits`` bits of the engine's default hash (:mod:`engine.maps.adversarial`).

YCSB presets (core workloads) set the mix and distribution; the map has no scans, so E's
scans are gets of the scan's first key, and F's read-modify-write is a get then a put
of the same key (two rows).
"""

from __future__ import annotations

import csv
import itertools
import os
import random
import stat
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Final, Literal

from engine.errors import BadInputError, IOFailureError
from engine.maps.adversarial import MAX_COLLISION_BITS, colliding_keys
from engine.store.atomic import atomic_open, resolve_output

__all__ = ["PRESETS", "WorkloadSpec", "generate_rows", "write_workload"]

Distribution = Literal["uniform", "zipf", "hotspot", "latest"]
_CHUNK = 65_536
_HOT_KEYS = 0.2
_HOT_OPS = 0.8
_ADVERSARIAL_POOL_MAX = 4096
#: 10**9 rows are about 20 GB of CSV; the key space's names and weights take about
#: 100 bytes a key in memory (1 GB at the ceiling); a skew past 10 puts every operation
#: on the first key. The comparisons are also false for NaN, so NaN is refused too.
MAX_OPS: Final = 1_000_000_000
MAX_KEY_SPACE: Final = 10_000_000
MAX_SKEW: Final = 10.0
#: A generous upper bound on a row's bytes (op, a key of the key space, a 6-digit value).
_ROW_BYTES: Final = 32


@dataclass(frozen=True)
class WorkloadSpec:
    """Everything that determines a generated workload."""

    ops: int = 100_000
    read_ratio: float = 0.8
    del_ratio: float = 0.2  # share of the writes that are deletes
    key_skew: float = 0.0
    key_space: int = 10_000
    seed: int = 1337
    adversarial_ratio: float = 0.0
    adversarial_lowbits: int = 6
    distribution: Distribution | None = None
    insert_new_keys: bool = False  # writes add fresh keys (YCSB D and E)
    read_modify_write: bool = False  # writes are get-then-put pairs (YCSB F)

    def validated(self) -> WorkloadSpec:
        checks = [
            (0 < self.ops <= MAX_OPS, f"--ops must be between 1 and {MAX_OPS:,}"),
            (0.0 <= self.read_ratio <= 1.0, "--read-ratio must be between 0 and 1"),
            (0.0 <= self.del_ratio <= 1.0, "--del-ratio must be between 0 and 1"),
            (0.0 <= self.key_skew <= MAX_SKEW, f"--key-skew must be between 0 and {MAX_SKEW}"),
            (
                0 < self.key_space <= MAX_KEY_SPACE,
                f"--key-space must be between 1 and {MAX_KEY_SPACE:,}",
            ),
            (0.0 <= self.adversarial_ratio <= 1.0, "--adversarial-ratio must be between 0 and 1"),
            (
                1 <= self.adversarial_lowbits <= MAX_COLLISION_BITS,
                f"--adversarial-lowbits must be between 1 and {MAX_COLLISION_BITS}",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise BadInputError(message, "see `engine generate-csv --help`")
        if self.effective_distribution == "latest" and not self.insert_new_keys:
            return replace(self, insert_new_keys=True)  # "latest": recent inserts are hot
        return self

    @property
    def effective_distribution(self) -> Distribution:
        if self.distribution is not None:
            return self.distribution
        return "zipf" if self.key_skew > 0 else "uniform"


PRESETS: dict[str, WorkloadSpec] = {
    "ycsb-a": WorkloadSpec(read_ratio=0.5, del_ratio=0.0, distribution="zipf"),
    "ycsb-b": WorkloadSpec(read_ratio=0.95, del_ratio=0.0, distribution="zipf"),
    "ycsb-c": WorkloadSpec(read_ratio=1.0, del_ratio=0.0, distribution="zipf"),
    "ycsb-d": WorkloadSpec(
        read_ratio=0.95, del_ratio=0.0, distribution="latest", insert_new_keys=True
    ),
    "ycsb-e": WorkloadSpec(
        read_ratio=0.95, del_ratio=0.0, distribution="zipf", insert_new_keys=True
    ),
    "ycsb-f": WorkloadSpec(
        read_ratio=0.5, del_ratio=0.0, distribution="zipf", read_modify_write=True
    ),
}


def preset(name: str, **overrides: object) -> WorkloadSpec:
    """A preset's spec with ``overrides`` (ops, key_space, seed ...) applied."""
    try:
        base = PRESETS[name]
    except KeyError:
        raise BadInputError(
            f"unknown preset {name!r}", f"choose one of {', '.join(PRESETS)}"
        ) from None
    return replace(base, **overrides)  # type: ignore[arg-type]


def _zipf_cdf(n: int, skew: float) -> list[float]:
    weights = [1.0 / (i + 1) ** skew for i in range(n)]
    return list(itertools.accumulate(weights))


def generate_rows(spec: WorkloadSpec) -> Iterator[list[tuple[str, str, str]]]:
    """Yield the workload's rows in chunks of at most 65,536 (op, key, value)."""
    spec = spec.validated()
    rng = random.Random(spec.seed)
    dist = spec.effective_distribution
    if spec.insert_new_keys:
        yield from _sequential_rows(spec, rng)
        return
    names = [f"K{i}" for i in range(spec.key_space)]
    cdf: list[float] | None = None
    if dist == "zipf":
        cdf = _zipf_cdf(spec.key_space, spec.key_skew or 0.99)
    elif dist == "hotspot":
        hot = max(1, int(spec.key_space * _HOT_KEYS))
        per_hot = _HOT_OPS / hot
        per_cold = (1.0 - _HOT_OPS) / max(1, spec.key_space - hot)
        cdf = list(
            itertools.accumulate(per_hot if i < hot else per_cold for i in range(spec.key_space))
        )
    adversarial = _adversarial_pool(spec)
    write = 1.0 - spec.read_ratio
    op_weights = [spec.read_ratio, write * (1.0 - spec.del_ratio), write * spec.del_ratio]
    op_names = ["get", "put", "del"]
    remaining = spec.ops
    while remaining > 0:
        n = min(_CHUNK, remaining)
        if spec.read_modify_write:
            n = min(n, remaining)
        keys = rng.choices(names, cum_weights=cdf, k=n)
        if adversarial:
            hits = [
                i
                for i, r in enumerate(rng.random() for _ in range(n))
                if r < spec.adversarial_ratio
            ]
            for i, key in zip(hits, rng.choices(adversarial, k=len(hits)), strict=True):
                keys[i] = key
        ops = rng.choices(op_names, weights=op_weights, k=n)
        values = rng.choices(range(1_000_000), k=n)
        rows: list[tuple[str, str, str]] = []
        append = rows.append
        for op, key, value in zip(ops, keys, values, strict=True):
            if op == "get":
                append(("get", key, ""))
            elif op == "del":
                append(("del", key, ""))
            elif spec.read_modify_write:
                append(("get", key, ""))
                append(("put", key, str(value)))
            else:
                append(("put", key, str(value)))
        rows = rows[:remaining]
        remaining -= len(rows)
        yield rows


def _adversarial_pool(spec: WorkloadSpec) -> list[str]:
    if spec.adversarial_ratio <= 0:
        return []
    size = min(_ADVERSARIAL_POOL_MAX, max(1, round(spec.key_space * spec.adversarial_ratio)))
    return colliding_keys(size, spec.adversarial_lowbits, seed=spec.seed, prefix="A")


def _sequential_rows(
    spec: WorkloadSpec, rng: random.Random
) -> Iterator[list[tuple[str, str, str]]]:
    """Row by row, for mixes whose key choice depends on what was inserted before."""
    recency_cdf = _zipf_cdf(spec.key_space, spec.key_skew or 0.99)
    population = range(spec.key_space)
    inserted = spec.key_space  # keys K0..K{key_space-1} are taken as preloaded
    adversarial = _adversarial_pool(spec)
    rows: list[tuple[str, str, str]] = []
    zipf_cdf = recency_cdf if spec.effective_distribution != "uniform" else None
    for _ in range(spec.ops):
        if adversarial and rng.random() < spec.adversarial_ratio:
            key = rng.choice(adversarial)
        elif spec.effective_distribution == "latest":
            back = rng.choices(population, cum_weights=recency_cdf)[0]
            key = f"K{max(0, inserted - 1 - back)}"
        else:
            key = f"K{rng.choices(population, cum_weights=zipf_cdf)[0] % inserted}"
        if rng.random() < spec.read_ratio:
            rows.append(("get", key, ""))
        elif spec.insert_new_keys:
            rows.append(("put", f"K{inserted}", str(rng.randrange(1_000_000))))
            inserted += 1
        elif rng.random() < spec.del_ratio:
            rows.append(("del", key, ""))
        else:
            rows.append(("put", key, str(rng.randrange(1_000_000))))
        if len(rows) == _CHUNK:
            yield rows
            rows = []
    if rows:
        yield rows


def check_disk_space(path: str, spec: WorkloadSpec) -> None:
    """Refuse before writing when the workload would not fit on the disk that ``path``
    lands on (regular files only: a device or FIFO takes what it is given)."""
    target, status = resolve_output(path)
    if status is not None and not stat.S_ISREG(status.st_mode):
        return
    try:
        usage = os.statvfs(target.parent)
    except OSError:
        return  # the write itself reports the folder's problem
    free = usage.f_bavail * usage.f_frsize + (status.st_size if status else 0)
    needed = spec.ops * _ROW_BYTES
    if needed > free:
        raise IOFailureError(
            f"{path!r}: {spec.ops:,} rows need up to {needed / 1e9:.1f} GB but the disk has "
            f"{free / 1e9:.1f} GB free",
            "use fewer --ops or write to another disk",
        )


def write_workload(path: str, spec: WorkloadSpec) -> int:
    """Write the workload to ``path`` atomically; returns the number of rows. O(ops)."""
    total = 0
    spec = spec.validated()
    check_disk_space(path, spec)
    try:
        with atomic_open(path, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(("op", "key", "value"))
            for chunk in generate_rows(spec):
                writer.writerows(chunk)
                total += len(chunk)
    except OSError as exc:
        raise IOFailureError(
            f"cannot write {path!r}: {exc.strerror or exc}", "check the --outfile path"
        ) from None
    return total
