"""Latency sampling: every Nth operation is timed into a fixed-size reservoir.

Memory stays O(k) however long the run; percentiles come from the reservoir, which is a
uniform sample of every timed operation (Vitter's algorithm R).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import random

__all__ = ["PERCENTILES", "Reservoir"]

PERCENTILES = (0.50, 0.90, 0.99)


class Reservoir:
    """A uniform sample of at most ``k`` values. ``offer`` is O(1)."""

    __slots__ = ("_rng", "_seed", "k", "seen", "values")

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

    def offer(self, value: float) -> None:
        self.seen += 1
        if len(self.values) < self.k:
            self.values.append(value)
            return
        if self._rng is None:
            import random

            self._rng = random.Random(self._seed)
        slot = self._rng.randrange(self.seen)
        if slot < self.k:
            self.values[slot] = value

    def percentiles(self, scale: float = 1.0) -> dict[str, float]:
        """``{"p50": .., "p90": .., "p99": ..}`` (nearest rank), each value times ``scale``;
        zeros when nothing was sampled. O(k log k)."""
        if not self.values:
            return {f"p{round(p * 100)}": 0.0 for p in PERCENTILES}
        data = sorted(self.values)
        last = len(data) - 1
        return {
            f"p{round(p * 100)}": data[min(last, max(0, round(p * last)))] * scale
            for p in PERCENTILES
        }
