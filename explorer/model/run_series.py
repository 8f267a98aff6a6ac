"""The chart data of a run, from its ``metrics.v1`` ticks, in bounded memory.

Each tick adds one point to every series: throughput (operations per second since the
previous tick), latency p50/p90/p99 per operation type (microseconds), load factor,
longest probe or group chain, tombstone ratio. Structural events (resizes, migration
start and end, compactions, guardrail alerts) become markers at the operation they
happened at. Past ``max_points`` points, every other point is dropped (the series keep
their whole span at half the resolution), so a 10M-operation run costs the same memory
as a short one: O(max_points) points and O(max_markers) markers.

Qt-free; the Run view's charts draw it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["MARKER_KINDS", "Marker", "RunSeries"]

#: event type in a tick -> how the charts name it
MARKER_KINDS = {
    "resize": "resize",
    "migration_start": "migration start",
    "migration_end": "migration end",
    "compact": "compaction",
    "guardrail": "guardrail alert",
}
_LATENCY_OPS = ("overall", "put", "get", "del")
_PERCENTILES = ("p50", "p90", "p99")


@dataclass(frozen=True)
class Marker:
    """A structural event. ``op`` operations had completed when it happened, so the
    operation that caused it is number ``op + 1`` (1-based): the jump-in point."""

    op: int
    kind: str  # a value of MARKER_KINDS
    text: str


@dataclass
class RunSeries:
    """Points per tick; ``ops`` is the x axis of every series."""

    label: str = "run"
    max_points: int = 4000
    max_markers: int = 2000
    ops: list[float] = field(default_factory=list)
    throughput: list[float] = field(default_factory=list)
    load_factor: list[float] = field(default_factory=list)
    max_probe: list[float] = field(default_factory=list)
    tombstone_ratio: list[float] = field(default_factory=list)
    latency_us: dict[str, list[float]] = field(
        default_factory=lambda: {f"{o}.{p}": [] for o in _LATENCY_OPS for p in _PERCENTILES}
    )
    markers: list[Marker] = field(default_factory=list)
    markers_dropped: int = 0
    probe_hist: list[list[int]] = field(default_factory=list)
    backend: str = ""
    last: dict[str, Any] | None = None
    ticks_seen: int = 0

    def add(self, ticks: list[dict[str, Any]]) -> None:
        """Fold new ticks in. O(len(ticks)) amortised."""
        for tick in ticks:
            self._add(tick)
        if len(self.ops) > self.max_points:
            self._halve()

    def _add(self, tick: dict[str, Any]) -> None:
        previous = self.last
        ops = float(tick["ops"])
        if previous is not None and ops == float(previous["ops"]):
            self._note(tick, ops)  # the final tick repeats the count: no new point
            return
        rate = 0.0
        if previous is not None:
            dt = float(tick["t"]) - float(previous["t"])
            rate = (ops - float(previous["ops"])) / dt if dt > 0 else 0.0
        elif float(tick["t"]) > 0:
            rate = ops / float(tick["t"])
        self.ops.append(ops)
        self.throughput.append(rate)
        self.load_factor.append(float(tick.get("load_factor", 0.0)))
        self.max_probe.append(float(tick.get("max_probe", 0)))
        self.tombstone_ratio.append(float(tick.get("tombstone_ratio", 0.0)))
        latency = tick.get("latency_ns", {})
        for name, values in self.latency_us.items():
            op, pct = name.split(".")
            values.append(float(latency.get(op, {}).get(pct, 0.0)) / 1000.0)
        self._note(tick, ops)

    def _note(self, tick: dict[str, Any], ops: float) -> None:
        """A tick's markers, histogram and backend."""
        for event in tick.get("events", []):
            kind = MARKER_KINDS.get(str(event.get("type")))
            if kind is None:
                continue
            if len(self.markers) >= self.max_markers:
                self.markers_dropped += 1
                continue
            self.markers.append(Marker(int(event.get("op", ops)), kind, _describe(kind, event)))
        self.probe_hist = [list(pair) for pair in tick.get("probe_hist", [])]
        self.backend = str(tick.get("backend", ""))
        self.last = tick
        self.ticks_seen += 1

    def _halve(self) -> None:
        """Drop every other point (the last one stays). O(points)."""
        keep = slice(None, None, 2)
        tail = len(self.ops) - 1

        def thin(values: list[float]) -> list[float]:
            kept = values[keep]
            if tail % 2:
                kept.append(values[tail])
            return kept

        self.ops = thin(self.ops)
        self.throughput = thin(self.throughput)
        self.load_factor = thin(self.load_factor)
        self.max_probe = thin(self.max_probe)
        self.tombstone_ratio = thin(self.tombstone_ratio)
        self.latency_us = {name: thin(values) for name, values in self.latency_us.items()}

    def marker_near(self, op: float, within: float) -> Marker | None:
        """The marker closest to ``op``, if one lies within ``within`` operations."""
        best = min(self.markers, key=lambda m: abs(m.op - op), default=None)
        if best is None or abs(best.op - op) > within:
            return None
        return best

    def value_at(self, name: str, op: float) -> float | None:
        """A series' value at the point nearest ``op`` (for hover read-outs)."""
        values = self.latency_us.get(name)
        if values is None and name in ("throughput", "load_factor", "max_probe", "tombstone_ratio"):
            values = getattr(self, name)
        if not values or not self.ops:
            return None
        index = min(range(len(self.ops)), key=lambda i: abs(self.ops[i] - op))
        return float(values[index])


def _describe(kind: str, event: dict[str, Any]) -> str:
    op = event.get("op", "?")
    if kind == "resize":
        table = event.get("table", "")
        return (
            f"op {op}: {table} resize {event.get('old_capacity')} -> "
            f"{event.get('new_capacity')} ({event.get('reason', '')})"
        )
    if kind.startswith("migration"):
        target = event.get("to") or event.get("target") or ""
        reason = event.get("reason", "")
        return f"op {op}: {kind} {target} {reason}".rstrip()
    if kind == "compaction":
        return f"op {op}: compaction, {event.get('tombstones_removed', '?')} tombstones removed"
    return f"op {op}: {kind}: {event.get('reason', event.get('rule', ''))}".rstrip(": ")
