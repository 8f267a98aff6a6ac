"""Replaying a CSV workload through a map: ``engine run-csv``.

The rows between two *checkpoints* (the next operation to time, the row limit, the next
compaction-clock look or tick) go to the map in one ``apply_rows`` call
(:mod:`engine.maps.batch`): the map's kernel reads them straight from :mod:`csv`, checks
them inline and applies them with its table in local variables. The checkpoint row,
and any row the kernel leaves because it is malformed, come back here to the
checkpoint handler, so the common row pays for parsing, its checks and the map
operation, nothing more. Memory is O(keys in the map + latency reservoir), independent
of the number of rows.

The cyclic garbage collector is paused while the rows are applied: a replay makes no
reference cycles (each row's list goes by reference counting), but a growing chaining
table holds hundreds of thousands of small lists that the collector would walk again
and again (about a tenth of a chaining replay). It is restored on the way out.
"""

from __future__ import annotations

import csv
import gc
import time
from collections.abc import Callable
from typing import Any

from engine.maps.base import BaseMap
from engine.maps.batch import RowBatch
from engine.records import FrozenRecord, Record, field
from engine.workloads.csv_format import OPS, WorkloadFile
from engine.workloads.latency import Reservoir

__all__ = ["ReplayOptions", "ReplayResult", "replay"]

_CLOCK_EVERY = 1024  # rows between looks at the clock (compaction interval, ticks)


class ReplayOptions(FrozenRecord):
    """How to replay: latency sampling, proactive compaction and progress ticks."""

    latency_sample_k: int = 1000
    latency_sample_every: int = 128
    compact_interval: float | None = None
    tick: Callable[[BaseMap, ReplayProgress], None] | None = None
    tick_every_ops: int = 0
    tick_every_seconds: float = 0.0
    on_latency: Callable[[str, float], None] | None = None


class ReplayProgress(Record):
    """Counters while a replay runs (handed to ticks)."""

    started: float
    rows: int = 0
    ops: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OPS, 0))
    compactions: int = 0
    latency: dict[str, Reservoir] = field(default_factory=dict)
    final: bool = False


class ReplayResult(Record):
    """What a replay did."""

    elapsed_seconds: float
    total_ops: int
    ops: dict[str, int]
    get_hits: int
    del_hits: int
    compactions: int
    latency: dict[str, Reservoir]
    events: list[dict[str, Any]]

    def latency_ms(self) -> dict[str, dict[str, float]]:
        return {name: res.percentiles(scale=1000.0) for name, res in self.latency.items()}


