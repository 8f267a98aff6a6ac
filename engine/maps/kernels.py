"""Batch replay kernels: :func:`engine.maps.batch.apply_rows_generic` for one backend each,
with the row checks, the default (crc32) hash and the lookup inlined and the table kept in locals.

Each kernel applies exactly what the generic version would and keeps every counter
``get``, ``put`` and ``discard`` keep (probe histograms, misses, updates). One inlined
lookup serves every row: a get ends there, a put of a present key replaces the value
(in place for Robin Hood, in a new bucket tuple for chaining), a delete of a present
key removes that entry through the map's own removal (``_remove_slot``, ``_unlink``);
only an insertion goes through the map (``_assign``, ``_insert_absent``,
``_insert_new``), which may rebuild the table, so the kernel then reloads its locals
when the table changed (a new key array for Robin Hood, a new mask for chaining, which
grows its bucket list in place). Lookups compare keys directly: the
keys are str, bytes or int, whose equality implies equal hashes, and comparing the
stored hash first cost an extra memory access per probed slot. Rows are unpacked as
``op, key, value``; a file with its columns in another order, and a tracing map, take
the generic path. Per row O(1) expected, like the operations themselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from zlib import crc32

from engine.maps.batch import OnWrite, RowBatch, WriteGuard, apply_rows_generic
from engine.maps.hashing import crc32_hash
from engine.maps.stats import hist_add

if TYPE_CHECKING:
    from engine.maps.chaining import ChainingMap
    from engine.maps.robinhood import RobinHoodMap

__all__ = ["chaining_rows", "find_in_bucket", "robinhood_rows", "with_value"]


def find_in_bucket(chain: tuple[Any, ...], key: Any, g: int) -> tuple[int, int]:
    """Look ``key`` (of group ``g``) up in a chaining bucket's flat tuple
    (:mod:`engine.maps.chaining`): ``(index of its key in the tuple, probes)`` on a hit,
    ``(-1, length of group g's chain)`` on a miss; probes count the keys of group ``g``
    compared, as a scan of that cell alone would. The chaining map and its kernel share
    it. O(bucket)."""
    p = 0
    i = 2
    n = len(chain)
    while i < n:  # not range(): its objects cost more than the loop on short buckets
        gi = chain[i]
        if gi == g:
            p += 1
            if chain[i - 2] == key:
                return i - 2, p
        elif gi > g:  # groups are in order: g's chain is behind
            break
        i += 3
    return -1, p


def with_value(chain: tuple[Any, ...], j: int, value: Any) -> tuple[Any, ...]:
    """A chaining bucket's tuple with the value of the entry whose key is at ``j``
    replaced (the key object kept, as a ``dict`` keeps its first). The chaining map and
    its kernel share it. O(bucket); a lone entry, most updates, in one step."""
    if len(chain) == 3:
        return (chain[0], value, chain[2])
    return (*chain[: j + 1], value, *chain[j + 2 :])


def _count_gets(hist: list[int], *counts: int) -> None:
    """Add the gets the chaining kernel counted in locals to the get histogram:
    ``counts[p]`` gets that compared ``p`` keys. O(len(counts))."""
    for p, count in enumerate(counts):
        if count:
            try:
                hist[p] += count
            except IndexError:
                hist_add(hist, p, count)


def tables(m: RobinHoodMap) -> tuple[int, list[int], list[int], list[Any], list[Any]]:
    """A Robin Hood map's table as the kernel keeps it in locals: mask, DIBs, hashes,
    keys and values."""
    return m._mask, m._dibs, m._hashes, m._keys, m._vals


def robinhood_rows(
    m: RobinHoodMap, batch: RowBatch, on_write: OnWrite | None, guard: WriteGuard | None = None
) -> None:
    """The Robin Hood kernel (see the module docstring). One probe serves every
    operation: a get ends there, a put of a present key updates its value in place and a
    delete of a present key removes that slot; an insertion into the empty slot where
    the probe stopped is made inline, any other goes through the map. With ``guard``
    (instead of ``on_write``), a write crosses when ``_dib_max > guard.most``, ``_dib_sum *
    guard.mean_den > guard.mean_num * size`` or ``_tombstones > guard.slot_limit(capacity)``
    (all int comparisons), made again only when the size changed: an update or a missed
    delete moves none of those counters, an insertion or a removal always moves the size."""
    if batch.columns != (0, 1, 2):  # rare: the generic path reads any column order
        apply_rows_generic(m, batch, on_write, guard)
        return
    n = start = batch.applied
    last = batch.stop - 1
    puts = dels = get_misses = del_misses = updates = 0
    hashfn = m._hashfn
    inline = hashfn is crc32_hash
    hist_get, hist_put = m._hist_get, m._hist_put
    assign, insert_absent = m._assign, m._insert_absent
    remove, tombstone_deletes = m._remove_slot, m._tombstone_deletes
    place_from = m._place_from
    mask, dibs, hashes, keys, vals = tables(m)
    stop = 0
    guarded = guard is not None
    wrote = quiet = min_entries = most = mean = tomb_limit = 0  # the guard's, in locals
    seen = -1  # the size the guard's comparisons were last made at (-1: make them)
    crossed = False
    den = 1
    if guard is not None:
        quiet, min_entries = guard.quiet, guard.min_entries
        most, mean, den = guard.most, guard.mean_num, guard.mean_den
        tomb_limit = guard.slot_limit(mask + 1)
    crc = crc32
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
            if inline:  # crc32_hash's str branch, inlined
                try:
                    h = crc(key.encode())
                except UnicodeEncodeError:
                    h = crc(key.encode("utf-8", "surrogatepass"))
            else:
                h = hashfn(key)
            i = h & mask
            d = 0
            while dibs[i] >= d:
                if keys[i] == key:
                    break
                d += 1
                i += 1  # cheaper than (i + 1) & mask: two specialised int operations
                if i > mask:
                    i = 0
            else:  # a miss: an insertion starts where the probe stopped
                stop = i
                i = -1
            d += 1  # probes: the slots looked at
            if op == "get":
                if value:
                    batch.pending = row
                    return
                n += 1
                try:
                    hist_get[d] += 1
                except IndexError:
                    hist_add(hist_get, d)
                if i < 0:
                    get_misses += 1
                continue
            # the short delete block first: a comparison whose jump is long (past the put
            # block, an EXTENDED_ARG) is not specialised and costs a rich comparison
            if op != "put":
                if op == "del" and not value:
                    n += 1
                    dels += 1
                    if i >= 0:
                        remove(i, tombstone_deletes)
                    else:
                        del_misses += 1
                    hist = m._hist_del
                else:
                    batch.pending = row
                    return
            else:
                if "\0" in value:
                    batch.pending = row
                    return
                n += 1
                puts += 1
                if i >= 0:
                    vals[i] = value
                    updates += 1
                elif m._tombstones:  # an insertion that may take a tombstone's slot
                    assign(key, h, value)
                    if keys is not m._keys:  # rebuilt: a new table
                        mask, dibs, hashes, keys, vals = tables(m)
                        if guard is not None:
                            tomb_limit = guard.slot_limit(mask + 1)
                elif m._size >= m._limit:  # one that grows the table first
                    insert_absent(key, h, value)
                    mask, dibs, hashes, keys, vals = tables(m)
                    if guard is not None:
                        tomb_limit = guard.slot_limit(mask + 1)
                elif dibs[stop] < 0:  # most: into the empty slot the probe stopped at
                    d -= 1  # its distance from home
                    keys[stop] = key
                    vals[stop] = value
                    hashes[stop] = h
                    dibs[stop] = d
                    m._size += 1
                    m._dib_sum += d
                    if d >= m._dib_max:  # _place_from's bookkeeping of the maximum
                        if d > m._dib_max:
                            m._dib_max = d
                            m._dib_top = 1
                        else:
                            m._dib_top += 1
                    d += 1
                else:  # displacing a richer resident: from there, not from home
                    place_from(stop, d - 1, key, h, value)
                    m._size += 1
                hist = hist_put
            try:  # counted once done, as the single operations count it
                hist[d] += 1
            except IndexError:
                hist_add(hist, d)
            if guarded:
                wrote += 1
                if m._size != seen:  # an insertion or a removal: the counters moved
                    seen = m._size
                    crossed = seen >= min_entries and (
                        m._dib_max > most
                        or m._dib_sum * den > mean * seen
                        or m._tombstones > tomb_limit
                    )
                if crossed and wrote >= quiet:
                    guard.writes += wrote  # type: ignore[union-attr]
                    quiet -= wrote
                    wrote = 0
                    if guard.check():  # type: ignore[union-attr]
                        return
                    seen = -1  # the check may refresh a counter: look again
            elif on_write is not None and on_write():
                return
        batch.exhausted = True
    finally:
        if guard is not None:
            guard.writes += wrote
        m._get_misses += get_misses
        m._del_misses += del_misses
        m._updates += updates
        batch.record(n, start, puts, dels, get_misses, del_misses)


def chaining_rows(
    m: ChainingMap, batch: RowBatch, on_write: OnWrite | None, guard: WriteGuard | None = None
) -> None:
    """The chaining kernel (see the module docstring). Most buckets hold one entry, so
    the bucket's first key is compared inline (a hit there is the first of its chain) and
    a lone entry of another key settles a miss by its group; a get also handles a pair
    of entries inline, and other buckets go through :func:`find_in_bucket`. A put or
    delete then updates, unlinks or inserts from that one lookup: an insertion into an
    empty bucket that needs no growth inline (``_append``'s first case), any other
    through ``_insert_new``. With ``guard`` (instead of ``on_write``), a write crosses
    when ``_chain_max > guard.most``, ``size > guard.slot_limit(buckets)`` or
    ``_compare_sum * guard.mean_den > guard.mean_num * size`` (all int comparisons), made
    again only when the size changed (as in :func:`robinhood_rows`)."""
    if batch.columns != (0, 1, 2):  # rare: the generic path reads any column order
        apply_rows_generic(m, batch, on_write, guard)
        return
    n = start = batch.applied
    last = batch.stop - 1
    puts = dels = get_misses = del_misses = updates = 0
    hashfn = m._hashfn
    inline = hashfn is crc32_hash
    hist_get, hist_put = m._hist_get, m._hist_put
    insert_new, unlink = m._insert_new, m._unlink
    find, gshift = find_in_bucket, m._gshift
    p0 = p1 = p2 = 0  # gets that compared 0, 1 or 2 keys, added to the histogram later
    mask, buckets = m._mask, m._buckets
    guarded = guard is not None
    wrote = quiet = min_entries = most = mean = size_limit = 0  # the guard's, in locals
    seen = -1  # the size the guard's comparisons were last made at (-1: make them)
    crossed = False
    den = 1
    if guard is not None:
        quiet, min_entries = guard.quiet, guard.min_entries
        most, mean, den = guard.most, guard.mean_num, guard.mean_den
        size_limit = guard.slot_limit(mask + 1)
    crc = crc32
    try:
        for row in batch.rows:
            try:
                op, key, value = row
            except ValueError:  # a blank line, or a wrong number of columns
                if not row:
                    continue
                batch.pending = row
                return
            # Every check first, each branch short: a comparison followed by a long jump
            # (EXTENDED_ARG) is not specialised and costs a generic rich comparison.
            if op == "get":
                if value:
                    batch.pending = row
                    return
                putting = None
            elif op == "put":
                if "\0" in value:
                    batch.pending = row
                    return
                putting = True
            elif op == "del" and not value:
                putting = False
            else:
                batch.pending = row
                return
            if n >= last or not key or "\0" in key:
                batch.pending = row
                return
            n += 1
            if inline:  # crc32_hash's str branch, inlined
                try:
                    h = crc(key.encode())
                except UnicodeEncodeError:
                    h = crc(key.encode("utf-8", "surrogatepass"))
            else:
                h = hashfn(key)
            b = h & mask
            chain = buckets[b]
            if putting is None:  # a get, most rows: its own lookup, with no position kept
                if chain is None:
                    p0 += 1
                    get_misses += 1
                elif chain[0] == key:  # the bucket's first entry: first of its chain
                    p1 += 1
                elif len(chain) == 3:  # one entry, another key: a miss
                    if chain[2] == h >> gshift:
                        p1 += 1
                    else:
                        p0 += 1
                    get_misses += 1
                elif len(chain) == 6:  # two entries, the first another key
                    g = h >> gshift
                    if chain[3] == key:  # the second, after one of its group or none
                        if chain[2] == g:
                            p2 += 1
                        else:
                            p1 += 1
                    else:  # a miss: it compared the entries of its group
                        get_misses += 1
                        if chain[2] == g:
                            if chain[5] == g:
                                p2 += 1
                            else:
                                p1 += 1
                        elif chain[5] == g:
                            p1 += 1
                        else:
                            p0 += 1
                else:
                    j, p = find(chain, key, h >> gshift)
                    if j < 0:
                        get_misses += 1
                    try:
                        hist_get[p] += 1
                    except IndexError:
                        hist_add(hist_get, p)
                continue
            if chain is None:
                j = -1
                p = 0
            elif chain[0] == key:
                j = 0
                p = 1
            elif len(chain) == 3:  # one entry, another key: a miss
                j = -1
                p = 1 if chain[2] == h >> gshift else 0
            else:
                j, p = find(chain, key, h >> gshift)
            if putting:
                puts += 1
                if j >= 0:
                    buckets[b] = with_value(chain, j, value)  # type: ignore[arg-type]
                    updates += 1
                elif m._size >= m._limit:  # an insertion that grows the table first,
                    if p0 or p1 or p2:  # which logs the operation count
                        _count_gets(hist_get, p0, p1, p2)
                        p0 = p1 = p2 = 0
                    insert_new(b, key, h, value)
                    mask, buckets = m._mask, m._buckets  # grown (in place)
                    if guard is not None:
                        size_limit = guard.slot_limit(mask + 1)
                elif chain is None:  # most insertions: _append's first case, inlined
                    buckets[b] = (key, value, h >> gshift)
                    m._size += 1
                    chains = m._chain_hist
                    try:
                        chains[1] += 1
                    except IndexError:
                        hist_add(chains, 1)
                    m._compare_sum += 1
                    if not m._chain_max:
                        m._chain_max = 1
                else:
                    insert_new(b, key, h, value)
                hist = hist_put
            else:
                dels += 1
                if j >= 0:
                    unlink(b, j)
                else:
                    del_misses += 1
                hist = m._hist_del
            try:  # counted once done, as the single operations count it
                hist[p] += 1
            except IndexError:
                hist_add(hist, p)
            if guarded:
                wrote += 1
                if m._size != seen:  # an insertion or a removal: the counters moved
                    seen = m._size
                    crossed = seen >= min_entries and (
                        m._chain_max > most
                        or seen > size_limit
                        or m._compare_sum * den > mean * seen
                    )
                if crossed and wrote >= quiet:
                    guard.writes += wrote  # type: ignore[union-attr]
                    quiet -= wrote
                    wrote = 0
                    if p0 or p1 or p2:  # the check may log the operation count
                        _count_gets(hist_get, p0, p1, p2)
                        p0 = p1 = p2 = 0
                    if guard.check():  # type: ignore[union-attr]
                        return
                    seen = -1  # the check may refresh a counter: look again
            elif on_write is not None:
                if p0 or p1 or p2:  # the hook may log the operation count
                    _count_gets(hist_get, p0, p1, p2)
                    p0 = p1 = p2 = 0
                if on_write():
                    return
        batch.exhausted = True
    finally:
        if guard is not None:
            guard.writes += wrote
        _count_gets(hist_get, p0, p1, p2)
        m._get_misses += get_misses
        m._del_misses += del_misses
        m._updates += updates
        batch.record(n, start, puts, dels, get_misses, del_misses)
