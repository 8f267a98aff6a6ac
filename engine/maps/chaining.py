"""Two-level separate chaining.

The table has ``capacity`` buckets (a power of two), chosen by the hash's low bits. Each
bucket is split into ``groups`` small chains (a power of two), chosen by the hash's top
bits (of its 32 or 64, :attr:`engine.maps.hashing.HashSpec.bits`): a second hash, separate
from the bucket's bits in any table of up to ``2**(bits - log2(groups))`` buckets. Keys
that collide in the low bits, on purpose or by bad luck, still spread over the groups of
their bucket, so chains stay short unless keys collide in both. A lookup computes
``cell = bucket * groups + group`` and scans that one chain.

Storage is three flat lists of length ``capacity * groups``: per cell a list of keys, of
values and of hashes, or ``None`` while the cell is empty. Expected costs at load factor
a (entries per bucket): a hit compares about 1 + a / (2 * groups) keys, a miss
a / groups; insert amortised O(1); growth doubles the buckets and re-links every entry:
O(n) at once, amortised O(1).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar
from zlib import crc32

from engine.errors import InvariantError
from engine.jsonsafe import encode_key, encode_value
from engine.maps.base import MISSING, BaseMap
from engine.maps.batch import OnWrite, RowBatch
from engine.maps.hashing import HashSpec, crc32_hash
from engine.maps.kernels import chaining_rows
from engine.maps.options import chaining_options
from engine.maps.robinhood import _power_of_two_at_least
from engine.maps.stats import hist_add, hist_pairs
from engine.tracing.events import (
    CompareEvent,
    HashEvent,
    PlaceEvent,
    ProbeEvent,
    RemoveEvent,
    ResizeEvent,
    ResultEvent,
    TraceEvent,
)

__all__ = ["ChainingMap"]


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
        cells = capacity * self._groups
        self._ckeys: list[list[Any] | None] = [None] * cells
        self._cvals: list[list[Any] | None] = [None] * cells
        self._chashes: list[list[int] | None] = [None] * cells
        self._mask = capacity - 1
        self._limit = self._limit_for(capacity)
        self._chain_hist: list[int] = [0]  # groups by chain length
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
        c = ((h & self._mask) << self._gbits) | (h >> self._gshift)
        chain = self._ckeys[c]
        if chain is None:
            self._probes = 0
            return MISSING
        if key in chain:  # a C-speed scan; index() then finds the position
            j = chain.index(key)
            self._probes = j + 1
            return self._cvals[c][j]  # type: ignore[index]
        self._probes = len(chain)
        return MISSING

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
        c = ((h & self._mask) << self._gbits) | (h >> self._gshift)
        chain = self._ckeys[c]
        hist = self._hist_get
        if chain is not None and key in chain:
            j = chain.index(key)
            try:
                hist[j + 1] += 1
            except IndexError:
                hist_add(hist, j + 1)
            return self._cvals[c][j]  # type: ignore[index]
        probes = 0 if chain is None else len(chain)
        try:
            hist[probes] += 1
        except IndexError:
            hist_add(hist, probes)
        self._get_misses += 1
        return default

    def _position(self, key: Any, c: int) -> int:
        """Index of ``key`` in cell ``c``'s chain or -1; sets the probe count."""
        chain = self._ckeys[c]
        if chain is None:
            self._probes = 0
            return -1
        if key in chain:
            j = chain.index(key)
            self._probes = j + 1
            return j
        self._probes = len(chain)
        return -1

    def apply_rows(self, batch: RowBatch, on_write: OnWrite | None = None) -> None:
        """Apply workload rows (:mod:`engine.maps.batch`) with the inlined kernel of
        :mod:`engine.maps.kernels`; the generic per-operation path while tracing. O(rows)."""
        if self._tracer is not None:
            BaseMap.apply_rows(self, batch, on_write)
        else:
            chaining_rows(self, batch, on_write)

    def _assign(self, key: Any, h: int, value: Any) -> bool:
        c = ((h & self._mask) << self._gbits) | (h >> self._gshift)
        chain = self._ckeys[c]
        if chain is not None:
            if key in chain:
                j = chain.index(key)
                self._probes = j + 1
                self._cvals[c][j] = value  # type: ignore[index]
                return False
            self._probes = len(chain)
        else:
            self._probes = 0
        self._insert_new(c, key, h, value)
        return True

    def _insert_new(self, c: int, key: Any, h: int, value: Any) -> None:
        """Add a key known to be absent, whose cell is ``c`` at the current size: grows
        first when full. O(1) amortised."""
        if self._size >= self._limit:
            self._grow()
            c = ((h & self._mask) << self._gbits) | (h >> self._gshift)
        self._append(c, key, h, value)
        self._size += 1

    def _append(self, c: int, key: Any, h: int, value: Any) -> None:
        """Add an entry at the end of cell ``c``'s chain, keeping the chain counters. O(1)."""
        chain = self._ckeys[c]
        if chain is None:
            self._ckeys[c] = [key]
            self._cvals[c] = [value]
            self._chashes[c] = [h]
            length = 1
        else:
            chain.append(key)
            self._cvals[c].append(value)  # type: ignore[union-attr]
            self._chashes[c].append(h)  # type: ignore[union-attr]
            length = len(chain)
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

    def _insert_absent(self, key: Any, h: int, value: Any) -> None:
        if self._size >= self._limit:
            self._grow()
        self._append(((h & self._mask) << self._gbits) | (h >> self._gshift), key, h, value)
        self._size += 1

    def _discard(self, key: Any, h: int) -> bool:
        c = ((h & self._mask) << self._gbits) | (h >> self._gshift)
        j = self._position(key, c)
        if j < 0:
            return False
        self._unlink(c, j)
        return True

    def _unlink(self, c: int, j: int) -> None:
        """Remove entry ``j`` of cell ``c``, keeping the rest of the chain in order."""
        chain = self._ckeys[c]
        assert chain is not None
        remaining = len(chain) - 1
        if remaining:
            del chain[j]
            del self._cvals[c][j]  # type: ignore[union-attr]
            del self._chashes[c][j]  # type: ignore[union-attr]
        else:
            self._ckeys[c] = self._cvals[c] = self._chashes[c] = None
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
        """Re-link every entry into ``capacity`` buckets, cell by cell, as :meth:`_append`
        would (the same chains and counters), with the table in locals. O(n + cells)."""
        old_capacity = self._mask + 1
        old = (self._ckeys, self._cvals, self._chashes)
        self._allocate(capacity)
        ckeys, cvals, chashes = self._ckeys, self._cvals, self._chashes
        mask, gbits, gshift = self._mask, self._gbits, self._gshift
        hist = self._chain_hist
        compare_sum = 0
        for keys, vals, hashes in zip(*old, strict=True):
            if keys is None:
                continue
            assert vals is not None and hashes is not None
            for key, value, h in zip(keys, vals, hashes, strict=True):
                c = ((h & mask) << gbits) | (h >> gshift)
                chain = ckeys[c]
                if chain is None:
                    ckeys[c], cvals[c], chashes[c] = [key], [value], [h]
                    length = 1
                else:
                    chain.append(key)
                    cvals[c].append(value)  # type: ignore[union-attr]
                    chashes[c].append(h)  # type: ignore[union-attr]
                    length = len(chain)
                    hist[length - 1] -= 1
                try:
                    hist[length] += 1
                except IndexError:
                    hist_add(hist, length)
                compare_sum += length
        self._compare_sum = compare_sum
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
        """Remove everything and return to the smallest table. O(cells)."""
        self._allocate(min(8, self._mask + 1))
        self._size = 0

    # ------------------------------------------------------------------ traced twins
    def _hash_event(self, key: Any, h: int) -> HashEvent:
        return HashEvent(
            table=self.kind,
            key=key,
            hash=h,
            capacity=self._mask + 1,
            index=h & self._mask,
            group=h >> self._gshift,
            groups=self._groups,
        )

    def _traced_position(self, key: Any, h: int, tr: list[TraceEvent]) -> tuple[int, int]:
        """Traced twin of :meth:`_position`; returns (cell, index or -1)."""
        c = self._cell(h)
        bucket, group = h & self._mask, h >> self._gshift
        chain = self._ckeys[c] or []
        if not chain:
            tr.append(
                ProbeEvent(
                    table=self.kind,
                    distance=0,
                    state="empty",
                    bucket=bucket,
                    group=group,
                    position=0,
                )
            )
        for j, k in enumerate(chain):
            tr.append(
                ProbeEvent(
                    table=self.kind,
                    distance=j,
                    state="entry",
                    bucket=bucket,
                    group=group,
                    position=j,
                )
            )
            equal = k is key or k == key
            tr.append(
                CompareEvent(
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
                return c, j
        self._probes = len(chain)
        return c, -1

    def _traced_lookup_hashed(self, key: Any, h: int, tr: list[TraceEvent]) -> Any:
        """Traced twin of :meth:`_lookup`, from the hash event on."""
        tr.append(self._hash_event(key, h))
        c, j = self._traced_position(key, h, tr)
        return MISSING if j < 0 else self._cvals[c][j]  # type: ignore[index]

    def _traced_lookup(self, key: Any, tr: list[TraceEvent]) -> Any:
        value = self._traced_lookup_hashed(key, self._hashfn(key), tr)
        found = value is not MISSING
        tr.append(
            ResultEvent(
                table=self.kind,
                op="get",
                key=key,
                found=found,
                probes=self._probes,
                value=value if found else None,
            )
        )
        return value

    def _traced_assign(self, key: Any, value: Any, tr: list[TraceEvent]) -> bool:
        inserted = self._traced_assign_hashed(key, self._hashfn(key), value, tr)
        tr.append(
            ResultEvent(table=self.kind, op="put", key=key, found=not inserted, probes=self._probes)
        )
        return inserted

    def _traced_assign_hashed(self, key: Any, h: int, value: Any, tr: list[TraceEvent]) -> bool:
        """Traced twin of :meth:`_assign` (also used by the adaptive map)."""
        tr.append(self._hash_event(key, h))
        c, j = self._traced_position(key, h, tr)
        if j >= 0:
            self._cvals[c][j] = value  # type: ignore[index]
            tr.append(self._place_event(key, value, h, j, replaced=True))
            return False
        probes = self._probes
        if self._size >= self._limit:
            self._grow()
            tr.append(self._hash_event(key, h))
            c = self._cell(h)
        position = len(self._ckeys[c] or ())
        self._append(c, key, h, value)
        self._size += 1
        self._probes = probes
        tr.append(self._place_event(key, value, h, position, replaced=False))
        return True

    def _place_event(
        self, key: Any, value: Any, h: int, position: int, replaced: bool
    ) -> PlaceEvent:
        return PlaceEvent(
            table=self.kind,
            key=key,
            value=value,
            replaced=replaced,
            bucket=h & self._mask,
            group=h >> self._gshift,
            position=position,
        )

    def _traced_discard(self, key: Any, tr: list[TraceEvent]) -> bool:
        found = self._traced_discard_hashed(key, self._hashfn(key), tr)
        tr.append(ResultEvent(table=self.kind, op="del", key=key, found=found, probes=self._probes))
        return found

    def _traced_discard_hashed(self, key: Any, h: int, tr: list[TraceEvent]) -> bool:
        """Traced twin of :meth:`_discard` (also used by the adaptive map)."""
        tr.append(self._hash_event(key, h))
        c, j = self._traced_position(key, h, tr)
        if j < 0:
            return False
        tr.append(
            RemoveEvent(
                table=self.kind,
                key=key,
                bucket=h & self._mask,
                group=h >> self._gshift,
                position=j,
            )
        )
        self._unlink(c, j)
        return True

    # ------------------------------------------------------------------ introspection
    def _iter_entries(self) -> Iterator[tuple[Any, Any]]:
        for keys, vals in zip(self._ckeys, self._cvals, strict=True):
            if keys is not None:
                yield from zip(keys, vals, strict=True)  # type: ignore[arg-type]

    def layout(self) -> dict[str, Any]:
        """Buckets in order, each a list of ``groups`` chains of entries
        (``key``, ``value``, ``hash``). O(capacity * groups + n)."""
        g = self._groups
        cvals, chashes = self._cvals, self._chashes
        # One pass over the cells (most are empty), then slice them into buckets.
        cells: list[list[dict[str, Any]]] = [
            []
            if keys is None
            else [
                {"key": encode_key(k), "value": encode_value(v), "hash": h}
                for k, v, h in zip(keys, cvals[c], chashes[c], strict=True)  # type: ignore[arg-type]
            ]
            for c, keys in enumerate(self._ckeys)
        ]
        buckets = [cells[start : start + g] for start in range(0, len(cells), g)]
        return {
            "kind": self.kind,
            "capacity": self._mask + 1,
            "groups": g,
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

    def check_invariants(self) -> None:
        """Raise :class:`InvariantError` naming the first broken invariant. O(cells + n)."""
        capacity = self._mask + 1
        cells = capacity * self._groups
        if capacity & (capacity - 1) or not (
            len(self._ckeys) == len(self._cvals) == len(self._chashes) == cells
        ):
            raise InvariantError("table-shape", f"cell arrays do not all have {cells} cells")
        seen: set[Any] = set()
        live = compare_sum = 0
        chain_hist: list[int] = [0]
        for c in range(cells):
            keys, vals, hashes = self._ckeys[c], self._cvals[c], self._chashes[c]
            if keys is None:
                if vals is not None or hashes is not None:
                    raise InvariantError("cell-shape", f"cell {c} is half empty")
                continue
            if vals is None or hashes is None or not (len(keys) == len(vals) == len(hashes)):
                raise InvariantError("cell-shape", f"cell {c} has lists of different lengths")
            if not keys:
                raise InvariantError("cell-shape", f"cell {c} holds an empty chain")
            for j, (key, h) in enumerate(zip(keys, hashes, strict=True)):
                if self._hashfn(key) != h:
                    raise InvariantError(
                        "hash-matches-key", f"cell {c}[{j}]: stale hash for {key!r}"
                    )
                if self._cell(h) != c:
                    raise InvariantError(
                        "entry-in-bucket",
                        f"{key!r} sits in bucket {c >> self._gbits} group "
                        f"{c & (self._groups - 1)} but hashes to bucket {h & self._mask} "
                        f"group {h >> self._gshift}",
                    )
                if key in seen:
                    raise InvariantError("unique-keys", f"key {key!r} is stored twice")
                seen.add(key)
            live += len(keys)
            compare_sum += len(keys) * (len(keys) + 1) // 2
            hist_add(chain_hist, len(keys))
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
        clone = object.__new__(ChainingMap)
        clone.__dict__.update(self.__dict__)
        for name in ("_ckeys", "_cvals", "_chashes"):
            cells = getattr(self, name)
            setattr(clone, name, [None if cell is None else list(cell) for cell in cells])
        for name in ("_chain_hist", "_hist_get", "_hist_put", "_hist_del"):
            setattr(clone, name, list(getattr(self, name)))
        clone._history = type(self._history)(self._history, maxlen=self._history.maxlen)
        clone._tracer = None
        return clone
