"""Two-level separate chaining.

The table has ``capacity`` buckets (a power of two), chosen by the hash's low bits. Each
bucket is split into ``groups`` small chains (a power of two), chosen by the hash's top
bits (of its 32 or 64, :attr:`engine.maps.hashing.HashSpec.bits`): a second hash, separate
from the bucket's bits in any table of up to ``2**(bits - log2(groups))`` buckets. Keys
that collide in the low bits, on purpose or by bad luck, still spread over the groups of
their bucket, so chains stay short unless keys collide in both. A *cell* is one group of
one bucket, numbered ``bucket * groups + group``; a lookup scans its key's cell only.

Storage is one list of ``capacity`` buckets, each ``None`` while empty or one flat tuple
``(key, value, group, key, value, group, ...)``: the bucket's cells one after another in
group order, each cell's chain in insertion order. A bucket's tuple is made by its first
entry, replaced by a new one at each change and dropped with its last. A tuple rather
than a list because a lookup reads it with one memory access fewer (its items are in
the object itself, a list's in a second block) and it is smaller (64 bytes for one
entry, against about 90 for a list); a change copies the bucket, which a list's
insertion or deletion in the middle moves all the same: O(bucket) either way. Of each
hash only the group is kept (a small int, which CPython shares); the full hash is
recomputed from the key where it is needed (growth, :meth:`ChainingMap.layout`,
snapshots, the invariant check). A tuple per bucket rather than per cell, and no stored
hash, keep the table small: at the default 4 groups and load
limit 0.75 a table of 100,000 keys has about a million cells, and a pointer per cell
alone would be 8 MB (12 MB while growing), more than a ``dict`` needs for the whole map.

Expected costs at load factor a (entries per bucket): a hit compares about
1 + a / (2 * groups) keys, a miss a / groups; insert amortised O(1); growth doubles the
buckets in place, sending each bucket's entries to itself or to its new twins (a tuple
whose entries all go one way moves whole): O(n) at once, amortised O(1).
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import compress, repeat
from typing import Any, ClassVar
from zlib import crc32

from engine.errors import InvariantError
from engine.jsonsafe import encode_key, encode_value
from engine.maps.base import MISSING, BaseMap, own_abc_cache
from engine.maps.batch import OnWrite, RowBatch, WriteGuard
from engine.maps.hashing import HashSpec, crc32_hash
from engine.maps.kernels import chaining_rows, find_in_bucket, with_value
from engine.maps.options import chaining_options
from engine.maps.robinhood import _power_of_two_at_least
from engine.maps.stats import hist_add, hist_pairs
from engine.tracing.events import STEPS, ResizeEvent, TraceEvent, TraceSink

__all__ = ["ChainingMap"]


def _count_chains(hist: list[int], chain: tuple[Any, ...]) -> int:
    """Add the lengths of the group chains in a bucket's tuple to ``hist``; returns their
    sum of L(L+1)/2 (the comparisons to find every key). O(bucket)."""
    total = length = 0
    current = -1
    for g in chain[2::3]:
        if g == current:
            length += 1
            continue
        if length:
            hist_add(hist, length)
            total += length * (length + 1) // 2
        current, length = g, 1
    if length:
        hist_add(hist, length)
        total += length * (length + 1) // 2
    return total


class ChainingMap(BaseMap):
    """Two-level chaining hash map. Options: see :class:`engine.maps.option_models.ChainingOptions`.

    >>> m = ChainingMap(capacity=4, groups=2); m[b"k"] = "v"; m[b"k"]
    'v'
    """

    kind: ClassVar[str] = "chaining"

    def __init__(self, capacity: int = 8, **options: Any) -> None:
        opts = chaining_options(capacity, options)
        super().__init__(HashSpec.create(opts.hash, opts.seed))
        self._max_load = opts.max_load_factor
        self._groups = opts.groups
        self._gbits = opts.groups.bit_length() - 1
        self._gshift = self.hash_spec.bits - self._gbits  # 0 for one group: h >> bits
        self._allocate(_power_of_two_at_least(opts.capacity))

    def _allocate(self, capacity: int) -> None:
        self._buckets: list[tuple[Any, ...] | None] = [None] * capacity
        self._mask = capacity - 1
        self._limit = self._limit_for(capacity)
        self._chain_hist: list[int] = [0]  # group chains by length
        self._chain_max = 0
        self._compare_sum = 0  # sum over chains of L(L+1)/2: comparisons to find every key

    @property
    def capacity(self) -> int:
        return self._mask + 1

    @property
    def groups(self) -> int:
        """Groups (chains) per bucket."""
        return self._groups

    @property
    def max_load_factor(self) -> float:
        return self._max_load

    @property
    def max_group_len(self) -> int:
        """Longest chain in any group. O(1)."""
        return self._chain_max

    @property
    def avg_probe(self) -> float:
        """Mean comparisons for a hit over the stored keys. O(1)."""
        return self._compare_sum / self._size if self._size else 0.0

    def _cell(self, h: int) -> int:
        """The number of the cell a hash names (``bucket * groups + group``)."""
        return ((h & self._mask) << self._gbits) | (h >> self._gshift)

    def _chain_shrank(self, length: int) -> None:
        """A chain went from ``length + 1`` to ``length`` entries. Amortised O(1)."""
        hist = self._chain_hist
        hist[length + 1] -= 1
        if length:
            hist[length] += 1
        self._compare_sum -= length + 1
        if length + 1 == self._chain_max and not hist[length + 1]:
            self._chain_max = length  # that chain is now length long, so length is the max

    # ------------------------------------------------------------------ raw (fast) path
    def _lookup(self, key: Any, h: int) -> Any:
        chain = self._buckets[h & self._mask]
        if chain is None:
            self._probes = 0
            return MISSING
        if chain[0] == key:  # the bucket's first entry is its group's first
            self._probes = 1
            return chain[1]
        j, self._probes = find_in_bucket(chain, key, h >> self._gshift)
        return MISSING if j < 0 else chain[j + 1]

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
        chain = self._buckets[h & self._mask]
        hist = self._hist_get
        if chain is None:
            p = 0
        else:
            if chain[0] == key:
                j, p = 0, 1
            else:
                j, p = find_in_bucket(chain, key, h >> self._gshift)
            if j >= 0:
                try:
                    hist[p] += 1
                except IndexError:
                    hist_add(hist, p)
                return chain[j + 1]
        try:
            hist[p] += 1
        except IndexError:
            hist_add(hist, p)
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
            chaining_rows(self, batch, on_write, guard)

    def _assign(self, key: Any, h: int, value: Any) -> bool:
        b = h & self._mask
        chain = self._buckets[b]
        if chain is None:
            self._probes = 0
        else:
            if chain[0] == key:
                j, self._probes = 0, 1
            else:
                j, self._probes = find_in_bucket(chain, key, h >> self._gshift)
            if j >= 0:
                self._buckets[b] = with_value(chain, j, value)
                return False
        self._insert_new(b, key, h, value)
        return True

    def _insert_new(self, b: int, key: Any, h: int, value: Any) -> None:
        """Add a key known to be absent, whose bucket is ``b`` at the current size: grows
        first when full. O(1) amortised."""
        if self._size >= self._limit:
            self._grow()
            b = h & self._mask
        self._append(b, key, h >> self._gshift, value)
        self._size += 1

    def _append(self, b: int, key: Any, g: int, value: Any) -> int:
        """Add an entry at the end of group ``g``'s chain in bucket ``b``, keeping the chain
        counters; returns the chain's new length. O(bucket)."""
        buckets = self._buckets
        chain = buckets[b]
        length = 1
        if chain is None:
            buckets[b] = (key, value, g)
        else:
            i = 2
            n = len(chain)
            while i < n:  # as in find_in_bucket
                gi = chain[i]
                if gi == g:
                    length += 1
                elif gi > g:  # the next group's chain starts here
                    buckets[b] = (*chain[: i - 2], key, value, g, *chain[i - 2 :])
                    break
                i += 3
            else:
                buckets[b] = (*chain, key, value, g)
        hist = self._chain_hist
        if length > 1:
            hist[length - 1] -= 1
        try:
            hist[length] += 1
        except IndexError:
            hist_add(hist, length)
        self._compare_sum += length
        if length > self._chain_max:
            self._chain_max = length
        return length

    def _insert_absent(self, key: Any, h: int, value: Any) -> None:
        if self._size >= self._limit:
            self._grow()
        self._append(h & self._mask, key, h >> self._gshift, value)
        self._size += 1

    def _discard(self, key: Any, h: int) -> bool:
        b = h & self._mask
        chain = self._buckets[b]
        if chain is None:
            self._probes = 0
            return False
        if chain[0] == key:
            j, self._probes = 0, 1
        else:
            j, self._probes = find_in_bucket(chain, key, h >> self._gshift)
        if j < 0:
            return False
        self._unlink(b, j)
        return True

    def _unlink(self, b: int, j: int) -> None:
        """Remove the entry at index ``j`` of bucket ``b``'s tuple, keeping the rest of its
        chain in order. O(bucket)."""
        chain = self._buckets[b]
        assert chain is not None
        if len(chain) == 3:
            self._buckets[b] = None
            remaining = 0
        else:
            g = chain[j + 2]
            chain = self._buckets[b] = chain[:j] + chain[j + 3 :]
            remaining = chain[2::3].count(g)
        self._chain_shrank(remaining)
        self._size -= 1

    def _grow(self) -> None:
        capacity = (self._mask + 1) * 2
        while self._limit_for(capacity) < self._size + 1:
            capacity *= 2
        self._rebuild(capacity, "load factor")

    def _limit_for(self, capacity: int) -> int:
        """Most entries ``capacity`` buckets may hold before growing."""
        return max(1, int(capacity * self._max_load))

    def _rebuild(self, capacity: int, reason: str) -> None:
        """Grow to ``capacity`` buckets in place: the bucket list is extended and each old
        bucket's entries stay or go to a new bucket with the same low bits, in order (each
        new chain is part of one old chain, so the chains are what appending every entry
        again would make). A bucket whose entries all go one way moves as one tuple; the
        counters are recounted. O(n + capacity)."""
        old_capacity = self._mask + 1
        assert capacity > old_capacity
        buckets = self._buckets
        buckets.extend(repeat(None, capacity - old_capacity))
        mask = capacity - 1
        hashfn = self._hashfn
        hist = [0]
        singles = pairs = compare_sum = 0  # chains of one and two entries, added at the end
        for b in compress(range(old_capacity), buckets):  # the non-empty old buckets
            chain: tuple[Any, ...] = buckets[b]  # type: ignore[assignment]
            n = len(chain)
            if n == 3:  # most buckets: one entry
                singles += 1
                nb = hashfn(chain[0]) & mask
                if nb != b:
                    buckets[nb] = chain
                    buckets[b] = None
                continue
            if n == 6:  # most of the others: two entries
                nb, other = hashfn(chain[0]) & mask, hashfn(chain[3]) & mask
                if nb == other:
                    if nb != b:
                        buckets[nb] = chain
                        buckets[b] = None
                    if chain[2] == chain[5]:
                        pairs += 1
                    else:
                        singles += 2
                else:
                    buckets[b] = None
                    buckets[other] = chain[3:]
                    buckets[nb] = chain[:3]
                    singles += 2
                continue
            dest = [hashfn(key) & mask for key in chain[0::3]]
            nb = dest[0]
            if dest.count(nb) == len(dest):  # all one way: the tuple moves whole
                if nb != b:
                    buckets[nb] = chain
                    buckets[b] = None
                parts: list[tuple[Any, ...]] = [chain]
            else:
                buckets[b] = None
                split: dict[int, list[Any]] = {}
                for i, nb in enumerate(dest):
                    going = split.get(nb)
                    if going is None:
                        split[nb] = list(chain[3 * i : 3 * i + 3])
                    else:
                        going.extend(chain[3 * i : 3 * i + 3])
                parts = []
                for nb, entries in split.items():
                    buckets[nb] = moved = tuple(entries)
                    parts.append(moved)
            for part in parts:
                marks = part[2::3]
                if len(set(marks)) == len(marks):  # one entry per chain
                    singles += len(marks)
                else:
                    compare_sum += _count_chains(hist, part)
        if singles:
            hist_add(hist, 1, singles)
        if pairs:
            hist_add(hist, 2, pairs)
        self._mask = mask
        self._limit = self._limit_for(capacity)
        self._chain_hist = hist
        self._compare_sum = compare_sum + singles + 3 * pairs
        self._chain_max = len(hist) - 1
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

    def reserve(self, entries: int) -> None:
        """Grow (never shrink) so ``entries`` fit under the load limit without a resize."""
        capacity = self._mask + 1
        while self._limit_for(capacity) < entries:
            capacity *= 2
        if capacity != self._mask + 1:
            self._rebuild(capacity, "reserve")

    def clear(self) -> None:
        """Remove everything and return to the smallest table. O(capacity)."""
        self._allocate(min(8, self._mask + 1))
        self._size = 0

    # ------------------------------------------------------------------ cells
    def _cell_front(self, c: int) -> int:
        """Index in its bucket's list of cell ``c``'s first entry, or -1 when the cell is
        empty. O(bucket)."""
        chain = self._buckets[c >> self._gbits]
        if chain is None:
            return -1
        groups = chain[2::3]
        g = c & (self._groups - 1)
        return 3 * groups.index(g) if g in groups else -1

    def _occupied_cells(self) -> Iterator[int]:
        """The numbers of the non-empty cells, in order. O(capacity + n)."""
        gbits = self._gbits
        for b, chain in enumerate(self._buckets):
            if chain is not None:
                for g in sorted(set(chain[2::3])):
                    yield (b << gbits) | g

    # ------------------------------------------------------------------ traced twins
    def _hash_event(self, key: Any, h: int) -> TraceEvent:
        return STEPS.HashEvent(
            table=self.kind,
            key=key,
            hash=h,
            capacity=self._mask + 1,
            index=h & self._mask,
            group=h >> self._gshift,
            groups=self._groups,
        )

    def _traced_position(self, key: Any, h: int, tr: TraceSink) -> tuple[int, int]:
        """Traced twin of the lookup: walks the key's cell, one probe and one comparison
        per entry; returns (bucket, index of the key in the bucket's list or -1) and sets
        the probe count (the hit's position in its chain is ``probes - 1``)."""
        bucket, group = h & self._mask, h >> self._gshift
        chain = self._buckets[bucket] or ()
        cell = [i for i in range(0, len(chain), 3) if chain[i + 2] == group]
        if not cell:
            tr.append(
                STEPS.ProbeEvent(
                    table=self.kind,
                    distance=0,
                    state="empty",
                    bucket=bucket,
                    group=group,
                    position=0,
                )
            )
        for j, i in enumerate(cell):
            tr.append(
                STEPS.ProbeEvent(
                    table=self.kind,
                    distance=j,
                    state="entry",
                    bucket=bucket,
                    group=group,
                    position=j,
                )
            )
            k = chain[i]
            equal = k is key or k == key
            tr.append(
                STEPS.CompareEvent(
                    table=self.kind,
                    key=key,
                    other=k,
                    equal=equal,
                    bucket=bucket,
                    group=group,
                    position=j,
                )
            )
            if equal:
                self._probes = j + 1
                return bucket, i
        self._probes = len(cell)
        return bucket, -1

    def _traced_lookup_hashed(self, key: Any, h: int, tr: TraceSink) -> Any:
        """Traced twin of :meth:`_lookup`, from the hash event on."""
        tr.append(self._hash_event(key, h))
        b, i = self._traced_position(key, h, tr)
        return MISSING if i < 0 else self._buckets[b][i + 1]  # type: ignore[index]

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
        """Traced twin of :meth:`_assign` (also used by the adaptive map)."""
        tr.append(self._hash_event(key, h))
        b, i = self._traced_position(key, h, tr)
        if i >= 0:
            self._buckets[b] = with_value(self._buckets[b], i, value)  # type: ignore[arg-type]
            tr.append(self._place_event(key, value, h, self._probes - 1, replaced=True))
            return False
        probes = self._probes
        if self._size >= self._limit:
            self._grow()
            tr.append(self._hash_event(key, h))
            b = h & self._mask
        length = self._append(b, key, h >> self._gshift, value)
        self._size += 1
        self._probes = probes
        tr.append(self._place_event(key, value, h, length - 1, replaced=False))
        return True

    def _place_event(
        self, key: Any, value: Any, h: int, position: int, replaced: bool
    ) -> TraceEvent:
        return STEPS.PlaceEvent(
            table=self.kind,
            key=key,
            value=value,
            replaced=replaced,
            bucket=h & self._mask,
            group=h >> self._gshift,
            position=position,
        )

    def _traced_discard(self, key: Any, tr: TraceSink) -> bool:
        found = self._traced_discard_hashed(key, self._hashfn(key), tr)
        tr.append(
            STEPS.ResultEvent(table=self.kind, op="del", key=key, found=found, probes=self._probes)
        )
        return found

    def _traced_discard_hashed(self, key: Any, h: int, tr: TraceSink) -> bool:
        """Traced twin of :meth:`_discard` (also used by the adaptive map)."""
        tr.append(self._hash_event(key, h))
        b, i = self._traced_position(key, h, tr)
        if i < 0:
            return False
        tr.append(
            STEPS.RemoveEvent(
                table=self.kind,
                key=key,
                bucket=b,
                group=h >> self._gshift,
                position=self._probes - 1,
            )
        )
        self._unlink(b, i)
        return True

    # ------------------------------------------------------------------ introspection
    def _iter_entries(self) -> Iterator[tuple[Any, Any]]:
        for chain in self._buckets:
            if chain is not None:
                yield from zip(chain[0::3], chain[1::3], strict=True)

    def layout(self) -> dict[str, Any]:
        """Buckets in order, each a list of ``groups`` chains of entries
        (``key``, ``value``, ``hash``). O(capacity * groups + n)."""
        groups = range(self._groups)
        hashfn = self._hashfn
        buckets: list[list[list[dict[str, Any]]]] = []
        for chain in self._buckets:
            cells: list[list[dict[str, Any]]] = [[] for _ in groups]
            if chain is not None:
                for i in range(0, len(chain), 3):
                    key = chain[i]
                    entry = {"key": encode_key(key), "value": encode_value(chain[i + 1])}
                    entry["hash"] = hashfn(key)
                    cells[chain[i + 2]].append(entry)
            buckets.append(cells)
        return {
            "kind": self.kind,
            "capacity": self._mask + 1,
            "groups": self._groups,
            "size": self._size,
            "max_load_factor": self._max_load,
            "hash": self._hash_spec.to_dict(),
            "buckets": buckets,
        }

    def _structure_stats(self, full: bool = True) -> dict[str, Any]:
        used = sum(self._chain_hist)
        return {
            "tombstones": 0,
            "tombstone_ratio": 0.0,
            "groups_per_bucket": self._groups,
            "used_groups": used,
            "max_group_len": self._chain_max,
            "max_probe_current": self._chain_max,
            "avg_probe_current": self.avg_probe,
            "group_length_histogram": hist_pairs(self._chain_hist),
            "max_load_factor": self._max_load,
        }

    def _tick_structure(self) -> dict[str, Any]:
        return {
            "tombstone_ratio": 0.0,
            "max_probe_current": self._chain_max,
            "avg_probe_current": self.avg_probe,
        }

    def check_invariants(self) -> None:
        """Raise :class:`InvariantError` naming the first broken invariant. O(capacity + n)."""
        capacity = self._mask + 1
        # read as Any: the compiled build would refuse a bucket that is not a tuple
        # itself, before this check could name it
        buckets: list[Any] = self._buckets
        if capacity & (capacity - 1) or len(buckets) != capacity:
            raise InvariantError("table-shape", f"the bucket list does not have {capacity} buckets")
        hashfn, gshift, groups = self._hashfn, self._gshift, self._groups
        seen: set[Any] = set()
        live = compare_sum = 0
        chain_hist: list[int] = [0]
        for b, chain in enumerate(buckets):
            if chain is None:
                continue
            if type(chain) is not tuple or not chain or len(chain) % 3:
                raise InvariantError("cell-shape", f"bucket {b} does not hold whole entries")
            marks = chain[2::3]
            if any(type(g) is not int or not 0 <= g < groups for g in marks) or list(
                marks
            ) != sorted(marks):
                raise InvariantError("cell-shape", f"bucket {b}: groups out of range or order")
            for i in range(0, len(chain), 3):
                key, g = chain[i], chain[i + 2]
                h = hashfn(key)  # no hash is stored: the stored group is where it sits
                if h & self._mask != b or h >> gshift != g:
                    raise InvariantError(
                        "entry-in-bucket",
                        f"{key!r} sits in bucket {b} group {g} but hashes to bucket "
                        f"{h & self._mask} group {h >> gshift}",
                    )
                if key in seen:
                    raise InvariantError("unique-keys", f"key {key!r} is stored twice")
                seen.add(key)
            live += len(marks)
            compare_sum += _count_chains(chain_hist, chain)
        if live != self._size:
            raise InvariantError("size-matches", f"{live} entries but size says {self._size}")
        if live > self._limit:
            raise InvariantError("load-limit", f"{live} entries exceed the limit {self._limit}")
        mine = list(self._chain_hist)
        for counts in (mine, chain_hist):
            while len(counts) > 1 and not counts[-1]:
                counts.pop()
        if (
            compare_sum != self._compare_sum
            or mine != chain_hist
            or self._chain_max != len(mine) - 1
        ):
            raise InvariantError("probe-counters", "chain-length counters are out of date")

    def copy(self) -> ChainingMap:
        """An independent map with the same layout, counters and hash (values shared). O(n)."""
        cls = type(self)
        clone = cls.__new__(cls)
        self._copy_base_into(clone)
        clone._max_load = self._max_load
        clone._groups = self._groups
        clone._gbits = self._gbits
        clone._gshift = self._gshift
        clone._buckets = list(self._buckets)  # the buckets are tuples: shared, never changed
        clone._mask = self._mask
        clone._limit = self._limit
        clone._chain_hist = list(self._chain_hist)
        clone._chain_max = self._chain_max
        clone._compare_sum = self._compare_sum
        return clone


own_abc_cache(ChainingMap)  # see own_abc_cache
