"""Jump into a moment of a run: the map just before one of its operations, and what follows.

A marker on the Run view's charts (a resize, a migration, a compaction, an alert), or any
point of its throughput chart, names an operation of the workload. :func:`jump_in`
rebuilds the map the run had just before that operation, by replaying the workload's
prefix through the engine with the run's own settings, and reads the next ``window``
operations for the step-through view. So a student can step through the real resize
that happened at operation 734,512.

Cost: the prefix is replayed again, O(prefix) time at the engine's replay speed (about
a million operations a second here), and O(map) memory; no snapshots are kept during the
run, so a run of any length costs nothing extra until a jump. Qt-free; the window runs it
off the GUI thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.errors import EngineError
from engine.maps.base import BaseMap
from engine.workloads.csv_format import WorkloadFile
from explorer.model.map_config import MapConfig
from explorer.model.operations import Operation

__all__ = ["JumpError", "JumpIn", "jump_in", "run_map"]

DEFAULT_WINDOW = 200


class JumpError(Exception):
    """The moment cannot be rebuilt (the message says why)."""


@dataclass(frozen=True)
class JumpIn:
    """The map before workload operation ``first_op`` (1-based) and the ones from it on."""

    start: BaseMap
    operations: list[Operation]
    first_op: int
    config: MapConfig
    source: str
    description: str


def run_map(backend: str | None, config: Path | None) -> BaseMap:
    """A new map as ``engine run-csv`` builds it for these flags."""
    from engine.settings.defaults import BACKEND, build_default_map

    if config is None:
        return build_default_map(backend or BACKEND)
    from engine.settings.models import load_settings

    settings = load_settings(config)
    if settings.hashing.function == "keyed" and settings.hashing.seed is None:
        raise JumpError(
            "the run's keyed hash drew a random seed, so its moments cannot be rebuilt: "
            "set hashing.seed in the settings to jump into such a run"
        )
    return settings.build_map(backend or settings.backend)


def jump_in(
    csv: Path,
    first_op: int,
    *,
    backend: str | None = None,
    config: Path | None = None,
    window: int = DEFAULT_WINDOW,
) -> JumpIn:
    """Replay operations ``1 .. first_op - 1`` of ``csv`` and read ``first_op`` on.
    Raises :class:`JumpError` for a workload or settings that cannot be read."""
    if first_op < 1:
        raise JumpError("operations are numbered from 1")
    try:
        m = run_map(backend, config)
        workload = WorkloadFile(csv)
        if workload.streaming:
            raise JumpError("a run read from a pipe cannot be replayed: jump into runs of files")
        prefix = first_op - 1
        done = 0
        upcoming: list[Operation] = []
        rows = workload.rows()
        try:
            for op, key, value in rows:
                if done < prefix:
                    if op == "put":
                        m[key] = value
                    elif op == "get":
                        m.get(key)
                    else:
                        m.discard(key)
                    done += 1
                    continue
                upcoming.append(Operation(op, key, value))  # type: ignore[arg-type]
                if len(upcoming) == window:
                    break
        finally:
            rows.close()
    except EngineError as exc:
        raise JumpError(exc.detail) from None
    if done < prefix or not upcoming:
        raise JumpError(f"the workload has only {done:,} operations")
    config_view = MapConfig(
        backend=m.kind,
        capacity=min(max(1, m.capacity), 1 << 16),
        hash=m.hash_spec.name,
        seed=m.hash_spec.seed,
    )
    return JumpIn(
        start=m,
        operations=upcoming,
        first_op=first_op,
        config=config_view,
        source=Path(csv).name,
        description=(
            f"The map as it was just before operation {first_op:,} of the run "
            f"({len(m):,} keys, {m.capacity:,} slots), then the next {len(upcoming)} "
            "operations of the workload."
        ),
    )
