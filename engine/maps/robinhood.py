"""Robin Hood open addressing with linear probing.

Each slot keeps its entry's *distance from home* (DIB): how far the entry sits past the slot
its hash names. Insertion walks from the home slot; when the incoming entry is farther from
home than the resident ("poorer"), they trade places and the displaced resident walks on.
This keeps distances low and even, and gives the lookup invariant

    along any run of occupied slots, DIB rises by at most one per step,

so a lookup may stop as soon as its own distance exceeds the resident's: the key cannot be
further on. Deletion either shifts the following entries one slot back (``backshift``,
no tombstones) or leaves a *tombstone* that keeps its DIB so lookups pass it.

Expected costs at load factor a: lookup O(1) (about 1 + a / (2(1 - a)) probes for a hit),
insert amortised O(1), delete O(1) plus the shifted run. Growth doubles and re-places
every entry: O(n) at once, amortised O(1) per insert.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any, ClassVar, Final
from zlib import crc32

from engine.errors import InvariantError
from engine.jsonsafe import encode_key, encode_value
from engine.maps.base import MISSING, BaseMap, own_abc_cache
from engine.maps.batch import OnWrite, RowBatch, WriteGuard
from engine.maps.hashing import HashSpec, crc32_hash
from engine.maps.kernels import robinhood_rows
from engine.maps.options import robinhood_options
from engine.maps.stats import hist_add
from engine.tracing.events import STEPS, CompactEvent, ResizeEvent, TraceEvent, TraceSink

__all__ = ["TOMBSTONE", "RobinHoodMap"]

EMPTY: Final = -1  # the DIB stored in an empty slot: below every real distance


class _Tombstone:
    """Marker kept in the key array of a deleted slot. Object identity is its equality, so
    it equals no key, and comparing a key with it stays in C on the lookup paths."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "TOMBSTONE"


TOMBSTONE: Final = _Tombstone()


def _power_of_two_at_least(n: int) -> int:
    return 1 << max(0, n - 1).bit_length()


