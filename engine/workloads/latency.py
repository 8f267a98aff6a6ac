"""Latency sampling: every Nth operation is timed into a fixed-size reservoir.

Memory stays O(k) however long the run; percentiles come from the reservoir, which is a
uniform sample of every timed operation (Vitter's algorithm R).

Percentiles are asked for often (the metrics producer asks four reservoirs at every
tick) while few values change between two asks, so once asked a reservoir keeps its
values sorted and brings that copy up to date with only the values that came and went
since (:meth:`Reservoir.sorted_values`). The answer is the list ``sorted(values)`` gives,
which ``tests/test_latency_reservoir.py`` holds it to.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from math import copysign, isnan
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import random

__all__ = ["PERCENTILES", "Reservoir"]

PERCENTILES = (0.50, 0.90, 0.99)
_NAMES = tuple(f"p{round(p * 100)}" for p in PERCENTILES)


class Reservoir:
    """A uniform sample of at most ``k`` values. ``offer`` is O(1).

    ``values`` is the sample in slot order: read it, do not change it (the sorted copy
    follows the changes :meth:`offer` makes)."""

    __slots__ = ("_added", "_removed", "_rng", "_seed", "_sorted", "k", "seen", "values")

    def __init__(self, k: int, seed: int = 0) -> None:
        if k < 1:
            raise ValueError("reservoir size must be at least 1")
        self.k = k
        self.values: list[float] = []
        self.seen = 0
        self._seed = seed
        # made when the reservoir first overflows (random loads then: a short run that
        # never fills its reservoir does not import it); the same draws either way
        self._rng: random.Random | None = None
        # The values sorted as of the last sorted_values() (None: not kept), and what
        # came into and went out of the sample since, in no particular order. At most
        # k values each: past that the copy is dropped and the next call sorts afresh.
        self._sorted: list[float] | None = None
        self._added: list[float] = []
        self._removed: list[float] = []

    def offer(self, value: float) -> None:
        self.seen += 1
        values = self.values
        if len(values) < self.k:
            values.append(value)
            if self._sorted is not None:
                self._added.append(value)
            return
        if self._rng is None:
            import random

            self._rng = random.Random(self._seed)
        slot = self._rng.randrange(self.seen)
        if slot < self.k:
            if self._sorted is not None:
                removed = self._removed
                if len(removed) < self.k:
                    removed.append(values[slot])
                    self._added.append(value)
                else:
                    self._forget()
            values[slot] = value

    def _forget(self) -> None:
        self._sorted = None
        self._added = []
        self._removed = []

    def sorted_values(self) -> list[float]:
        """The values in ascending order: the list ``sorted(self.values)`` gives. Do not
        change it; the next call after an :meth:`offer` may change it in place.

        O(k + c log c) for the c values that changed since the previous call: timsort
        merges them into the sorted run, and each value that left is found by bisection.
        A full sort, O(k log k), on the first call, after more than k/4 changes, and
        while the sample holds a NaN or a -0.0 (there equal floats can differ, or the
        order depends on the slots, so only ``sorted`` itself gives its answer)."""
        data = self._sorted
        added = self._added
        if data is not None and not added:
            return data
        if data is None or len(added) > self.k // 4 or not _plain(added):
            data = sorted(self.values)
            keep = _plain_sorted(data)
        else:
            data += added
            data.sort()
            for gone in self._removed:  # in data: it was in the sample or came since
                del data[bisect_left(data, gone)]
            keep = True
        self._sorted = data if keep else None
        self._added = []
        self._removed = []
        return data

    def percentiles(self, scale: float = 1.0) -> dict[str, float]:
        """``{"p50": .., "p90": .., "p99": ..}`` (nearest rank), each value times ``scale``;
        zeros when nothing was sampled. Costs one :meth:`sorted_values`."""
        if not self.values:
            return dict.fromkeys(_NAMES, 0.0)
        data = self.sorted_values()
        last = len(data) - 1
        return {
            name: data[min(last, max(0, round(p * last)))] * scale
            for name, p in zip(_NAMES, PERCENTILES, strict=True)
        }


def _plain(values: list[float]) -> bool:
    """Whether ``values`` hold no NaN and no -0.0. O(len(values))."""
    return not any(v != v or (v == 0.0 and copysign(1.0, v) < 0.0) for v in values)


def _plain_sorted(data: list[float]) -> bool:
    """:func:`_plain` for a sorted list: a pass in C for NaNs, then the zeros only."""
    if any(map(isnan, data)):
        return False
    low = bisect_left(data, 0.0)
    return _plain(data[low : bisect_right(data, 0.0, low)])
