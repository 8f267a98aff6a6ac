"""How long the GUI's event loop stalled: lateness of a heartbeat timer, summarised.

A timer due every ``interval_ms`` that fires ``d`` ms after the previous firing was
stalled ``d - interval_ms``. The summary keeps a fixed-size histogram (1 ms bins up to
1 s, one overflow bin), so it costs O(1) memory however long the run. Qt-free; the timer
lives in :mod:`explorer.ui.stall_meter`.
"""

from __future__ import annotations

__all__ = ["StallStats"]

_BINS = 1001  # 0..999 ms, then >= 1 s


class StallStats:
    def __init__(self) -> None:
        self.counts = [0] * _BINS
        self.samples = 0
        self.max_ms = 0.0

    def record(self, stall_ms: float) -> None:
        stall_ms = max(0.0, stall_ms)
        self.samples += 1
        self.max_ms = max(self.max_ms, stall_ms)
        self.counts[min(_BINS - 1, int(stall_ms))] += 1

    def percentile(self, fraction: float) -> float:
        """The stall that ``fraction`` of the beats stayed within (1 ms resolution)."""
        if not self.samples:
            return 0.0
        target = fraction * self.samples
        seen = 0
        for ms, count in enumerate(self.counts):
            seen += count
            if seen >= target:
                return float(min(ms + 1, self.max_ms) if ms < _BINS - 1 else self.max_ms)
        return self.max_ms

    def summary(self) -> dict[str, float | int]:
        return {
            "max_ms": round(self.max_ms, 2),
            "p99_ms": round(self.percentile(0.99), 2),
            "beats": self.samples,
        }
