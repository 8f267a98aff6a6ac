"""Applying a run of workload rows to a map in one call (the replay's batch interface).

A :class:`RowBatch` carries a CSV row iterator, the column order, the data row at which
to stop and the counters. ``BaseMap.apply_rows(batch)`` applies plain, valid rows until
the next row would reach ``stop``, the rows run out (``exhausted``), or it meets a row it
leaves to the caller: that row is read but not applied, and kept in ``pending`` (the
stop row itself, or a malformed one for the caller to diagnose). Blank rows are skipped
and not counted, as everywhere else.

:func:`apply_rows_generic` is the reference version: it calls ``get``, ``put`` and
``discard``, so tracing, migrations and every counter behave exactly as for single
operations. The chaining and Robin Hood maps override it with kernels
(:mod:`engine.maps.kernels`) that keep the table in local variables; tests hold the two to the
same layout and stats. Cost: O(rows applied) plus each operation's own cost.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from engine.records import Record, interpreted

__all__ = [
    "MEAN_SCALE",
    "NO_LIMIT",
    "OnWrite",
    "RowBatch",
    "WriteGuard",
    "apply_rows_generic",
    "floor_limit",
    "guard_hook",
    "mean_ratio",
    "reach_limit",
    "scaled_mean_limit",
]

#: Called after every put and delete a batch applies; True stops the batch there.
OnWrite = Callable[[], bool]


#: Scale of a guard's average limit in integer form (:func:`scaled_mean_limit`).
MEAN_SCALE = 1 << 20
#: An integer limit no counter reaches: what an infinite (switched-off) limit becomes.
NO_LIMIT = 1 << 62
_MEAN_CAP = 2.0**32
_SMALL_RATIO = 1 << 20


def floor_limit(limit: float) -> int:
    """The integer form of ``count > limit``: ``count > floor_limit(limit)`` for every
    int ``count``, exactly (NO_LIMIT for an infinite or larger limit). O(1)."""
    if limit >= NO_LIMIT:
        return NO_LIMIT
    return math.floor(limit)


def reach_limit(limit: float) -> int:
    """The integer form of ``count >= limit``: ``count > reach_limit(limit)`` for every
    int ``count``, exactly (NO_LIMIT for an infinite or larger limit). O(1)."""
    if limit >= NO_LIMIT:
        return NO_LIMIT
    return math.ceil(limit) - 1


def scaled_mean_limit(mean: float) -> int:
    """The integer form of ``total > mean * n`` as a guard uses it: ``total * MEAN_SCALE >
    scaled_mean_limit(mean) * n`` holds whenever the float comparison does (and, at most,
    for a few totals just below it), for every ``n`` below 2**32. Comparing ints instead
    of an int with a float product costs a few instructions instead of about a thousand.

    Why it never misses: the float product is at least ``mean * n * (1 - 2**-53)``, and
    the limit is one scaled unit below ``mean * MEAN_SCALE``, which is more than the
    rounding for any mean up to 2**32 (larger means count as 2**32: a total past
    ``mean * n`` is past ``2**32 * n`` too). O(1)."""
    return math.floor(min(mean, _MEAN_CAP) * MEAN_SCALE) - 1


def mean_ratio(mean: float) -> tuple[int, int]:
    """``(num, den)`` such that ``total * den > num * n`` holds whenever ``total > mean *
    n`` does (float product), for every ``n`` below 2**32: the exact ratio of ``mean`` when
    it is small (7.0 is ``(7, 1)``, 1.5 is ``(3, 2)``: the float product of such a ratio
    and ``n`` is exact, so both comparisons agree), otherwise ``(scaled_mean_limit(mean),
    MEAN_SCALE)``. With the default limits every product stays a small int, the cheap
    kind of int arithmetic. O(1)."""
    if math.isfinite(mean):
        num, den = float(mean).as_integer_ratio()
        if abs(num) <= _SMALL_RATIO and den <= _SMALL_RATIO:
            return num, den
    return scaled_mean_limit(mean), MEAN_SCALE


class WriteGuard:
    """A watch on every write a kernel applies, with no call while nothing is near a
    threshold (the adaptive map's guardrails; :mod:`engine.maps.kernels`).

    After each write the kernel counts it; once ``quiet`` writes have gone by and its
    table holds at least ``min_entries`` entries, it compares three of the table's own
    counters with the limits, all in ints: its largest (chain or DIB) ``> most``, its
    total (compared keys or DIBs) ``* mean_den > mean_num * size`` (:func:`mean_ratio` of
    ``mean``), and one count (entries or tombstones) ``>``
    :meth:`slot_limit` of its capacity (``per_slot`` of it, floored). Which counters
    depends on the backend: see the kernels. Only when one has crossed does it add the
    writes counted so far to ``writes`` and call ``check``, whose True stops the batch
    after that write; the kernel adds the rest of its writes to ``writes`` when it
    returns. O(1) a write.
    """

    __slots__ = (
        "check",
        "mean_den",
        "mean_num",
        "min_entries",
        "most",
        "per_slot",
        "quiet",
        "writes",
    )

    def __init__(
        self, check: OnWrite, min_entries: int, most: int, mean: float, per_slot: float
    ) -> None:
        self.check = check
        self.min_entries = min_entries
        self.most = most
        self.mean_num, self.mean_den = mean_ratio(mean)
        self.per_slot = per_slot
        self.quiet = 0
        self.writes = 0

    def slot_limit(self, capacity: int) -> int:
        """The count of ``capacity`` slots past which a write crosses:
        ``floor(per_slot * capacity)``, the same float product a check makes. O(1)."""
        return floor_limit(self.per_slot * capacity)


def guard_hook(guard: WriteGuard) -> OnWrite:
    """``guard`` as an ``on_write`` for the generic path: every write counted and
    checked in full (the check decides; the limits only spare calls). O(1) a write."""

    def wrote() -> bool:
        guard.writes += 1
        guard.quiet -= 1
        return guard.quiet <= 0 and guard.check()

    return wrote


@interpreted
class RowBatch(Record):
    """Rows to apply and what applying them counted (see the module docstring).

    ``applied`` counts data rows consumed so far, including any the caller handled
    itself (it advances it for the ``pending`` rows it takes over). ``stop`` is the number
    of the first data row not to apply; ``gets``, ``puts``, ``dels``, ``get_misses`` and
    ``del_misses`` count the operations the batch applied.
    """

    rows: Iterator[list[str]]
    columns: tuple[int, int, int] = (0, 1, 2)
    stop: int = 1
    applied: int = 0
    gets: int = 0
    puts: int = 0
    dels: int = 0
    get_misses: int = 0
    del_misses: int = 0
    pending: list[str] | None = None
    exhausted: bool = False

    def record(
        self, applied: int, started: int, puts: int, dels: int, get_misses: int, del_misses: int
    ) -> None:
        """Add one call's counts: rows ``started``..``applied`` were applied, of which
        ``puts`` puts and ``dels`` deletes (the rest gets). O(1), once per call."""
        self.gets += applied - started - puts - dels
        self.puts += puts
        self.dels += dels
        self.get_misses += get_misses
        self.del_misses += del_misses
        self.applied = applied


class _Operations(Protocol):
    def get(self, key: Any, default: Any = None) -> Any: ...

    def put(self, key: Any, value: Any) -> None: ...

    def discard(self, key: Any) -> bool: ...


_MISS: Any = object()


def apply_rows_generic(
    m: _Operations,
    batch: RowBatch,
    on_write: OnWrite | None = None,
    guard: WriteGuard | None = None,
) -> None:
    """Apply rows through ``m.get``, ``m.put`` and ``m.discard``; ``on_write`` as in
    :data:`OnWrite`, or ``guard`` watching the writes instead (through
    :func:`guard_hook`). O(rows)."""
    if guard is not None:
        on_write = guard_hook(guard)
    get, put, discard = m.get, m.put, m.discard
    op_col, key_col, value_col = batch.columns
    n = start = batch.applied
    last = batch.stop - 1
    puts = dels = get_misses = del_misses = 0
    miss = _MISS
    try:
        for row in batch.rows:
            if len(row) != 3 or n >= last:
                if not row:
                    continue
                batch.pending = row
                return
            op = row[op_col]
            key = row[key_col]
            if not key or "\0" in key:
                batch.pending = row
                return
            if op == "get":
                if row[value_col]:
                    batch.pending = row
                    return
                n += 1
                if get(key, miss) is miss:
                    get_misses += 1
            elif op == "put":
                value = row[value_col]
                if "\0" in value:
                    batch.pending = row
                    return
                n += 1
                puts += 1
                put(key, value)
                if on_write is not None and on_write():
                    return
            elif op == "del" and not row[value_col]:
                n += 1
                dels += 1
                if not discard(key):
                    del_misses += 1
                if on_write is not None and on_write():
                    return
            else:
                batch.pending = row
                return
        batch.exhausted = True
    finally:
        batch.record(n, start, puts, dels, get_misses, del_misses)
