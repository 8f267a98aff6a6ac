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

__all__ = ["OverviewCell", "TableOverview", "overview_of"]


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


def overview_of(table: TableState) -> TableOverview:
    layout: Mapping[str, Any] = table.layout
    kind = table.kind
    cells: list[OverviewCell] = []
    if "slots" in layout:
        for index, slot in enumerate(layout["slots"]):
            state = str(slot["state"])
            value = int(slot.get("dib", 0)) if state == "occupied" else 0
            cells.append(OverviewCell(state, value, Loc(kind, slot=index)))
    else:
        for index, bucket in enumerate(layout["buckets"]):
            longest = max((len(chain) for chain in bucket), default=0)
            cells.append(
                OverviewCell(
                    "occupied" if longest else "empty", longest, Loc(kind, bucket=index, group=0)
                )
            )
    return TableOverview(table.role, kind, _columns(len(cells)), tuple(cells))