class _Runner:
    """One replay. Holds the checkpoint state so the hot loop stays small."""

    def __init__(self, m: BaseMap, workload: WorkloadFile, options: ReplayOptions) -> None:
        self.m = m
        self.workload = workload
        self.options = options
        k = max(1, options.latency_sample_k)
        self.latency = {
            "overall": Reservoir(k, seed=1),
            "put": Reservoir(max(1, k // 3), seed=2),
            "get": Reservoir(max(1, k // 3), seed=3),
            "del": Reservoir(max(1, k // 3), seed=4),
        }
        self.every = options.latency_sample_every if options.latency_sample_k > 0 else 0
        self.max_rows = workload.limits.max_rows
        self.progress = ReplayProgress(started=time.perf_counter(), latency=self.latency)
        self.next_sample = self.every or -1
        self.next_clock = _CLOCK_EVERY
        self.last_compact = self.progress.started
        self.last_tick_time = self.progress.started
        self.next_tick_ops = options.tick_every_ops or -1
        self.get_misses = 0
        self.del_misses = 0

    def next_checkpoint(self, row: int) -> int:
        candidates = [self.next_clock]
        if self.next_sample > 0:
            candidates.append(self.next_sample)
        if self.max_rows:
            candidates.append(self.max_rows + 1)
        if self.next_tick_ops > 0:
            candidates.append(self.next_tick_ops)
        return max(row + 1, min(candidates))

    def checkpoint(self, number: int, row: list[str]) -> None:
        """Handle data row ``number`` (already counted) and whatever falls due at it."""
        if self.max_rows and number > self.max_rows:
            raise self.workload.too_many_rows(number)
        if number == self.next_sample:
            self.next_sample += self.every
            started = time.perf_counter()
            op = self.run_one(row, number)
            elapsed = time.perf_counter() - started
            self.latency["overall"].offer(elapsed)
            self.latency[op].offer(elapsed)
            if self.options.on_latency is not None:
                self.options.on_latency(op, elapsed)
        else:
            self.run_one(row, number)
        if number >= self.next_clock:
            self.next_clock += _CLOCK_EVERY
            self.clock(number)
        if number == self.next_tick_ops:
            self.next_tick_ops += self.options.tick_every_ops
            self.emit_tick(number)

    def run_one(self, row: list[str], number: int) -> str:
        problem = self.workload.bad_row(row, number) if row else None
        if problem is not None:
            raise problem
        op_col, key_col, value_col = self.workload.columns
        op, key = row[op_col], row[key_col]
        m = self.m
        if op == "get":
            if m.get(key, _MISS) is _MISS:
                self.get_misses += 1
        elif op == "put":
            m[key] = row[value_col]
        elif not m.discard(key):
            self.del_misses += 1
        self.progress.ops[op] += 1
        return op

    def clock(self, number: int) -> None:
        now = time.perf_counter()
        interval = self.options.compact_interval
        if interval is not None and now - self.last_compact >= interval:
            self.last_compact = now
            if self.m.compact():
                self.progress.compactions += 1
        seconds = self.options.tick_every_seconds
        if seconds and now - self.last_tick_time >= seconds:
            self.emit_tick(number)

    def emit_tick(self, number: int) -> None:
        self.last_tick_time = time.perf_counter()
        if self.options.tick is not None:
            self.progress.rows = number
            self.options.tick(self.m, self.progress)


_MISS = object()


def replay(
    m: BaseMap, workload: WorkloadFile, options: ReplayOptions | None = None
) -> ReplayResult:
    """Run every row of ``workload`` against ``m``. Raises the workload's diagnostics
    (:class:`engine.workloads.csv_format.WorkloadError`, :class:`engine.errors.PolicyError`) at the
    first bad row; rows before it have been applied. O(rows) time, O(1) extra memory."""
    options = options or ReplayOptions()
    runner = _Runner(m, workload, options)
    batch = RowBatch(workload.reader(), workload.columns)
    apply_rows = m.apply_rows
    checkpoint = runner.next_checkpoint(0)
    collecting = gc.isenabled()
    gc.disable()
    try:
        try:
            while True:
                batch.stop = checkpoint
                apply_rows(batch)
                row = batch.pending
                if row is None:
                    if batch.exhausted:
                        break
                    continue
                batch.pending = None
                number = batch.applied = batch.applied + 1
                if number >= checkpoint:
                    runner.checkpoint(number, row)
                    checkpoint = runner.next_checkpoint(number)
                else:  # a row the batch would not apply: malformed, so this raises
                    runner.run_one(row, number)
        except (UnicodeDecodeError, csv.Error) as exc:
            raise workload.decode_error(batch.applied + 1, exc) from None
    finally:
        if collecting:
            gc.enable()
        workload.close()
    elapsed = time.perf_counter() - runner.progress.started
    if options.tick is not None:
        runner.progress.final = True
        runner.emit_tick(batch.applied)
    ops = runner.progress.ops
    ops["get"] += batch.gets
    ops["put"] += batch.puts
    ops["del"] += batch.dels
    total = sum(ops.values())
    return ReplayResult(
        elapsed_seconds=elapsed,
        total_ops=total,
        ops=dict(ops),
        get_hits=ops["get"] - batch.get_misses - runner.get_misses,
        del_hits=ops["del"] - batch.del_misses - runner.del_misses,
        compactions=runner.progress.compactions,
        latency=runner.latency,
        events=m.history(),
    )
