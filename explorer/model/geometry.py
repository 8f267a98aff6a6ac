"""Where everything sits on the map canvas, in scene units, computed without Qt.

Robin Hood slots form a wrapped grid; chaining buckets are blocks of ``groups`` lanes,
each lane a row of chain entries; during a migration the source and target tables sit
side by side. The views only draw what this module places, so the tests can check the
picture's geometry without a window. O(capacity) per frame.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from explorer.model.frames import Loc, TableState, entry_id, table_entries

__all__ = ["CELL_H", "CELL_W", "Rect", "SceneGeometry", "TableGeometry", "place_tables"]

CELL_W = 112.0
CELL_H = 78.0
GAP = 8.0
TITLE_H = 40.0
LANE_LABEL_W = 56.0
BUCKET_LABEL_H = 24.0
TABLE_GAP = 72.0
MIN_LANE_ENTRIES = 2
MIN_TITLE_W = 680.0
HAND_GAP = 18.0


@dataclass(frozen=True, slots=True)
class Rect:
    x: float
    y: float
    w: float
    h: float

    @property
    def center(self) -> tuple[float, float]:
        return (self.x + self.w / 2, self.y + self.h / 2)

    def moved(self, dx: float, dy: float) -> Rect:
        return Rect(self.x + dx, self.y + dy, self.w, self.h)


def grid_columns(count: int) -> int:
    """Columns of the slot grid: one row up to 4 slots, then a power of two that makes
    the grid about 1.8 times as wide as tall (a typical map pane), at most 64."""
    if count <= 4:
        return count
    ideal = math.sqrt(count * 1.8 * CELL_H / CELL_W)
    return min(64, 1 << max(2, round(math.log2(ideal))))


@dataclass
class TableGeometry:
    """One table's places: ``cells`` for slots or lanes, ``entries`` for what is stored."""

    kind: str
    role: str
    frame: Rect
    title: Rect
    cells: dict[Loc, Rect] = field(default_factory=dict)
    entries: dict[Loc, tuple[object, Mapping[str, Any]]] = field(default_factory=dict)
    labels: list[tuple[Rect, str]] = field(default_factory=list)
    signature: tuple[Any, ...] = ()
    hand_y: float | None = None  # where an entry carried by a Robin Hood swap is drawn

    def hand_rect(self, under: Rect) -> Rect:
        """The "in hand" place for an entry being pushed along, below ``under``'s column
        (below the grid, so it hides no slot)."""
        y = self.frame.y + self.frame.h - CELL_H if self.hand_y is None else self.hand_y
        return Rect(under.x, y, CELL_W, CELL_H)

    def entry_rect(self, loc: Loc) -> Rect | None:
        """The rectangle of a slot, a chain position, or a whole group lane."""
        if loc.slot is not None or loc.position is None:
            return self.cells.get(loc)
        lane = self.cells.get(Loc(loc.table, bucket=loc.bucket, group=loc.group))
        if lane is None:
            return None
        return Rect(
            lane.x + LANE_LABEL_W + loc.position * (CELL_W + GAP / 2),
            lane.y,
            CELL_W,
            lane.h,
        )


@dataclass
class SceneGeometry:
    tables: list[TableGeometry]
    width: float
    height: float

    @property
    def signature(self) -> tuple[Any, ...]:
        return tuple(t.signature for t in self.tables)

    def table(self, kind: str) -> TableGeometry | None:
        for table in self.tables:
            if table.kind == kind:
                return table
        return None

    def rect_of(self, loc: Loc) -> Rect | None:
        table = self.table(loc.table)
        return None if table is None else table.entry_rect(loc)

    def entries(self) -> Iterator[tuple[object, Loc, Mapping[str, Any], TableGeometry]]:
        for table in self.tables:
            for loc, (ident, entry) in table.entries.items():
                yield ident, loc, entry, table


