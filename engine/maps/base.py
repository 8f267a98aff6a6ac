"""What the chaining and Robin Hood maps share: the public ``MutableMapping`` surface,
operation counters, probe histograms, iteration and history.

Subclasses implement a small *raw* interface that takes a precomputed hash:

``_lookup(key, h)``  value or ``MISSING``; ``_assign(key, h, value)`` True when inserted;
``_discard(key, h)`` True when removed; ``_insert_absent(key, h, value)`` for rebuilds and
migrations. Each sets ``self._probes`` to the positions it inspected. The ``_traced_*``
twins do the same work while appending events to the open trace. The raw methods are the
fast path; the traced twins are the readable textbook version; property tests keep both
in lockstep (same results, same layout).
"""

from __future__ import annotations

from abc import _abc_init  # type: ignore[attr-defined]
from collections import deque
from collections.abc import Iterator, MutableMapping
from typing import Any, ClassVar, Final

from engine.maps.batch import OnWrite, RowBatch, WriteGuard, apply_rows_generic
from engine.maps.hashing import HashFunction, HashSpec
from engine.maps.stats import (
    hist_add,
    hist_count,
    hist_max,
    hist_merge,
    hist_merged_pairs,
    hist_pairs,
    hist_sum,
)
from engine.tracing.events import TraceEvent, TraceSink

__all__ = ["HISTORY_LIMIT", "MISSING", "BaseMap"]

HISTORY_LIMIT: Final = 1000


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final[Any] = _Missing()


