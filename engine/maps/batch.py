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

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from engine.records import Record, interpreted

__all__ = ["OnWrite", "RowBatch", "WriteGuard", "apply_rows_generic", "guard_hook"]

#: Called after every put and delete a batch applies; True stops the batch there.
OnWrite = Callable[[], bool]


class WriteGuard:
    """A watch on every write a kernel applies, with no call while nothing is near a
    threshold (the adaptive map's guardrails; :mod:`engine.maps.kernels`).

    After each write the kernel counts it; once ``quiet`` writes have gone by and its
    table holds at least ``min_entries`` entries, it compares three of the table's own
    counters with ``limits`` (which three depends on the backend: see the kernels). Only
    when one has crossed does it add the writes counted so far to ``writes`` and call
    ``check``, whose True stops the batch after that write; the kernel adds the rest of
    its writes to ``writes`` when it returns. O(1) a write.
    """

    __slots__ = ("check", "limits", "min_entries", "quiet", "writes")

    def __init__(
        self, check: OnWrite, min_entries: int, limits: tuple[float, float, float]
    ) -> None:
        self.check = check
        self.min_entries = min_entries
        self.limits = limits
        self.quiet = 0
        self.writes = 0


def guard_hook(guard: WriteGuard) -> OnWrite:
    """``guard`` as an ``on_write`` for the generic path: every write counted and
    checked in full (the check decides; the limits only spare calls). O(1) a write."""

    def wrote() -> bool:
        guard.writes += 1
        guard.quiet -= 1
        return guard.quiet <= 0 and guard.check()

    return wrote


@interpreted
@dataclass(slots=True, eq=False, repr=False)
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