def _place_slots(state: TableState, x0: float, y0: float) -> TableGeometry:
    layout = state.layout
    slots = layout["slots"]
    count = len(slots)
    columns = grid_columns(count)
    rows = math.ceil(count / columns)
    width = columns * (CELL_W + GAP) - GAP
    grid_h = rows * (CELL_H + GAP)
    table = TableGeometry(
        kind=state.kind,
        role=state.role,
        frame=Rect(x0, y0, width, TITLE_H + grid_h + HAND_GAP + CELL_H),
        title=Rect(x0, y0, max(width, MIN_TITLE_W), TITLE_H - 6),
        signature=("slots", state.role, count, columns),
        hand_y=y0 + TITLE_H + grid_h + HAND_GAP,
    )
    for i in range(count):
        row, col = divmod(i, columns)
        rect = Rect(x0 + col * (CELL_W + GAP), y0 + TITLE_H + row * (CELL_H + GAP), CELL_W, CELL_H)
        loc = Loc(state.kind, slot=i)
        table.cells[loc] = rect
    _add_entries(table, state)
    return table


def _place_chains(state: TableState, x0: float, y0: float) -> TableGeometry:
    layout = state.layout
    buckets: Sequence[Sequence[Sequence[Mapping[str, Any]]]] = layout["buckets"]
    groups = int(layout["groups"])
    longest = max((len(chain) for bucket in buckets for chain in bucket), default=0)
    lane_entries = max(MIN_LANE_ENTRIES, longest)
    lane_w = LANE_LABEL_W + lane_entries * (CELL_W + GAP / 2)
    block_h = BUCKET_LABEL_H + groups * (CELL_H + GAP / 2)
    count = len(buckets)
    ideal = math.sqrt(count * 1.8 * block_h / (lane_w + 2 * GAP))
    columns = max(1, min(count, 32, 1 << max(0, round(math.log2(max(ideal, 1.0))))))
    rows = math.ceil(count / columns)
    width = columns * (lane_w + 2 * GAP) - 2 * GAP
    blocks_h = rows * (block_h + GAP)
    table = TableGeometry(
        kind=state.kind,
        role=state.role,
        frame=Rect(x0, y0, width, TITLE_H + blocks_h + HAND_GAP + CELL_H),
        title=Rect(x0, y0, max(width, MIN_TITLE_W), TITLE_H - 6),
        signature=("chains", state.role, count, groups, lane_entries),
        hand_y=y0 + TITLE_H + blocks_h + HAND_GAP,
    )
    for b in range(count):
        row, col = divmod(b, columns)
        bx = x0 + col * (lane_w + 2 * GAP)
        by = y0 + TITLE_H + row * (block_h + GAP)
        table.labels.append((Rect(bx, by, lane_w, BUCKET_LABEL_H), f"bucket {b}"))
        for g in range(groups):
            lane = Rect(bx, by + BUCKET_LABEL_H + g * (CELL_H + GAP / 2), lane_w, CELL_H)
            table.cells[Loc(state.kind, bucket=b, group=g)] = lane
    _add_entries(table, state)
    return table


def _add_entries(table: TableGeometry, state: TableState) -> None:
    for loc, entry in table_entries(state):
        table.entries[loc] = (entry_id(entry["key"]), entry)


def place_tables(tables: Sequence[TableState], aspect: float = 1.5) -> SceneGeometry:
    """Place every table of a frame: side by side or one above the other, whichever
    lets a pane of width/height ``aspect`` show them larger."""
    across = _arrange(tables, horizontal=True)
    if len(tables) < 2:
        return across
    down = _arrange(tables, horizontal=False)

    def scale(g: SceneGeometry) -> float:
        return min(aspect / max(g.width, 1.0), 1.0 / max(g.height, 1.0))

    return across if scale(across) >= scale(down) else down


def _arrange(tables: Sequence[TableState], horizontal: bool) -> SceneGeometry:
    placed: list[TableGeometry] = []
    x = y = 0.0
    width = height = 0.0
    for state in tables:
        place = _place_slots if "slots" in state.layout else _place_chains
        table = place(state, x, y)
        placed.append(table)
        table_w = max(table.frame.w, table.title.w)
        width = max(width, x + table_w)
        height = max(height, y + table.frame.h)
        if horizontal:
            x += table_w + TABLE_GAP
        else:
            y += table.frame.h + TABLE_GAP / 2
    return SceneGeometry(placed, width, height)