class BaseMap(MutableMapping[Any, Any]):
    """Common machinery; see the module docstring."""

    kind: ClassVar[str] = "base"

    def __init__(self, hash_spec: HashSpec) -> None:
        self._hash_spec = hash_spec
        self._hashfn: HashFunction = hash_spec.function()
        self._tracer: TraceSink | None = None
        self._size = 0
        self._probes = 0
        self._hist_get = [0]
        self._hist_put = [0]
        self._hist_del = [0]
        self._get_misses = 0
        self._del_misses = 0
        self._updates = 0
        self._resizes = 0
        self._compactions = 0
        self._history: deque[dict[str, Any]] = deque(maxlen=HISTORY_LIMIT)
        self._owner: BaseMap | None = None  # the adaptive map this is a backend of

    def _set_tracer(self, tracer: TraceSink | None) -> None:
        self._tracer = tracer

    def _get_tracer(self) -> TraceSink | None:
        return self._tracer

    # ------------------------------------------------------------------ raw interface
    def _lookup(self, key: Any, h: int) -> Any:
        raise NotImplementedError

    def _assign(self, key: Any, h: int, value: Any) -> bool:
        raise NotImplementedError

    def _discard(self, key: Any, h: int) -> bool:
        raise NotImplementedError

    def _insert_absent(self, key: Any, h: int, value: Any) -> None:
        raise NotImplementedError

    def _traced_lookup(self, key: Any, tr: TraceSink) -> Any:
        raise NotImplementedError

    def _traced_lookup_hashed(self, key: Any, h: int, tr: TraceSink) -> Any:
        raise NotImplementedError

    def _traced_assign_hashed(self, key: Any, h: int, value: Any, tr: TraceSink) -> bool:
        raise NotImplementedError

    def _traced_discard_hashed(self, key: Any, h: int, tr: TraceSink) -> bool:
        raise NotImplementedError

    def _traced_assign(self, key: Any, value: Any, tr: TraceSink) -> bool:
        raise NotImplementedError

    def _traced_discard(self, key: Any, tr: TraceSink) -> bool:
        raise NotImplementedError

    def _iter_entries(self) -> Iterator[tuple[Any, Any]]:
        raise NotImplementedError

    @property
    def capacity(self) -> int:
        """Slots (open addressing) or buckets (chaining)."""
        raise NotImplementedError

    def layout(self) -> dict[str, Any]:
        """A JSON-serialisable description of the physical state."""
        raise NotImplementedError

    def check_invariants(self) -> None:
        """Raise :class:`engine.InvariantError` naming the first broken invariant."""
        raise NotImplementedError

    def copy(self) -> BaseMap:
        """An independent map with the same layout and counters (values shared)."""
        raise NotImplementedError

    def _copy_base_into(self, clone: BaseMap) -> None:
        """Give ``clone`` (made by ``cls.__new__(cls)``, so without ``__init__``) this map's
        shared state: its own counter lists and history, the same hash and owner, no
        tracer. Every attribute is set by name, as the compiled build's classes have no
        ``__dict__`` to copy. O(history + longest probe)."""
        clone._hash_spec = self._hash_spec
        clone._hashfn = self._hashfn
        clone._tracer = None
        clone._size = self._size
        clone._probes = self._probes
        clone._hist_get = list(self._hist_get)
        clone._hist_put = list(self._hist_put)
        clone._hist_del = list(self._hist_del)
        clone._get_misses = self._get_misses
        clone._del_misses = self._del_misses
        clone._updates = self._updates
        clone._resizes = self._resizes
        clone._compactions = self._compactions
        clone._history = deque(self._history, maxlen=HISTORY_LIMIT)
        clone._owner = self._owner

    # ------------------------------------------------------------------ public API
    def __getitem__(self, key: Any) -> Any:
        """Look ``key`` up; KeyError when missing. Expected O(1)."""
        tr = self._tracer
        value = self._lookup(key, self._hashfn(key)) if tr is None else self._traced_lookup(key, tr)
        hist = self._hist_get
        p = self._probes
        try:
            hist[p] += 1
        except IndexError:
            hist_add(hist, p)
        if value is MISSING:
            self._get_misses += 1
            raise KeyError(key)
        return value

    def get(self, key: Any, default: Any = None) -> Any:
        """Like ``self[key]`` but returns ``default`` when missing. Expected O(1)."""
        tr = self._tracer
        value = self._lookup(key, self._hashfn(key)) if tr is None else self._traced_lookup(key, tr)
        hist = self._hist_get
        p = self._probes
        try:
            hist[p] += 1
        except IndexError:
            hist_add(hist, p)
        if value is MISSING:
            self._get_misses += 1
            return default
        return value

    def __contains__(self, key: object) -> bool:
        return self.get(key, MISSING) is not MISSING

    def __setitem__(self, key: Any, value: Any) -> None:
        """Insert or replace. Expected amortised O(1)."""
        tr = self._tracer
        if tr is None:
            inserted = self._assign(key, self._hashfn(key), value)
        else:
            inserted = self._traced_assign(key, value, tr)
        if not inserted:
            self._updates += 1
        hist = self._hist_put
        p = self._probes
        try:
            hist[p] += 1
        except IndexError:
            hist_add(hist, p)

    def discard(self, key: Any) -> bool:
        """Remove ``key`` if present; True when it was. Expected O(1)."""
        tr = self._tracer
        found = (
            self._discard(key, self._hashfn(key)) if tr is None else self._traced_discard(key, tr)
        )
        hist = self._hist_del
        p = self._probes
        try:
            hist[p] += 1
        except IndexError:
            hist_add(hist, p)
        if not found:
            self._del_misses += 1
        return found

    def __delitem__(self, key: Any) -> None:
        """Remove ``key``; KeyError when missing. Expected O(1)."""
        if not self.discard(key):
            raise KeyError(key)

    def put(self, key: Any, value: Any) -> None:
        """The same as ``self[key] = value``, as a method callers can bind once. Expected
        amortised O(1). (Its own copy of the body, not ``put = __setitem__``: the compiled
        build does not support a method alias in a class body.)"""
        tr = self._tracer
        if tr is None:
            inserted = self._assign(key, self._hashfn(key), value)
        else:
            inserted = self._traced_assign(key, value, tr)
        if not inserted:
            self._updates += 1
        hist = self._hist_put
        p = self._probes
        try:
            hist[p] += 1
        except IndexError:
            hist_add(hist, p)

    def apply_rows(
        self, batch: RowBatch, on_write: OnWrite | None = None, guard: WriteGuard | None = None
    ) -> None:
        """Apply workload rows from ``batch`` (see :mod:`engine.maps.batch`), the same as one
        ``get``, ``put`` or ``discard`` per row; ``on_write`` runs after every write and
        stops the batch when it returns True, or ``guard`` watches the writes instead.
        O(rows)."""
        apply_rows_generic(self, batch, on_write, guard)

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[Any]:
        token = self._iteration_token()
        for key, _ in self._iter_entries():
            yield key
            if self._iteration_token() != token:
                raise RuntimeError(f"{type(self).__name__} changed during iteration")

    def _iteration_token(self) -> tuple[int, ...]:
        """What may not change while iterating: the size (as for dict) and, because a
        rebuild reorders the table, the capacity."""
        return (len(self), self.capacity)

    def items(self) -> _ItemsView:  # type: ignore[override]
        """(key, value) pairs in physical order, without counting lookups."""
        return _ItemsView(self)

    def values(self) -> _ValuesView:  # type: ignore[override]
        """Values in physical order, without counting lookups."""
        return _ValuesView(self)

    def __repr__(self) -> str:
        shown = ", ".join(f"{k!r}: {v!r}" for k, v in list(self._iter_entries())[:8])
        more = ", ..." if self._size > 8 else ""
        return f"{type(self).__name__}({{{shown}{more}}})"

    @property
    def hash_spec(self) -> HashSpec:
        """The hash function name and seed (part of the map's state)."""
        return self._hash_spec

    @property
    def load_factor(self) -> float:
        """Entries per slot or bucket."""
        return self._size / self.capacity

    def compact(self) -> int:
        """Remove tombstones; returns how many were removed (0 for maps without any)."""
        return 0

    def history(self) -> list[dict[str, Any]]:
        """Structural events so far (resizes, compactions, migrations), oldest first.

        Each is the event's ``to_dict()`` plus ``"op"``: operations done when it happened.
        Keeps the last ``HISTORY_LIMIT`` events.
        """
        return list(self._history)

    def operation_count(self) -> int:
        """Operations performed so far (gets, puts and deletes). O(longest probe)."""
        return sum(self._hist_get) + sum(self._hist_put) + sum(self._hist_del)

    def _record_structural(self, event: TraceEvent) -> None:
        """Keep a structural event in the history and, when tracing, in the trace."""
        owner = self if self._owner is None else self._owner
        entry = event.to_dict()
        entry["op"] = owner.operation_count()
        owner._history.append(entry)
        if self._tracer is not None:
            self._tracer.append(event)

    def _absorb_counters(self, other: BaseMap) -> None:
        """Add ``other``'s operation counters to this map's (a retiring backend's)."""
        for mine, theirs in (
            (self._hist_get, other._hist_get),
            (self._hist_put, other._hist_put),
            (self._hist_del, other._hist_del),
        ):
            for i, c in enumerate(theirs):
                if c:
                    hist_add(mine, i, c)
        self._get_misses += other._get_misses
        self._del_misses += other._del_misses
        self._updates += other._updates
        self._resizes += other._resizes
        self._compactions += other._compactions

    def _ops_stats(self) -> dict[str, Any]:
        gets, puts, dels = self._hist_get, self._hist_put, self._hist_del
        merged = hist_merge(gets, puts, dels)
        total = hist_count(merged)
        probe_total = hist_sum(merged)
        return {
            "ops": {
                "get": hist_count(gets),
                "put": hist_count(puts),
                "del": hist_count(dels),
                "total": total,
            },
            "get_misses": self._get_misses,
            "del_misses": self._del_misses,
            "updates": self._updates,
            "probes": {
                "total": probe_total,
                "max": hist_max(merged),
                "mean": probe_total / total if total else 0.0,
                "histogram": hist_pairs(merged),
            },
        }

    def stats(self, full: bool = True) -> dict[str, Any]:
        """Counters: ops by kind, probe totals and histogram, resizes, compactions,
        tombstones, load factor, capacity and the backend's structural metrics.
        ``full=False`` leaves out what needs a pass over the table (the Robin Hood DIB
        histogram), for frequent callers such as the metrics producer."""
        out: dict[str, Any] = {
            "backend": self.kind,
            "size": self._size,
            "capacity": self.capacity,
            "load_factor": self.load_factor,
        }
        out.update(self._ops_stats())
        out["resizes"] = self._resizes
        out["compactions"] = self._compactions
        out["migrations"] = 0
        out.update(self._structure_stats(full))
        return out

    def _structure_stats(self, full: bool = True) -> dict[str, Any]:
        return {}

    def tick_stats(self) -> dict[str, Any]:
        """What a metrics tick reads of :meth:`stats`, and nothing else, for a caller that
        asks often: the same values under the same keys (``backend``, ``size``,
        ``capacity``, ``load_factor``, ``ops``, ``compactions``, ``migrations`` and the
        backend's ``tombstone_ratio``, ``max_probe_current`` and ``avg_probe_current``;
        an adaptive map adds ``active_backend``), and ``probe_histogram``, which is
        ``stats()["probes"]["histogram"]``. From the counters the map keeps: O(longest
        probe), no pass over the table (bar a Robin Hood map's occasional rescan for its
        largest DIB, as in :meth:`stats`)."""
        out: dict[str, Any] = {
            "backend": self.kind,
            "size": self._size,
            "capacity": self.capacity,
            "load_factor": self.load_factor,
        }
        out.update(tick_counters([self]))
        out["migrations"] = 0
        out.update(self._tick_structure())
        return out

    def _tick_structure(self) -> dict[str, Any]:
        """The backend's part of :meth:`tick_stats`: the probe figures of
        ``_structure_stats(full=False)``. O(1) in the maps that keep them."""
        return {}


