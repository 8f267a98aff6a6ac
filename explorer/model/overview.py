"""The compact drawing of a whole table: one cell per slot (or bucket), for the overview.

A Robin Hood slot is ``empty``, a ``tombstone``, or ``occupied`` with its DIB; a
chaining bucket is ``empty`` or ``occupied`` with its longest group chain. Clusters of
long probes, or long chains, show at a glance however large the table is. Cells are laid
out row by row, ``columns`` to a row (64 at most), like the map's own grid. Qt-free;
:mod:`explorer.ui.overview` paints it. O(capacity).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from explorer.model.frames import Loc, TableState

__all__ = ["DARKEST", "OverviewCell", "TableOverview", "overview_cell", "overview_of", "updated"]


@dataclass(frozen=True, slots=True)
class OverviewCell:
    state: str  # "empty", "occupied" or "tombstone"
    value: int  # DIB of the slot, or the longest chain of the bucket
    loc: Loc  # the slot, or the bucket's first group (where the view goes)


@dataclass(frozen=True)
class TableOverview:
    role: str
    kind: str
    columns: int
    cells: tuple[OverviewCell, ...]

    @property
    def rows(self) -> int:
        return -(-len(self.cells) // self.columns) if self.cells else 0

    @property
    def worst(self) -> int:
        """The largest DIB or chain length (the colour scale's top)."""
        return max((c.value for c in self.cells if c.state == "occupied"), default=0)


def _columns(count: int) -> int:
    columns = 1
    while columns * columns < count and columns < 64:
        columns *= 2
    return max(1, min(64, columns * 2 if count > columns * columns // 2 else columns))


#: the DIB (or chain length) drawn in the darkest colour: a fixed scale, so one step
#: recolours only the cells it changed and the colours mean the same in every table
DARKEST = {"slots": 8, "buckets": 4}


def overview_cell(table: TableState, index: int) -> OverviewCell:
    """The overview cell of slot (or bucket) ``index``. O(1) (O(groups) for a bucket)."""
    layout: Mapping[str, Any] = table.layout
    if "slots" in layout:
        slot = layout["slots"][index]
        state = str(slot["state"])
        value = int(slot.get("dib", 0)) if state == "occupied" else 0
        return OverviewCell(state, value, Loc(table.kind, slot=index))
    longest = max((len(chain) for chain in layout["buckets"][index]), default=0)
    return OverviewCell(
        "occupied" if longest else "empty", longest, Loc(table.kind, bucket=index, group=0)
    )


def overview_of(table: TableState) -> TableOverview:
    """The whole table's overview. O(capacity)."""
    layout: Mapping[str, Any] = table.layout
    count = len(layout["slots"] if "slots" in layout else layout["buckets"])
    cells = tuple(overview_cell(table, index) for index in range(count))
    return TableOverview(table.role, table.kind, _columns(count), cells)


def updated(overview: TableOverview, table: TableState, indices: set[int]) -> TableOverview:
    """``overview`` with the cells at ``indices`` read again from ``table`` (the same
    size). O(changes), plus one copy of the cell tuple."""
    cells = list(overview.cells)
    for index in indices:
        cells[index] = overview_cell(table, index)
    return TableOverview(table.role, table.kind, overview.columns, tuple(cells))
