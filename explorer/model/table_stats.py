"""Live figures of the state on screen: size, capacity, load factor, probe lengths.

Computed from a frame's table layouts, so they always match the picture. O(capacity).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from explorer.model.frames import TableState

__all__ = ["TableFigures", "figures_of"]


@dataclass(frozen=True)
class TableFigures:
    """``probe_histogram[i]`` counts entries found after ``i + 1`` probes."""

    size: int
    capacity: int
    load_factor: float
    tombstones: int
    probe_histogram: tuple[int, ...]
    #: each table's capacity, in the order shown (two during a migration: source, target)
    capacities: tuple[int, ...] = ()

    @property
    def capacity_text(self) -> str:
        """``"16"``, or ``"8 + 16"`` (source + target) while a migration shows two."""
        if len(self.capacities) > 1:
            return " + ".join(str(c) for c in self.capacities)
        return str(self.capacity)

    @property
    def average_probe(self) -> float:
        total = sum(self.probe_histogram)
        if not total:
            return 0.0
        return sum((i + 1) * n for i, n in enumerate(self.probe_histogram)) / total


def _add(hist: list[int], probes: int) -> None:
    while len(hist) < probes:
        hist.append(0)
    hist[probes - 1] += 1


def figures_of(tables: Sequence[TableState]) -> TableFigures:
    """Figures over every table shown (both tables during a migration)."""
    size = capacity = tombstones = 0
    hist: list[int] = []
    capacities: list[int] = []
    for table in tables:
        layout = table.layout
        size += int(layout["size"])
        capacity += int(layout["capacity"])
        capacities.append(int(layout["capacity"]))
        if "slots" in layout:
            tombstones += int(layout.get("tombstones", 0))
            for slot in layout["slots"]:
                if slot["state"] == "occupied":
                    _add(hist, int(slot["dib"]) + 1)
        else:
            for bucket in layout["buckets"]:
                for chain in bucket:
                    for position in range(len(chain)):
                        _add(hist, position + 1)
    load = size / capacity if capacity else 0.0
    return TableFigures(size, capacity, load, tombstones, tuple(hist), tuple(capacities))
