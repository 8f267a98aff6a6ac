"""Batch replay kernels: :func:`engine.batch.apply_rows_generic` for one backend each,
with the row checks, the fast hash and the lookup inlined and the table kept in locals.

Each kernel applies exactly what the generic version would, through the same raw
methods for writes (``_assign``, ``_discard``), and keeps every counter ``get``, ``put``
and ``discard`` keep (probe histograms, misses, updates). Lookups are inlined in full:
they are most of a typical workload. After a write the table may have been rebuilt, so
the kernel reloads its locals when the key array is a new list. Rows are unpacked as
``op, key, value``; a file with its columns in another order, and a tracing map, take
the generic path. Per row O(1) expected, like the operations themselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from zlib import crc32

from engine.batch import OnWrite, RowBatch, apply_rows_generic
from engine.hashing import _MIX32, _SPREAD, MASK64, fast_hash
from engine.stats import hist_add

if TYPE_CHECKING:
    from engine.chaining import ChainingMap
    from engine.robinhood import RobinHoodMap

__all__ = ["chaining_rows", "robinhood_rows"]


def robinhood_rows(m: RobinHoodMap, batch: RowBatch, on_write: OnWrite | None) -> None:
    """The Robin Hood kernel (see the module docstring)."""
    if batch.columns != (0, 1, 2):  # rare: the generic path reads any column order
        apply_rows_generic(m, batch, on_write)
        return
    n = start = batch.applied
    last = batch.stop - 1
    puts = dels = get_misses = del_misses = updates = 0
    hashfn = m._hashfn
    fast = hashfn is fast_hash
    hist_get, hist_put, hist_del = m._hist_get, m._hist_put, m._hist_del
    assign, discard = m._assign, m._discard
    mask, dibs, hashes, keys = m._mask, m._dibs, m._hashes, m._keys
    crc, mix, spread, mask64 = crc32, _MIX32, _SPREAD, MASK64
    try:
        for row in batch.rows:
            try:
                op, key, value = row
            except ValueError:  # a blank line, or a wrong number of columns
                if not row:
                    continue
                batch.pending = row
                return
            if n >= last:
                batch.pending = row
                return
            if not key or "\0" in key:
                batch.pending = row
                return
            if fast:  # fast_hash's str branch, inlined
                try:
                    x = (crc(key.encode()) * mix) & 0xFFFFFFFF
                except UnicodeEncodeError:
                    x = (crc(key.encode("utf-8", "surrogatepass")) * mix) & 0xFFFFFFFF
                h = ((x ^ (x >> 16)) * spread) & mask64
            else:
                h = hashfn(key)
            if op == "get":
                if value:
                    batch.pending = row
                    return
                n += 1
                i = h & mask
                d = 0
                while dibs[i] >= d:
                    if hashes[i] == h:
                        k = keys[i]
                        if k is key or k == key:
                            break
                    d += 1
                    i = (i + 1) & mask
                else:
                    get_misses += 1
                d += 1
                try:
                    hist_get[d] += 1
                except IndexError:
                    hist_add(hist_get, d)
                continue
            if op == "put":
                if "\0" in value:
                    batch.pending = row
                    return
                n += 1
                puts += 1
                if not assign(key, h, value):
                    updates += 1
                hist = hist_put
            elif op == "del" and not value:
                n += 1
                dels += 1
                if not discard(key, h):
                    del_misses += 1
                hist = hist_del
            else:
                batch.pending = row
                return
            p = m._probes
            try:
                hist[p] += 1
            except IndexError:
                hist_add(hist, p)
            if keys is not m._keys:  # rebuilt: a new table
                mask, dibs, hashes, keys = m._mask, m._dibs, m._hashes, m._keys
            if on_write is not None and on_write():
                return
        batch.exhausted = True
    finally:
        m._get_misses += get_misses
        m._del_misses += del_misses
        m._updates += updates
        batch.record(n, start, puts, dels, get_misses, del_misses)


def chaining_rows(m: ChainingMap, batch: RowBatch, on_write: OnWrite | None) -> None:
    """The chaining kernel (see the module docstring)."""
    if batch.columns != (0, 1, 2):  # rare: the generic path reads any column order
        apply_rows_generic(m, batch, on_write)
        return
    n = start = batch.applied
    last = batch.stop - 1
    puts = dels = get_misses = del_misses = updates = 0
    hashfn = m._hashfn
    fast = hashfn is fast_hash
    hist_get, hist_put, hist_del = m._hist_get, m._hist_put, m._hist_del
    assign, discard = m._assign, m._discard
    gbits, gshift = m._gbits, m._gshift
    mask, ckeys = m._mask, m._ckeys
    crc, mix, spread, mask64 = crc32, _MIX32, _SPREAD, MASK64
    try:
        for row in batch.rows:
            try:
                op, key, value = row
            except ValueError:  # a blank line, or a wrong number of columns
                if not row:
                    continue
                batch.pending = row
                return
            if n >= last:
                batch.pending = row
                return
            if not key or "\0" in key:
                batch.pending = row
                return
            if fast:  # fast_hash's str branch, inlined
                try:
                    x = (crc(key.encode()) * mix) & 0xFFFFFFFF
                except UnicodeEncodeError:
                    x = (crc(key.encode("utf-8", "surrogatepass")) * mix) & 0xFFFFFFFF
                h = ((x ^ (x >> 16)) * spread) & mask64
            else:
                h = hashfn(key)
            if op == "get":
                if value:
                    batch.pending = row
                    return
                n += 1
                chain = ckeys[((h & mask) << gbits) | (h >> gshift)]
                if chain is None:
                    p = 0
                    get_misses += 1
                elif chain[0] == key:  # most chains hold one entry
                    p = 1
                elif key in chain:
                    p = chain.index(key) + 1
                else:
                    p = len(chain)
                    get_misses += 1
                try:
                    hist_get[p] += 1
                except IndexError:
                    hist_add(hist_get, p)
                continue
            if op == "put":
                if "\0" in value:
                    batch.pending = row
                    return
                n += 1
                puts += 1
                if not assign(key, h, value):
                    updates += 1
                hist = hist_put
            elif op == "del" and not value:
                n += 1
                dels += 1
                if not discard(key, h):
                    del_misses += 1
                hist = hist_del
            else:
                batch.pending = row
                return
            p = m._probes
            try:
                hist[p] += 1
            except IndexError:
                hist_add(hist, p)
            if ckeys is not m._ckeys:  # rebuilt: a new table
                mask, ckeys = m._mask, m._ckeys
            if on_write is not None and on_write():
                return
        batch.exhausted = True
    finally:
        m._get_misses += get_misses
        m._del_misses += del_misses
        m._updates += updates
        batch.record(n, start, puts, dels, get_misses, del_misses)