class RobinHoodMap(BaseMap):
    """Robin Hood hash map. Options: see :class:`engine.maps.option_models.RobinHoodOptions`.

    >>> m = RobinHoodMap(capacity=8); m["apple"] = 1; m["apple"]
    1
    """

    kind: ClassVar[str] = "robinhood"

    def __init__(self, capacity: int = 8, **options: Any) -> None:
        opts = robinhood_options(capacity, options)
        super().__init__(HashSpec.create(opts.hash, opts.seed))
        self._max_load = opts.max_load_factor
        self._deletion = opts.deletion
        self._tombstone_deletes = opts.deletion == "tombstone"
        self._allocate(_power_of_two_at_least(opts.capacity))

    # ------------------------------------------------------------------ storage
    def _allocate(self, capacity: int) -> None:
        self._keys: list[Any] = [None] * capacity
        self._vals: list[Any] = [None] * capacity
        self._hashes: list[int] = [0] * capacity
        self._dibs: list[int] = [EMPTY] * capacity
        self._mask = capacity - 1
        # Always leave at least one empty slot, so every probe sequence ends.
        self._limit = self._limit_for(capacity)
        self._tombstones = 0
        self._dib_sum = 0  # sum of the live entries' DIBs, exact
        # _dib_max bounds every used slot's DIB (tombstones keep theirs) from above, and
        # _dib_top counts the used slots whose DIB equals it: while it is positive the
        # bound is the exact maximum; at 0 the maximum is lower and a rescan finds it.
        self._dib_max = 0
        self._dib_top = 0

    @property
    def capacity(self) -> int:
        return self._mask + 1

    @property
    def deletion(self) -> str:
        """``"backshift"`` or ``"tombstone"``."""
        return self._deletion

    @property
    def max_load_factor(self) -> float:
        return self._max_load

    @property
    def tombstones(self) -> int:
        return self._tombstones

    @property
    def max_probe(self) -> int:
        """Longest probe over the used slots (max DIB + 1), 0 when empty.

        O(1) while some used slot holds the kept maximum DIB. Once deletions and backward
        shifts have lowered every one of them, one C-speed pass over the DIB array
        (O(capacity)) finds the new maximum and how many slots hold it.
        """
        if not self._size and not self._tombstones:
            return 0
        if not self._dib_top:
            self._rescan_dib_max()
        return self._dib_max + 1

    def _rescan_dib_max(self) -> None:
        """Set the kept maximum DIB and its count from the DIB array. O(capacity)."""
        top = max(self._dibs)
        self._dib_max = max(top, 0)
        self._dib_top = self._dibs.count(top) if top >= 0 else 0

    def max_probe_exceeds(self, limit: int) -> bool:
        """Whether :attr:`max_probe` > ``limit``. O(1) unless the kept upper bound already
        exceeds ``limit`` (then one refresh, which makes the bound exact again)."""
        if self._dib_max + 1 <= limit:
            return False
        return self.max_probe > limit

    @property
    def avg_probe(self) -> float:
        """Mean probes for a hit over the stored keys (mean DIB + 1). O(1)."""
        return self._dib_sum / self._size + 1.0 if self._size else 0.0

    @property
    def effective_load_factor(self) -> float:
        """(entries + tombstones) / slots: what growth is decided on."""
        return (self._size + self._tombstones) / (self._mask + 1)

    def _slot_dib_set(self, dib: int) -> None:
        """A used slot now holds ``dib`` (keeps the maximum and its count). O(1)."""
        if dib > self._dib_max:
            self._dib_max = dib
            self._dib_top = 1
        elif dib == self._dib_max:
            self._dib_top += 1

    def _slot_dib_cleared(self, dib: int) -> None:
        """A used slot no longer holds ``dib`` (emptied, or given another DIB). O(1)."""
        if dib == self._dib_max and self._dib_top:
            self._dib_top -= 1

    # ------------------------------------------------------------------ raw (fast) path
    def _find_slot(self, key: Any, h: int) -> int:
        """Slot holding ``key`` or -1. Stops at an empty slot or a richer resident."""
        mask, dibs, keys = self._mask, self._dibs, self._keys
        i = h & mask
        d = 0
        while dibs[i] >= d:
            if keys[i] == key:
                self._probes = d + 1
                return i
            d += 1
            i += 1
            if i > mask:
                i = 0
        self._probes = d + 1
        return -1

    def _lookup(self, key: Any, h: int) -> Any:
        i = self._find_slot(key, h)
        return MISSING if i < 0 else self._vals[i]

    def get(self, key: Any, default: Any = None) -> Any:
        """Look ``key`` up; ``default`` when missing. The untraced path is inlined here
        because lookups dominate most workloads. Expected O(1)."""
        if self._tracer is not None:
            return BaseMap.get(self, key, default)
        if type(key) is str and self._hashfn is crc32_hash:
            # crc32_hash's str branch, inlined: lookups dominate and a call costs ~15%
            try:
                h = crc32(key.encode())
            except UnicodeEncodeError:
                h = crc32(key.encode("utf-8", "surrogatepass"))
        else:
            h = self._hashfn(key)
        mask, dibs, keys = self._mask, self._dibs, self._keys
        i = h & mask
        d = 0
        while dibs[i] >= d:
            if keys[i] == key:
                hist = self._hist_get
                try:
                    hist[d + 1] += 1
                except IndexError:
                    hist_add(hist, d + 1)
                return self._vals[i]
            d += 1
            i += 1
            if i > mask:
                i = 0
        hist = self._hist_get
        try:
            hist[d + 1] += 1
        except IndexError:
            hist_add(hist, d + 1)
        self._get_misses += 1
        return default

    def apply_rows(
        self, batch: RowBatch, on_write: OnWrite | None = None, guard: WriteGuard | None = None
    ) -> None:
        """Apply workload rows (:mod:`engine.maps.batch`) with the inlined kernel of
        :mod:`engine.maps.kernels`; the generic per-operation path while tracing. O(rows)."""
        if self._tracer is not None:
            BaseMap.apply_rows(self, batch, on_write, guard)
        else:
            robinhood_rows(self, batch, on_write, guard)

    def _assign(self, key: Any, h: int, value: Any) -> bool:
        mask, dibs, hashes, keys = self._mask, self._dibs, self._hashes, self._keys
        i = h & mask
        d = 0
        reuse = -1  # first tombstone whose distance equals ours: free to take
        while True:
            rd = dibs[i]
            if rd < d:
                break
            if keys[i] == key:
                self._vals[i] = value
                self._probes = d + 1
                return False
            if rd == d and reuse < 0 and keys[i] is TOMBSTONE:
                reuse = i
            d += 1
            i += 1
            if i > mask:
                i = 0
        self._probes = d + 1
        if reuse >= 0:
            keys[reuse] = key
            self._vals[reuse] = value
            hashes[reuse] = h
            self._tombstones -= 1
            self._dib_sum += dibs[reuse]  # the slot keeps its DIB: the maximum stands
        elif self._size + self._tombstones >= self._limit:
            self._grow()
            self._place_from(h & self._mask, 0, key, h, value)
        else:
            self._place_from(i, d, key, h, value)
        self._size += 1
        return True

    def _place_from(self, i: int, d: int, key: Any, h: int, value: Any) -> None:
        """Robin Hood insertion of an absent key, starting at slot ``i`` at distance ``d``."""
        mask, dibs, hashes, keys, vals = (
            self._mask,
            self._dibs,
            self._hashes,
            self._keys,
            self._vals,
        )
        added = 0  # change of the DIB sum through displacements
        top, count = self._dib_max, self._dib_top  # the maximum DIB and its slots
        while True:
            rd = dibs[i]
            if rd < d:
                resident = keys[i]
                # A slot that held the maximum (rd == top) now holds d > rd: the new
                # maximum, so it needs no count of its own loss.
                if d > top:
                    top, count = d, 1
                elif d == top:
                    count += 1
                if rd == EMPTY or resident is TOMBSTONE:
                    if rd != EMPTY:
                        self._tombstones -= 1
                    keys[i] = key
                    vals[i] = value
                    hashes[i] = h
                    dibs[i] = d
                    self._dib_sum += added + d
                    self._dib_max, self._dib_top = top, count
                    return
                # The resident is richer: it yields the slot and walks on.
                keys[i] = key
                key = resident
                vals[i], value = value, vals[i]
                hashes[i], h = h, hashes[i]
                dibs[i] = d
                added += d - rd
                d = rd
            d += 1
            i += 1
            if i > mask:
                i = 0

    def _insert_absent(self, key: Any, h: int, value: Any) -> None:
        if self._size + self._tombstones >= self._limit:
            self._grow()
        self._place_from(h & self._mask, 0, key, h, value)
        self._size += 1

    def _discard(self, key: Any, h: int) -> bool:
        i = self._find_slot(key, h)
        if i < 0:
            return False
        self._remove_slot(i, self._tombstone_deletes)
        return True

    def _remove_slot(self, i: int, tombstone: bool) -> None:
        """Delete the live entry in slot ``i`` by tombstone or backward shift."""
        keys, vals, hashes, dibs, mask = (
            self._keys,
            self._vals,
            self._hashes,
            self._dibs,
            self._mask,
        )
        dib = dibs[i]
        self._dib_sum -= dib
        self._size -= 1
        if tombstone:  # the tombstone keeps the slot's DIB
            keys[i] = TOMBSTONE
            vals[i] = None
            self._tombstones += 1
            return
        top, count = self._dib_max, self._dib_top
        if dib == top and count:
            count -= 1
        prev = i
        j = (i + 1) & mask
        shifted = 0
        while True:
            dib = dibs[j]
            if dib <= 0:
                break
            if dib == top and count:  # one step closer to home: off the maximum
                count -= 1
            moved = keys[j]
            keys[prev] = moved
            vals[prev] = vals[j]
            hashes[prev] = hashes[j]
            dibs[prev] = dib - 1
            if moved is not TOMBSTONE:
                shifted += 1
            prev = j
            j += 1
            if j > mask:
                j = 0
        self._dib_sum -= shifted
        self._dib_top = count
        keys[prev] = None
        vals[prev] = None
        hashes[prev] = 0
        dibs[prev] = EMPTY

    def _grow(self) -> None:
        """Rebuild before an insert would pass the load limit: double, or purge tombstones
        at the same size when live entries alone fit comfortably."""
        capacity = self._mask + 1
        if (self._size + 1) * 2 <= self._limit:
            self._rebuild(capacity, "tombstones")
            return
        capacity *= 2
        while self._limit_for(capacity) < self._size + 1:
            capacity *= 2
        self._rebuild(capacity, "load factor")

    def _limit_for(self, capacity: int) -> int:
        """Most used slots (entries + tombstones) a table of ``capacity`` may hold."""
        return min(int(capacity * self._max_load), capacity - 1)

    def _rebuild(self, capacity: int, reason: str) -> None:
        """Re-place every live entry into a fresh table of ``capacity`` slots, in slot
        order, as :meth:`_place_from` would (inlined: no tombstones to reuse, the table
        in locals). O(n + capacity)."""
        old_capacity = self._mask + 1
        old = (self._keys, self._vals, self._hashes, self._dibs)
        removed = self._tombstones
        self._allocate(capacity)
        mask, dibs, hashes, keys, vals = (
            self._mask,
            self._dibs,
            self._hashes,
            self._keys,
            self._vals,
        )
        dib_sum = top = 0
        for key, value, h, old_dib in zip(*old, strict=True):
            if old_dib < 0 or key is TOMBSTONE:
                continue
            i = h & mask
            d = 0
            while True:
                rd = dibs[i]
                if rd < d:
                    if rd == EMPTY:
                        keys[i] = key
                        vals[i] = value
                        hashes[i] = h
                        dibs[i] = d
                        dib_sum += d
                        if d > top:
                            top = d
                        break
                    # The resident is richer: it yields the slot and walks on.
                    keys[i], key = key, keys[i]
                    vals[i], value = value, vals[i]
                    hashes[i], h = h, hashes[i]
                    dibs[i] = d
                    dib_sum += d - rd
                    if d > top:
                        top = d
                    d = rd
                d += 1
                i += 1
                if i > mask:
                    i = 0
        self._dib_sum = dib_sum
        self._dib_max = top
        self._dib_top = dibs.count(top)
        if reason == "compact":
            self._compactions += 1
            self._record_structural(
                CompactEvent(table=self.kind, tombstones_removed=removed, capacity=capacity)
            )
        else:
            self._resizes += 1
            self._record_structural(
                ResizeEvent(
                    table=self.kind,
                    old_capacity=old_capacity,
                    new_capacity=capacity,
                    size=self._size,
                    reason=reason,
                )
            )

    def compact(self) -> int:
        """Rebuild without tombstones at the same capacity; returns how many were removed."""
        removed = self._tombstones
        if removed:
            self._rebuild(self._mask + 1, "compact")
        return removed

    def reserve(self, entries: int) -> None:
        """Grow (never shrink) so ``entries`` fit under the load limit without a resize."""
        capacity = self._mask + 1
        while self._limit_for(capacity) < entries:
            capacity *= 2
        if capacity != self._mask + 1:
            self._rebuild(capacity, "reserve")

    def clear(self) -> None:
        """Remove everything and return to the smallest table. O(capacity)."""
        self._allocate(8 if self._mask + 1 > 8 else self._mask + 1)
        self._size = 0

    # ------------------------------------------------------------------ traced twins
    def _slot_state(self, i: int) -> str:
        if self._dibs[i] == EMPTY:
            return "empty"
        return "tombstone" if self._keys[i] is TOMBSTONE else "occupied"

    def _probe_event(self, i: int, d: int) -> TraceEvent:
        rd = self._dibs[i]
        return STEPS.ProbeEvent(
            table=self.kind,
            distance=d,
            state=self._slot_state(i),
            slot=i,
            resident_dib=rd if rd != EMPTY else None,
        )

    def _hash_event(self, key: Any, h: int) -> TraceEvent:
        return STEPS.HashEvent(
            table=self.kind, key=key, hash=h, capacity=self._mask + 1, index=h & self._mask
        )

    def _traced_find(self, key: Any, h: int, tr: TraceSink) -> tuple[int, int, int]:
        """Traced lookup walk. Returns (slot or -1, stop slot, stop distance)."""
        mask, dibs, hashes, keys = self._mask, self._dibs, self._hashes, self._keys
        i = h & mask
        d = 0
        while True:
            tr.append(self._probe_event(i, d))
            if dibs[i] < d:
                self._probes = d + 1
                return -1, i, d
            if keys[i] is not TOMBSTONE:
                equal = hashes[i] == h and (keys[i] is key or keys[i] == key)
                tr.append(
                    STEPS.CompareEvent(table=self.kind, key=key, other=keys[i], equal=equal, slot=i)
                )
                if equal:
                    self._probes = d + 1
                    return i, i, d
            d += 1
            i = (i + 1) & mask

    def _traced_lookup_hashed(self, key: Any, h: int, tr: TraceSink) -> Any:
        """Traced twin of :meth:`_lookup`, from the hash event on."""
        tr.append(self._hash_event(key, h))
        slot, _, _ = self._traced_find(key, h, tr)
        return MISSING if slot < 0 else self._vals[slot]

    def _traced_lookup(self, key: Any, tr: TraceSink) -> Any:
        value = self._traced_lookup_hashed(key, self._hashfn(key), tr)
        found = value is not MISSING
        tr.append(
            STEPS.ResultEvent(
                table=self.kind,
                op="get",
                key=key,
                found=found,
                probes=self._probes,
                value=value if found else None,
            )
        )
        return value

    def _traced_assign(self, key: Any, value: Any, tr: TraceSink) -> bool:
        inserted = self._traced_assign_hashed(key, self._hashfn(key), value, tr)
        tr.append(
            STEPS.ResultEvent(
                table=self.kind, op="put", key=key, found=not inserted, probes=self._probes
            )
        )
        return inserted

    def _traced_assign_hashed(self, key: Any, h: int, value: Any, tr: TraceSink) -> bool:
        """The traced twin of :meth:`_assign` (also used by the adaptive map)."""
        tr.append(self._hash_event(key, h))
        mask, dibs, hashes, keys = self._mask, self._dibs, self._hashes, self._keys
        i = h & mask
        d = 0
        reuse = -1
        while True:
            tr.append(self._probe_event(i, d))
            rd = dibs[i]
            if rd < d:
                break
            if keys[i] is not TOMBSTONE:
                equal = hashes[i] == h and (keys[i] is key or keys[i] == key)
                tr.append(
                    STEPS.CompareEvent(table=self.kind, key=key, other=keys[i], equal=equal, slot=i)
                )
                if equal:
                    self._vals[i] = value
                    self._probes = d + 1
                    tr.append(
                        STEPS.PlaceEvent(
                            table=self.kind, key=key, value=value, replaced=True, slot=i, dib=d
                        )
                    )
                    return False
            elif rd == d and reuse < 0:
                reuse = i
            d += 1
            i = (i + 1) & mask
        self._probes = d + 1
        if reuse >= 0:
            keys[reuse] = key
            self._vals[reuse] = value
            hashes[reuse] = h
            self._tombstones -= 1
            self._dib_sum += dibs[reuse]  # the slot keeps its DIB: the maximum stands
            tr.append(
                STEPS.PlaceEvent(
                    table=self.kind,
                    key=key,
                    value=value,
                    reused_tombstone=True,
                    slot=reuse,
                    dib=dibs[reuse],
                )
            )
        elif self._size + self._tombstones >= self._limit:
            self._grow()
            tr.append(self._hash_event(key, h))
            self._traced_place_from(h & self._mask, 0, key, h, value, tr, first_seen=False)
        else:
            self._traced_place_from(i, d, key, h, value, tr, first_seen=True)
        self._size += 1
        return True

    def _traced_place_from(
        self, i: int, d: int, key: Any, h: int, value: Any, tr: TraceSink, first_seen: bool
    ) -> None:
        mask, dibs, hashes, keys, vals = (
            self._mask,
            self._dibs,
            self._hashes,
            self._keys,
            self._vals,
        )
        seen = first_seen
        while True:
            if not seen:
                tr.append(self._probe_event(i, d))
            seen = False
            rd = dibs[i]
            if rd < d:
                resident = keys[i]
                if rd == EMPTY or resident is TOMBSTONE:
                    if rd != EMPTY:
                        self._tombstones -= 1
                        self._slot_dib_cleared(rd)
                    keys[i] = key
                    vals[i] = value
                    hashes[i] = h
                    dibs[i] = d
                    self._dib_sum += d
                    self._slot_dib_set(d)
                    tr.append(
                        STEPS.PlaceEvent(
                            table=self.kind,
                            key=key,
                            value=value,
                            slot=i,
                            dib=d,
                            reused_tombstone=rd != EMPTY,
                        )
                    )
                    return
                tr.append(
                    STEPS.DisplaceEvent(
                        table=self.kind,
                        slot=i,
                        incoming=key,
                        incoming_dib=d,
                        evicted=resident,
                        evicted_dib=rd,
                    )
                )
                keys[i] = key
                key = resident
                vals[i], value = value, vals[i]
                hashes[i], h = h, hashes[i]
                dibs[i] = d
                self._dib_sum += d - rd
                self._slot_dib_cleared(rd)
                self._slot_dib_set(d)
                d = rd
            d += 1
            i = (i + 1) & mask

    def _traced_discard(self, key: Any, tr: TraceSink) -> bool:
        found = self._traced_discard_hashed(key, self._hashfn(key), tr)
        tr.append(
            STEPS.ResultEvent(table=self.kind, op="del", key=key, found=found, probes=self._probes)
        )
        return found

    def _traced_discard_hashed(self, key: Any, h: int, tr: TraceSink) -> bool:
        """Traced twin of :meth:`_discard` (also used by the adaptive map)."""
        tr.append(self._hash_event(key, h))
        slot, _, _ = self._traced_find(key, h, tr)
        if slot < 0:
            return False
        self._traced_remove_slot(slot, self._tombstone_deletes, tr)
        return True

    def _traced_remove_slot(self, i: int, tombstone: bool, tr: TraceSink) -> None:
        key = self._keys[i]
        if tombstone:
            tr.append(STEPS.TombstoneEvent(table=self.kind, key=key, slot=i, dib=self._dibs[i]))
        else:
            tr.append(STEPS.RemoveEvent(table=self.kind, key=key, slot=i))
            mask, dibs, keys = self._mask, self._dibs, self._keys
            prev = i
            j = (i + 1) & mask
            while dibs[j] > 0:
                tr.append(
                    STEPS.BackshiftEvent(
                        table=self.kind, key=keys[j], from_slot=j, to_slot=prev, dib=dibs[j] - 1
                    )
                )
                prev = j
                j = (j + 1) & mask
        self._remove_slot(i, tombstone)

    # ------------------------------------------------------------------ introspection
    def _iter_entries(self) -> Iterator[tuple[Any, Any]]:
        keys, vals, dibs = self._keys, self._vals, self._dibs
        for i in range(len(keys)):
            key = keys[i]
            if dibs[i] != EMPTY and key is not TOMBSTONE:
                yield key, vals[i]

    def layout(self) -> dict[str, Any]:
        """The physical table, one entry per slot: ``{"state": "empty"}``, a tombstone
        (``dib``, ``hash``) or an entry (``key``, ``value``, ``dib``, ``hash``, ``home``).
        O(capacity)."""
        slots: list[dict[str, Any]] = []
        mask = self._mask
        for i in range(mask + 1):
            dib = self._dibs[i]
            if dib == EMPTY:
                slots.append({"state": "empty"})
                continue
            h = self._hashes[i]
            if self._keys[i] is TOMBSTONE:
                slots.append({"state": "tombstone", "dib": dib, "hash": h, "home": h & mask})
            else:
                slots.append(
                    {
                        "state": "occupied",
                        "key": encode_key(self._keys[i]),
                        "value": encode_value(self._vals[i]),
                        "dib": dib,
                        "hash": h,
                        "home": h & mask,
                    }
                )
        return {
            "kind": self.kind,
            "capacity": mask + 1,
            "size": self._size,
            "tombstones": self._tombstones,
            "max_load_factor": self._max_load,
            "deletion": self._deletion,
            "hash": self._hash_spec.to_dict(),
            "slots": slots,
        }

    def dib_histogram(self) -> list[list[int]]:
        """``[[dib, count], ...]`` over the live entries. O(capacity), counted in C
        (:class:`collections.Counter`); tombstones, which keep a DIB, are taken back out
        one by one."""
        counts = Counter(self._dibs)
        del counts[EMPTY]
        if self._tombstones:
            keys, dibs = self._keys, self._dibs
            for i in range(len(dibs)):
                if keys[i] is TOMBSTONE:
                    counts[dibs[i]] -= 1
        return sorted([dib, n] for dib, n in counts.items() if n)

    def _structure_stats(self, full: bool = True) -> dict[str, Any]:
        capacity = self._mask + 1
        out: dict[str, Any] = {
            "tombstones": self._tombstones,
            "tombstone_ratio": self._tombstones / capacity,
            "max_probe_current": self.max_probe,
            "avg_probe_current": self.avg_probe,
            "deletion": self._deletion,
            "max_load_factor": self._max_load,
        }
        if full:
            out["dib_histogram"] = self.dib_histogram()
        return out

    def _tick_structure(self) -> dict[str, Any]:
        return {
            "tombstone_ratio": self._tombstones / (self._mask + 1),
            "max_probe_current": self.max_probe,
            "avg_probe_current": self.avg_probe,
        }

    def check_invariants(self) -> None:
        """Raise :class:`InvariantError` naming the first broken invariant. O(capacity)."""
        capacity = self._mask + 1
        keys, dibs, hashes = self._keys, self._dibs, self._hashes
        if capacity & (capacity - 1) or not (
            len(keys) == len(dibs) == len(hashes) == len(self._vals) == capacity
        ):
            raise InvariantError("table-shape", f"arrays do not all have {capacity} slots")
        seen: set[Any] = set()
        live = tombstones = dib_sum = 0
        for i in range(capacity):
            dib = dibs[i]
            if dib == EMPTY:
                if keys[i] is not None:
                    raise InvariantError("empty-slot", f"slot {i} has DIB -1 but holds a key")
                continue
            if dib < 0:
                raise InvariantError("dib-matches-home", f"slot {i} has negative DIB {dib}")
            home = hashes[i] & self._mask
            if (i - home) & self._mask != dib:
                raise InvariantError(
                    "dib-matches-home",
                    f"slot {i}: stored DIB {dib} but hash's home slot {home} gives "
                    f"{(i - home) & self._mask}",
                )
            prev_dib = dibs[(i - 1) & self._mask]
            if dib > prev_dib + 1:
                raise InvariantError(
                    "robin-hood-order",
                    f"slot {i} has DIB {dib} after slot {(i - 1) & self._mask} with DIB {prev_dib}",
                )
            key = keys[i]
            if key is TOMBSTONE:
                tombstones += 1
                continue
            if self._hashfn(key) != hashes[i]:
                raise InvariantError(
                    "hash-matches-key", f"slot {i}: stored hash is not hash({key!r})"
                )
            if key in seen:
                raise InvariantError("unique-keys", f"key {key!r} is stored twice")
            seen.add(key)
            live += 1
            dib_sum += dib
        if live != self._size:
            raise InvariantError("size-matches", f"{live} live entries but size says {self._size}")
        if tombstones != self._tombstones:
            raise InvariantError(
                "tombstone-count",
                f"{tombstones} tombstones but the counter says {self._tombstones}",
            )
        if live + tombstones > self._limit:
            raise InvariantError(
                "load-limit", f"{live + tombstones} used slots exceed the limit {self._limit}"
            )
        if dib_sum != self._dib_sum:
            raise InvariantError(
                "probe-counters", f"DIB sum {self._dib_sum}, slots add to {dib_sum}"
            )
        used_max = max((d for d in dibs if d != EMPTY), default=0)
        at_max = dibs.count(self._dib_max)
        if self._dib_max < used_max or (self._dib_top and self._dib_max != used_max):
            raise InvariantError(
                "probe-counters", f"kept maximum DIB {self._dib_max}, slots give {used_max}"
            )
        if self._dib_top != at_max:
            raise InvariantError(
                "probe-counters",
                f"{at_max} slots hold the maximum DIB {self._dib_max}, "
                f"the counter says {self._dib_top}",
            )

    def copy(self) -> RobinHoodMap:
        """An independent map with the same layout, counters and hash (values shared). O(n)."""
        cls = type(self)
        clone = cls.__new__(cls)
        self._copy_base_into(clone)
        clone._max_load = self._max_load
        clone._deletion = self._deletion
        clone._tombstone_deletes = self._tombstone_deletes
        clone._keys = list(self._keys)
        clone._vals = list(self._vals)
        clone._hashes = list(self._hashes)
        clone._dibs = list(self._dibs)
        clone._mask = self._mask
        clone._limit = self._limit
        clone._tombstones = self._tombstones
        clone._dib_sum = self._dib_sum
        clone._dib_max = self._dib_max
        clone._dib_top = self._dib_top
        return clone


own_abc_cache(RobinHoodMap)  # see own_abc_cache
