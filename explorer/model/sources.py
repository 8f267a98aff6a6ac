"""Where operations come from besides the operation line: a CSV workload file and a
random fill. Both return plain :class:`Operation` lists; nothing here touches a map."""

from __future__ import annotations

import random
from pathlib import Path

from engine.errors import EngineError
from engine.maps.adversarial import colliding_keys
from engine.maps.hashing import DEFAULT_HASH, UNSEEDED
from engine.workloads.csv_format import CsvLimits, WorkloadFile
from explorer.model.operations import Operation

__all__ = [
    "MAX_CSV_BYTES",
    "MAX_CSV_OPERATIONS",
    "WorkloadLoadError",
    "load_workload",
    "random_fill",
]

MAX_CSV_OPERATIONS = 5000
MAX_CSV_BYTES = 1 << 20
MAX_FILL = 2000


class WorkloadLoadError(ValueError):
    """A workload could not be loaded; the message names the file, row and reason."""


def load_workload(path: str | Path, max_operations: int = MAX_CSV_OPERATIONS) -> list[Operation]:
    """Read and validate a workload CSV (``op,key,value``) of at most ``max_operations``
    rows. The whole file is checked before anything is returned. O(rows)."""
    limits = CsvLimits(max_rows=max_operations, max_bytes=MAX_CSV_BYTES)
    try:
        workload = WorkloadFile(path, limits)
        ops = [Operation(op, key, value) for op, key, value in workload.rows()]  # type: ignore[arg-type]
    except EngineError as exc:
        hint = f" ({exc.hint})" if exc.hint else ""
        raise WorkloadLoadError(exc.detail + hint) from None
    except OSError as exc:
        raise WorkloadLoadError(f"{path}: {exc.strerror or exc}") from None
    if not ops:
        raise WorkloadLoadError(f"{path}: the workload has no operations")
    return ops


def random_fill(
    count: int,
    *,
    adversarial: int = 0,
    seed: int = 0,
    prefix: str = "k",
    bits: int = 12,
    hash: str = DEFAULT_HASH,
) -> list[Operation]:
    """``count`` puts of fresh random keys; ``adversarial`` of them are crafted to collide in
    the low ``bits`` bits of ``hash`` (so they share a home slot in any table of up to
    ``2**bits`` slots). For the keyed hash, which cannot be attacked, they are crafted
    against the default hash: the keyed map shows them spreading out. Deterministic for a
    ``seed``."""
    if not 0 <= count <= MAX_FILL:
        raise ValueError(f"fill between 0 and {MAX_FILL} keys at a time")
    if not 0 <= adversarial <= count:
        raise ValueError("the adversarial keys must be part of the count")
    rng = random.Random(seed)
    target = hash if hash in UNSEEDED else DEFAULT_HASH
    crafted = (
        colliding_keys(adversarial, bits, seed=seed, prefix="adv-", hash=target)
        if adversarial
        else []
    )
    plain = [f"{prefix}{rng.randrange(10**6):06d}" for _ in range(count - adversarial)]
    keys = plain + crafted
    rng.shuffle(keys)
    return [Operation("put", key, str(rng.randrange(1000))) for key in keys]