def tick_counters(owners: list[BaseMap]) -> dict[str, Any]:
    """The counter part of :meth:`BaseMap.tick_stats`, summed over the maps whose
    counters count (a map alone, or an adaptive map and its tables): ``ops``,
    ``probe_histogram`` and ``compactions``. O(owners × longest probe)."""
    get_n = put_n = del_n = compactions = 0
    hists: list[list[int]] = []
    for owner in owners:
        gets, puts, dels = owner._hist_get, owner._hist_put, owner._hist_del
        get_n += sum(gets)
        put_n += sum(puts)
        del_n += sum(dels)
        compactions += owner._compactions
        hists.extend((gets, puts, dels))
    return {
        "ops": {"get": get_n, "put": put_n, "del": del_n, "total": get_n + put_n + del_n},
        "probe_histogram": hist_merged_pairs(hists),
        "compactions": compactions,
    }


def own_abc_cache(cls: type) -> None:
    """Give a map class its own ABC caches. Compiled by mypyc, the classes share their
    Python base's (``MutableMapping``'s), so an ``isinstance`` answer cached for one class
    is given for another (a chaining map "is" an ``AdaptiveMap``). No-op when pure."""
    if "_abc_impl" not in cls.__dict__:
        _abc_init(cls)


# BaseMap derives from MutableMapping, but the compiled build's classes do not answer
# isinstance through the ABC's subclass cache reliably: registering says it outright.
MutableMapping.register(BaseMap)
own_abc_cache(BaseMap)


class _ItemsView:
    """A live view of (key, value) pairs that reads the table directly."""

    __slots__ = ("_map",)

    def __init__(self, mapping: BaseMap) -> None:
        self._map = mapping

    def __len__(self) -> int:
        return len(self._map)

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        m = self._map
        token = m._iteration_token()
        for pair in m._iter_entries():
            yield pair
            if m._iteration_token() != token:
                raise RuntimeError(f"{type(m).__name__} changed during iteration")

    def __contains__(self, item: object) -> bool:
        if not isinstance(item, tuple) or len(item) != 2:
            return False
        value = self._map.get(item[0], MISSING)
        return value is not MISSING and (value is item[1] or value == item[1])

    def __repr__(self) -> str:
        return f"items({list(self)!r})"


class _ValuesView:
    """A live view of the values in physical order."""

    __slots__ = ("_map",)

    def __init__(self, mapping: BaseMap) -> None:
        self._map = mapping

    def __len__(self) -> int:
        return len(self._map)

    def __iter__(self) -> Iterator[Any]:
        for _, value in _ItemsView(self._map):
            yield value

    def __contains__(self, item: object) -> bool:
        return any(v is item or v == item for v in self)

    def __repr__(self) -> str:
        return f"values({list(self)!r})"
