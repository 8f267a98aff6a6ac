"""The adaptive map: chaining or Robin Hood underneath, switching incrementally.

It starts on the ``initial_backend`` (chaining by default) and watches guardrails after
every write: for chaining the load factor, the longest group chain and the mean
comparisons per hit; for Robin Hood the longest and mean probe and the tombstone ratio.
Each reads a counter the backends keep current, so a check costs O(1). When one trips, a
*migration* begins:

* a target table of the other kind is created, sized for the current entries;
* every later operation (get, put or delete) first does its own work, then moves a
  bounded batch of entries from the source to the target, walking a cursor over the
  source's slots or cells (at most ``migration_batch`` moved and ``4 * migration_batch``
  positions visited per operation);
* reads look in the target, then the source; writes go to the target and remove the key
  from the source; deletes remove it from whichever holds it. Each key lives in exactly one
  table, so no operation misses a key mid-migration. The source only loses entries, by
  tombstone in Robin Hood (a backward shift could carry an entry behind the cursor);
* when the cursor passes the end, the source is dropped and the target becomes active.

After a migration the guardrails rest for a cooldown of
``max(cooldown_ops, cooldown_per_entry * size) * cooldown_backoff ** (migrations - 1)``
writes (puts and deletes: only writes change the structure), which bounds the amortised
cost of migrating and stops ping-pong on workloads that hurt both backends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from engine.errors import InvariantError
from engine.maps.base import MISSING, BaseMap, own_abc_cache, tick_counters
from engine.maps.batch import (
    OnWrite,
    RowBatch,
    WriteGuard,
    floor_limit,
    reach_limit,
)
from engine.maps.chaining import ChainingMap
from engine.maps.hashing import HashSpec
from engine.maps.options import AdaptiveSpec, adaptive_options, spec_dict
from engine.maps.robinhood import TOMBSTONE, RobinHoodMap, _power_of_two_at_least
from engine.maps.stats import hist_add
from engine.records import replace
from engine.tracing.events import STEPS, GuardrailEvent, MigrateEvent, TraceSink

if TYPE_CHECKING:
    from engine.maps.option_models import AdaptiveOptions

__all__ = ["AdaptiveMap", "Migration"]

_SCAN_FACTOR = 4  # positions visited per operation, per entry of batch


class Migration:
    """An in-flight migration: the two tables, the cursor and the progress.

    A plain class, so that the compiled build makes it native (its fields are read at
    every migrating operation)."""

    def __init__(
        self,
        *,
        source: BaseMap,
        target: BaseMap,
        reason: str,
        started_op: int,
        total: int,
        cursor: int = 0,
        moved: int = 0,
        batches: int = 0,
        history_entry: dict[str, Any] | None = None,
    ) -> None:
        self.source = source
        self.target = target
        self.reason = reason
        self.started_op = started_op
        self.total = total
        self.cursor = cursor
        self.moved = moved
        self.batches = batches
        self.history_entry: dict[str, Any] = {} if history_entry is None else history_entry

    @property
    def positions(self) -> int:
        """Slots (Robin Hood) or cells (chaining) the cursor walks over."""
        if isinstance(self.source, ChainingMap):
            return self.source.capacity * self.source.groups
        return self.source.capacity

    def progress(self) -> dict[str, Any]:
        return {
            "from": self.source.kind,
            "to": self.target.kind,
            "moved": self.moved,
            "total": self.total,
            "cursor": self.cursor,
            "positions": self.positions,
            "reason": self.reason,
        }


class AdaptiveMap(BaseMap):
    """Adaptive hash map. Options: see :class:`engine.maps.option_models.AdaptiveOptions`.

    >>> m = AdaptiveMap(); m["k"] = 1; m.active_backend
    'chaining'
    """

    kind: ClassVar[str] = "adaptive"

    def __init__(self, capacity: int = 8, **options: Any) -> None:
        opts = adaptive_options(capacity, options)
        spec = HashSpec.create(opts.hash, opts.seed)
        super().__init__(spec)
        if opts.seed != spec.seed:
            # "keyed" without a seed drew one: the options (and so snapshots) record it
            opts = replace(opts, seed=spec.seed)
        self._opts: AdaptiveSpec = opts
        self._guard = opts.guardrails
        self._active: BaseMap = self._new_backend(opts.initial_backend, opts.capacity)
        self._migration: Migration | None = None
        self._migration_log: list[dict[str, Any]] = []
        self._completed = 0
        self._writes = 0
        self._quiet_until = 0  # no guardrail check before this many writes
        self._guards: tuple[type, WriteGuard] | None = None  # see _write_guard
        self._tripwire: Callable[[], bool] = self._rearm  # see _rearm
        self._full_checks = 0  # how often _check_guardrails ran (the tripwire said so)

    def _new_backend(self, kind: str, capacity: int) -> BaseMap:
        spec = self._hash_spec
        backend: BaseMap
        if kind == "chaining":
            backend = ChainingMap(
                capacity,
                groups=self._opts.groups,
                max_load_factor=self._opts.chaining_max_load_factor,
                hash=spec.name,
                seed=spec.seed,
            )
        else:
            backend = RobinHoodMap(
                capacity,
                max_load_factor=self._opts.robinhood_max_load_factor,
                deletion=self._opts.deletion,
                hash=spec.name,
                seed=spec.seed,
            )
        backend._hashfn = self._hashfn
        backend._owner = self
        backend._tracer = self._tracer
        return backend

    # ------------------------------------------------------------------ properties
    @property
    def active_backend(self) -> str:
        """The backend in charge: the migration's target while one is running."""
        return self._active.kind if self._migration is None else self._migration.target.kind

    @property
    def capacity(self) -> int:
        return self._active.capacity if self._migration is None else self._migration.target.capacity

    @property
    def migrating(self) -> bool:
        return self._migration is not None

    @property
    def options(self) -> AdaptiveOptions:
        """The map's options as the validated model (built on first use)."""
        from engine.maps.option_models import AdaptiveOptions

        return AdaptiveOptions.model_validate(spec_dict(self._opts))

    def migration_progress(self) -> dict[str, Any] | None:
        """``{"from", "to", "moved", "total", "cursor", "positions", "reason"}`` or None."""
        return None if self._migration is None else self._migration.progress()

    def migration_history(self) -> list[dict[str, Any]]:
        """Every migration so far: from, to, reason, metric, value, threshold, start and
        end operation, entries moved (end is None while running)."""
        return [dict(entry) for entry in self._migration_log]

    def tables(self) -> list[BaseMap]:
        """The backends holding entries now: one, or source and target while migrating."""
        if self._migration is None:
            return [self._active]
        return [self._migration.source, self._migration.target]

    def __len__(self) -> int:
        if self._migration is None:
            return len(self._active)
        return len(self._migration.source) + len(self._migration.target)

    def operation_count(self) -> int:
        """Operations so far, over every backend. O(longest probe)."""
        return BaseMap.operation_count(self) + sum(
            BaseMap.operation_count(table) for table in self.tables()
        )

    def _set_tracer(self, tracer: TraceSink | None) -> None:
        self._tracer = tracer
        for table in self.tables():
            table._tracer = tracer

    # ------------------------------------------------------------------ public operations
    def __getitem__(self, key: Any) -> Any:
        value = self.get(key, MISSING)
        if value is MISSING:
            raise KeyError(key)
        return value

    def get(self, key: Any, default: Any = None) -> Any:
        """Look up in the active table, or target then source mid-migration. Expected O(1)."""
        if self._migration is None:
            return self._active.get(key, default)
        value = self._migrating_get(key)
        return default if value is MISSING else value

    def __setitem__(self, key: Any, value: Any) -> None:
        """Insert or replace, then check guardrails (O(1)). Expected amortised O(1)."""
        if self._migration is None:
            self._active[key] = value
            self._writes += 1
            if self._writes >= self._quiet_until and self._tripwire():
                self._checked_after_write()
        else:
            self._migrating_put(key, value)

    def _checked_after_write(self) -> None:
        """Check guardrails after a write; in a trace, keep the result event last."""
        tr = self._tracer
        if tr is None or not tr or not isinstance(tr[-1], STEPS.ResultEvent):
            self._check_guardrails()
            return
        result = tr.pop()
        try:
            self._check_guardrails()
        finally:
            tr.append(result)

    def put(self, key: Any, value: Any) -> None:
        """The same as ``self[key] = value`` (its own copy: see :meth:`BaseMap.put`)."""
        if self._migration is None:
            self._active[key] = value
            self._writes += 1
            if self._writes >= self._quiet_until and self._tripwire():
                self._checked_after_write()
        else:
            self._migrating_put(key, value)

    def discard(self, key: Any) -> bool:
        """Remove ``key`` if present; True when it was. Expected O(1)."""
        if self._migration is None:
            found = self._active.discard(key)
            self._writes += 1
            if self._writes >= self._quiet_until and self._tripwire():
                self._checked_after_write()
            return found
        return self._migrating_delete(key)

    def __delitem__(self, key: Any) -> None:
        """Remove ``key``; KeyError when missing. Expected O(1)."""
        if not self.discard(key):
            raise KeyError(key)

    def apply_rows(
        self, batch: RowBatch, on_write: OnWrite | None = None, guard: WriteGuard | None = None
    ) -> None:
        """Apply workload rows (:mod:`engine.maps.batch`), as ``get``, ``put`` and ``discard``
        would. With no migration running and no trace open, the active backend's kernel
        applies them under this map's write guard (:meth:`_write_guard`): every write is
        counted and checked against the guardrails, as ``put`` does, by comparisons in the
        kernel itself; a migration ends the kernel's run, and the generic path applies
        rows until the migration is over. O(rows)."""
        if on_write is not None or guard is not None:
            BaseMap.apply_rows(self, batch, on_write, guard)
            return
        while batch.pending is None and not batch.exhausted:
            if self._tracer is not None:
                BaseMap.apply_rows(self, batch)
            elif self._migration is None:
                guard = self._write_guard()
                guard.quiet = self._quiet_until - self._writes
                guard.writes = 0
                try:
                    self._active.apply_rows(batch, guard=guard)
                finally:
                    self._writes += guard.writes
                    guard.writes = 0
            else:
                BaseMap.apply_rows(self, batch, self._migration_over)

    def _rearm(self) -> bool:
        """Build the tripwire for the active table and ask it once.

        The tripwire (``self._tripwire``) answers whether any guardrail counter of the
        active table has crossed its threshold: the comparisons of
        :meth:`_check_guardrails` (a superset of its trips) on locals bound once, in the
        integer forms of the kernels' :class:`WriteGuard` (an int compared with a float
        product costs about a thousand instructions), so a write with nothing near a
        threshold pays one call and a few int comparisons instead of the full check. It
        rebuilds itself when the active table changes (a finished migration, a restored
        snapshot, a copy)."""
        active = self._active
        guard = self._write_guard()  # the same integer limits as the kernels'
        min_entries, most = guard.min_entries, guard.most
        mean, den = guard.mean_num, guard.mean_den
        seen_mask = -1  # the capacity the per-slot limit was worked out for
        slot_limit = 0
        tripwire: Callable[[], bool]
        if type(active) is ChainingMap:
            chained = active

            def tripwire() -> bool:
                nonlocal seen_mask, slot_limit
                if self._active is not chained:
                    return self._rearm()
                size = chained._size
                if size < min_entries:
                    return False
                if chained._mask != seen_mask:  # grown: entries per bucket, anew
                    seen_mask = chained._mask
                    slot_limit = guard.slot_limit(seen_mask + 1)
                return (
                    chained._chain_max > most
                    or size > slot_limit
                    or chained._compare_sum * den > mean * size
                )

        else:
            assert type(active) is RobinHoodMap
            robin = active

            def tripwire() -> bool:
                nonlocal seen_mask, slot_limit
                if self._active is not robin:
                    return self._rearm()
                size = robin._size
                if size < min_entries:
                    return False
                if robin._mask != seen_mask:  # resized: tombstones per slot, anew
                    seen_mask = robin._mask
                    slot_limit = guard.slot_limit(seen_mask + 1)
                return (
                    robin._dib_max > most
                    or robin._dib_sum * den > mean * size
                    or robin._tombstones > slot_limit
                )

        self._tripwire = tripwire
        return tripwire()

    def _write_guard(self) -> WriteGuard:
        """The guard the active backend's kernel applies rows under (see
        :class:`~engine.maps.batch.WriteGuard`): it counts writes as ``put`` and
        ``discard`` do and, past the cooldown, compares the tripwire's counters (:meth:`_rearm`)
        with their thresholds itself, so a write with nothing near one costs no call; only
        one that crosses runs the full check, which may start a migration and so stop the
        kernel. Built once per backend kind; a test holds its limits to the tripwire's."""
        kind = type(self._active)
        if self._guards is not None and self._guards[0] is kind:
            return self._guards[1]
        g = self._guard
        if kind is ChainingMap:  # longest chain, compares per entry, entries per bucket
            most = floor_limit(g.chaining_max_group_len)
            mean, per_slot = g.chaining_avg_probe, g.chaining_load_factor
        else:  # largest DIB (>= the limit), DIB per entry, tombstones per slot
            most = reach_limit(g.robinhood_max_probe)
            mean, per_slot = g.robinhood_avg_probe - 1.0, g.robinhood_tombstone_ratio
        guard = WriteGuard(self._guarded_check, g.min_entries, most, mean, per_slot)
        self._guards = (kind, guard)
        return guard

    def _guarded_check(self) -> bool:
        """A kernel's write crossed a limit of its guard: count its writes, run the full
        check; True (stop the kernel) when a migration started."""
        assert self._guards is not None
        guard = self._guards[1]
        self._writes += guard.writes
        guard.writes = 0
        self._check_guardrails()
        return self._migration is not None

    def _migration_over(self) -> bool:
        return self._migration is None

    # ------------------------------------------------------------------ migration-time ops
    def _record(self, hist: list[int], probes: int) -> None:
        if probes < len(hist):
            hist[probes] += 1
        else:
            hist_add(hist, probes)

    def _migrating_get(self, key: Any) -> Any:
        mig = self._migration
        assert mig is not None
        tr = self._tracer
        h = self._hashfn(key)
        value = self._table_lookup(mig.target, key, h, tr)
        probes = mig.target._probes
        if value is MISSING:
            value = self._table_lookup(mig.source, key, h, tr)
            probes += mig.source._probes
        self._record(self._hist_get, probes)
        if value is MISSING:
            self._get_misses += 1
        self._migrate_batch()
        if tr is not None:
            found = value is not MISSING
            tr.append(
                STEPS.ResultEvent(
                    table=self.kind,
                    op="get",
                    key=key,
                    found=found,
                    probes=probes,
                    value=value if found else None,
                )
            )
        return value

    def _migrating_put(self, key: Any, value: Any) -> None:
        mig = self._migration
        assert mig is not None
        tr = self._tracer
        h = self._hashfn(key)
        in_source = self._table_discard(mig.source, key, h, tr)
        probes = mig.source._probes
        inserted = self._table_assign(mig.target, key, h, value, tr)
        probes += mig.target._probes
        updated = in_source or not inserted
        if updated:
            self._updates += 1
        self._record(self._hist_put, probes)
        self._migrate_batch()
        if tr is not None:
            tr.append(
                STEPS.ResultEvent(table=self.kind, op="put", key=key, found=updated, probes=probes)
            )

    def _migrating_delete(self, key: Any) -> bool:
        mig = self._migration
        assert mig is not None
        tr = self._tracer
        h = self._hashfn(key)
        found = self._table_discard(mig.target, key, h, tr)
        probes = mig.target._probes
        if not found:
            found = self._table_discard(mig.source, key, h, tr)
            probes += mig.source._probes
        self._record(self._hist_del, probes)
        if not found:
            self._del_misses += 1
        self._migrate_batch()
        if tr is not None:
            tr.append(
                STEPS.ResultEvent(table=self.kind, op="del", key=key, found=found, probes=probes)
            )
        return found

    @staticmethod
    def _table_lookup(table: BaseMap, key: Any, h: int, tr: TraceSink | None) -> Any:
        if tr is None:
            return table._lookup(key, h)
        return table._traced_lookup_hashed(key, h, tr)

    @staticmethod
    def _table_assign(table: BaseMap, key: Any, h: int, value: Any, tr: TraceSink | None) -> bool:
        if tr is None:
            return table._assign(key, h, value)
        return table._traced_assign_hashed(key, h, value, tr)

    @staticmethod
    def _table_discard(table: BaseMap, key: Any, h: int, tr: TraceSink | None) -> bool:
        if tr is None:
            return table._discard(key, h)
        return table._traced_discard_hashed(key, h, tr)

    # ------------------------------------------------------------------ guardrails
    def _check_guardrails(self) -> None:
        """Start a migration if the active backend crossed a threshold. O(1): it reads the
        counters the backends keep (cross-multiplied, so no division on the hot path)."""
        self._full_checks += 1
        tripped = self._tripped_guardrail()
        if tripped is not None:
            self._start_migration(*tripped)

    def _tripped_guardrail(self) -> tuple[str, int | float, int | float] | None:
        """The first guardrail the active backend has crossed, as ``(metric, value,
        threshold)``, or None; changes nothing but a refreshed maximum probe. O(1)."""
        active, g = self._active, self._guard
        size = active._size
        if size < g.min_entries:
            return None
        # exact types: the backends are always built by _new_backend (isinstance on these
        # ABC-derived classes costs more than the whole check)
        if type(active) is ChainingMap:
            if active._chain_max > g.chaining_max_group_len:
                return ("max_group_len", active._chain_max, g.chaining_max_group_len)
            if size > g.chaining_load_factor * (active._mask + 1):
                return ("load_factor", active.load_factor, g.chaining_load_factor)
            if active._compare_sum > g.chaining_avg_probe * size:
                return ("avg_probe", active.avg_probe, g.chaining_avg_probe)
        elif type(active) is RobinHoodMap:
            if active._dib_max >= g.robinhood_max_probe and active.max_probe_exceeds(
                g.robinhood_max_probe
            ):
                return ("max_probe", active.max_probe, g.robinhood_max_probe)
            if active._dib_sum > (g.robinhood_avg_probe - 1.0) * size:
                return ("avg_probe", active.avg_probe, g.robinhood_avg_probe)
            if active._tombstones > g.robinhood_tombstone_ratio * (active._mask + 1):
                ratio = active._tombstones / (active._mask + 1)
                return ("tombstone_ratio", ratio, g.robinhood_tombstone_ratio)
        return None

    def _start_migration(self, metric: str, value: int | float, threshold: int | float) -> None:
        source = self._active
        target_kind = "robinhood" if isinstance(source, ChainingMap) else "chaining"
        size = len(source)
        # Size the target so the moved entries fill it about halfway.
        target = self._new_backend(target_kind, _power_of_two_at_least(max(8, 2 * size)))
        if isinstance(source, RobinHoodMap):
            source._tombstone_deletes = True  # see the module docstring
        reason = f"{metric} {value:g} > {threshold:g}"
        entry: dict[str, Any] = {
            "from": source.kind,
            "to": target_kind,
            "reason": reason,
            "metric": metric,
            "value": value,
            "threshold": threshold,
            "start_op": self.operation_count(),
            "end_op": None,
            "moved": 0,
            "total": size,
        }
        self._migration_log.append(entry)
        self._migration = Migration(
            source=source,
            target=target,
            reason=reason,
            started_op=self.operation_count(),
            total=size,
            history_entry=entry,
        )
        self._record_structural(
            GuardrailEvent(
                table=self.kind,
                metric=metric,
                value=float(value),
                threshold=float(threshold),
                action=f"migrate {source.kind} -> {target_kind}",
            )
        )
        self._record_structural(
            MigrateEvent(
                table=self.kind,
                phase="start",
                source=source.kind,
                target=target_kind,
                moved=0,
                moved_total=0,
                total=size,
                cursor=0,
                reason=reason,
            )
        )

    # ------------------------------------------------------------------ migration steps
    def _migrate_batch(self) -> None:
        """Move up to ``migration_batch`` entries from source to target. O(batch)."""
        mig = self._migration
        assert mig is not None
        batch = self._opts.migration_batch
        budget = batch * _SCAN_FACTOR
        moved_keys: list[Any] = []
        source, target = mig.source, mig.target
        positions = mig.positions
        cursor = start = mig.cursor
        if isinstance(source, RobinHoodMap):
            keys, vals, hashes, dibs = source._keys, source._vals, source._hashes, source._dibs
            while cursor < positions and len(moved_keys) < batch and budget:
                budget -= 1
                key = keys[cursor]
                if dibs[cursor] >= 0 and key is not TOMBSTONE:
                    value, h = vals[cursor], hashes[cursor]
                    source._remove_slot(cursor, True)
                    target._insert_absent(key, h, value)
                    moved_keys.append(key)
                cursor += 1
        else:
            assert isinstance(source, ChainingMap)
            buckets, gbits, gmask = source._buckets, source._gbits, source.groups - 1
            hashfn = source._hashfn
            while cursor < positions and len(moved_keys) < batch and budget:
                b = cursor >> gbits
                chain = buckets[b]
                if chain is None:  # this bucket's remaining cells: one visit each
                    step = min(gmask + 1 - (cursor & gmask), budget)
                    cursor += step
                    budget -= step
                    continue
                budget -= 1
                i = source._cell_front(cursor)
                if i < 0:
                    cursor += 1
                    continue
                key, value = chain[i], chain[i + 1]
                source._unlink(b, i)
                target._insert_absent(key, hashfn(key), value)
                moved_keys.append(key)
        mig.cursor = cursor
        mig.moved += len(moved_keys)
        mig.history_entry["moved"] = mig.moved
        if moved_keys:
            mig.batches += 1
            if self._tracer is not None:
                self._tracer.append(
                    MigrateEvent(
                        table=self.kind,
                        phase="batch",
                        source=source.kind,
                        target=target.kind,
                        moved=len(moved_keys),
                        moved_total=mig.moved,
                        total=mig.total,
                        cursor=cursor,
                        keys=tuple(moved_keys),
                        batch=batch,
                        start=start,
                    )
                )
        if cursor >= positions:
            self._finish_migration()

    def _finish_migration(self) -> None:
        mig = self._migration
        assert mig is not None
        if len(mig.source):
            raise InvariantError(
                "migration-complete", f"{len(mig.source)} entries left behind the cursor"
            )
        self._absorb_counters(mig.source)
        self._active = mig.target
        self._migration = None
        self._completed += 1
        mig.history_entry["end_op"] = self.operation_count()
        g = self._guard
        cooldown = max(g.cooldown_ops, g.cooldown_per_entry * len(self._active))
        cooldown *= g.cooldown_backoff ** min(self._completed - 1, 16)
        self._quiet_until = self._writes + int(cooldown)
        self._record_structural(
            MigrateEvent(
                table=self.kind,
                phase="end",
                source=mig.source.kind,
                target=mig.target.kind,
                moved=0,
                moved_total=mig.moved,
                total=mig.total,
                cursor=mig.cursor,
                reason=mig.reason,
            )
        )

    def finish_migration(self) -> None:
        """Run an in-flight migration to completion now (no-op when none). O(n)."""
        while self._migration is not None:
            self._migrate_batch()

    def migrate_to(self, kind: str) -> None:
        """Start a migration to ``kind`` by hand (the explorer's "migrate now")."""
        if kind not in ("chaining", "robinhood"):
            raise ValueError(f"unknown backend {kind!r}")
        if self._migration is not None:
            raise RuntimeError("a migration is already running")
        if self._active.kind != kind:
            self._start_migration("manual", 0.0, 0.0)

    def compact(self) -> int:
        """Finish any migration, then purge Robin Hood tombstones."""
        self.finish_migration()
        return self._active.compact()

    def clear(self) -> None:
        """Drop everything and return to the initial backend (counters are kept)."""
        for table in self.tables():
            self._absorb_counters(table)
        if self._migration is not None:
            self._migration.history_entry["end_op"] = self.operation_count()
            self._migration.history_entry["abandoned"] = True
        self._active = self._new_backend(self._opts.initial_backend, 8)
        self._migration = None

    # ------------------------------------------------------------------ introspection
    def _iter_entries(self) -> Iterator[tuple[Any, Any]]:
        # Any operation may move entries (a migration batch) or start a migration, even a
        # read or a value update, which a dict allows during iteration. So iterate over a
        # snapshot of the pairs (O(n) memory): every key is seen exactly once.
        entries = [pair for table in self.tables() for pair in table._iter_entries()]
        yield from entries

    def _iteration_token(self) -> tuple[int, ...]:
        # Iteration works on a snapshot, so only a size change (as for dict) is an error.
        return (len(self),)

    def layout(self) -> dict[str, Any]:
        """The tables with their roles (``active``, or ``source`` and ``target``) and the
        migration state. O(capacity of the tables)."""
        mig = self._migration
        if mig is None:
            tables = [{"role": "active", "layout": self._active.layout()}]
        else:
            tables = [
                {"role": "source", "layout": mig.source.layout()},
                {"role": "target", "layout": mig.target.layout()},
            ]
        return {
            "kind": self.kind,
            "active_backend": self.active_backend,
            "size": len(self),
            "hash": self._hash_spec.to_dict(),
            "migration": None if mig is None else mig.progress(),
            "tables": tables,
        }

    def stats(self, full: bool = True) -> dict[str, Any]:
        """Counters over the map's whole life (all backends, retired ones included),
        the active backend's structural metrics and the migration state."""
        cls = type(self)
        totals = cls.__new__(cls)  # only the counters are set and read
        totals._hist_get, totals._hist_put, totals._hist_del = [0], [0], [0]
        totals._get_misses = totals._del_misses = totals._updates = 0
        totals._resizes = totals._compactions = 0
        totals._absorb_counters(self)
        for table in self.tables():
            totals._absorb_counters(table)
        current = self._active if self._migration is None else self._migration.target
        out: dict[str, Any] = {
            "backend": self.kind,
            "active_backend": self.active_backend,
            "size": len(self),
            "capacity": self.capacity,
            "load_factor": len(self) / self.capacity,
        }
        out.update(totals._ops_stats())
        out["resizes"] = totals._resizes
        out["compactions"] = totals._compactions
        out["migrations"] = len(self._migration_log)
        out["migrations_completed"] = self._completed
        out["migration"] = self.migration_progress()
        out["migration_history"] = self.migration_history()
        out.update(current._structure_stats(full))
        return out

    def tick_stats(self) -> dict[str, Any]:
        """:meth:`BaseMap.tick_stats` over the map's whole life, as :meth:`stats` counts:
        this map's counters (retired backends' and a migration's own) plus each table's,
        and the structure of the backend in charge. O(longest probe)."""
        current = self._active if self._migration is None else self._migration.target
        size = len(self)
        capacity = self.capacity
        out: dict[str, Any] = {
            "backend": self.kind,
            "active_backend": current.kind,
            "size": size,
            "capacity": capacity,
            "load_factor": size / capacity,
        }
        out.update(tick_counters([self, *self.tables()]))
        out["migrations"] = len(self._migration_log)
        out.update(current._tick_structure())
        return out

    def check_invariants(self) -> None:
        """Check each table, then that every key lives in exactly one table and nothing
        waits behind the migration cursor."""
        for table in self.tables():
            table.check_invariants()
            # fields, not ``!=``: compiled, ``!=`` on this Python-class record is identity
            theirs, mine = table.hash_spec, self._hash_spec
            if (theirs.name, theirs.seed) != (mine.name, mine.seed):
                raise InvariantError("hash-spec", f"{table.kind} table hashes differently")
        mig = self._migration
        if mig is None:
            return
        source_keys = {k for k, _ in mig.source._iter_entries()}
        for key, _ in mig.target._iter_entries():
            if key in source_keys:
                raise InvariantError("unique-across-tables", f"{key!r} is in both tables")
        if isinstance(mig.source, RobinHoodMap):
            behind = [
                i
                for i in range(min(mig.cursor, mig.source.capacity))
                if mig.source._dibs[i] >= 0 and mig.source._keys[i] is not TOMBSTONE
            ]
        else:
            assert isinstance(mig.source, ChainingMap)
            behind = [c for c in mig.source._occupied_cells() if c < mig.cursor]
        if behind:
            raise InvariantError(
                "cursor-consistent", f"source still holds entries behind the cursor at {behind[:5]}"
            )
        if mig.moved > mig.total:
            raise InvariantError("migration-progress", f"moved {mig.moved} > total {mig.total}")

    def copy(self) -> AdaptiveMap:
        """An independent map with the same tables, migration state and counters. O(n)."""
        cls = type(self)
        clone = cls.__new__(cls)
        self._copy_base_into(clone)
        clone._opts = self._opts
        clone._guard = self._guard
        clone._migration = None
        clone._migration_log = [dict(entry) for entry in self._migration_log]
        clone._completed = self._completed
        clone._writes = self._writes
        clone._quiet_until = self._quiet_until
        clone._full_checks = self._full_checks
        clone._guards = None
        clone._tripwire = clone._rearm  # the copied one reads this map's tables
        if self._migration is None:
            clone._active = self._adopt_for(clone, self._active)
        else:
            mig = self._migration
            entry = clone._migration_log[-1]
            clone._migration = Migration(
                source=self._adopt_for(clone, mig.source),
                target=self._adopt_for(clone, mig.target),
                reason=mig.reason,
                started_op=mig.started_op,
                total=mig.total,
                cursor=mig.cursor,
                moved=mig.moved,
                batches=mig.batches,
                history_entry=entry,
            )
            clone._active = clone._migration.source
        return clone

    @staticmethod
    def _adopt_for(owner: AdaptiveMap, table: BaseMap) -> BaseMap:
        copied = table.copy()
        copied._owner = owner
        copied._tracer = None
        return copied


own_abc_cache(AdaptiveMap)  # see own_abc_cache
