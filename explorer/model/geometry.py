"""Where everything sits on the map canvas, in scene units, computed without Qt.

Robin Hood slots form a wrapped grid; a chaining bucket is a row of group heads with
one lane under it per non-empty group, the chain drawn as linked boxes; during a
migration the source and target tables sit side by side, or stacked (each then gets a
view of its own). The views only draw what this module places, so the tests can check the
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
LANE_LABEL_W = 56.0  # "g2 ->" before a chain's first box
LANE_INDENT = 28.0  # a lane sits under its bucket's heads, indented
LINK_W = 26.0  # the arrow from one chain entry to the next
BUCKET_NAME_W = 104.0  # "bucket 1023" before the group heads
HEAD_W = 58.0  # one group head (the start of a chain)
HEAD_H = 34.0
TABLE_GAP = 72.0
MIN_LANE_ENTRIES = 2
MIN_TITLE_W = 680.0
HAND_GAP = 18.0
#: room above each row of slots or lanes for a marker's tag ("probe", "home: h & 7 = 5"),
#: so a tag never covers a slot's index or a group's head
TAG_ROOM = 22.0
ROW_PITCH = CELL_H + TAG_ROOM + 4.0


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
    #: chaining only: the lane of each non-empty group (its chain), keyed like its head
    lanes: dict[Loc, Rect] = field(default_factory=dict)
    labels: list[tuple[Rect, str]] = field(default_factory=list)
    signature: tuple[Any, ...] = ()
    hand_y: float | None = None  # where an entry carried by a Robin Hood swap is drawn
    #: a slot grid's (left, top, column pitch, row pitch, columns): finds the slots in a
    #: rectangle without looking at the others
    grid: tuple[float, float, float, float, int] | None = None
    state: TableState | None = None
    _entries: dict[Loc, tuple[object, Mapping[str, Any]]] | None = field(
        default=None, repr=False
    )

    @property
    def entries(self) -> dict[Loc, tuple[object, Mapping[str, Any]]]:
        """Every stored entry by its place, with its identity (computed when first asked:
        O(capacity), which a step that changes two slots need not pay)."""
        if self._entries is None:
            self._entries = {}
            if self.state is not None:
                for loc, entry in table_entries(self.state):
                    self._entries[loc] = (entry_id(entry["key"]), entry)
        return self._entries

    def locs_in(self, x: float, y: float, w: float, h: float) -> list[Loc]:
        """The cells (slots, or group heads) meeting a rectangle: O(cells shown) for a slot
        grid, O(cells) otherwise."""
        if self.grid is None:
            return [
                loc for loc, r in self.cells.items()
                if r.x < x + w and x < r.x + r.w and r.y < y + h and y < r.y + r.h
            ]
        left, top, pitch_x, pitch_y, columns = self.grid
        count = len(self.cells)
        rows = -(-count // columns)
        first_col = max(0, math.floor((x - left) / pitch_x))
        last_col = min(columns - 1, math.floor((x + w - left) / pitch_x))
        first_row = max(0, math.floor((y - top) / pitch_y))
        last_row = min(rows - 1, math.floor((y + h - top) / pitch_y))
        kind = self.kind
        return [
            Loc(kind, slot=row * columns + col)
            for row in range(first_row, last_row + 1)
            for col in range(first_col, last_col + 1)
            if row * columns + col < count
        ]

    def hand_rect(self, under: Rect) -> Rect:
        """The "in hand" place for an entry being pushed along, below ``under``'s column
        (below the grid, so it hides no slot)."""
        y = self.frame.y + self.frame.h - CELL_H if self.hand_y is None else self.hand_y
        return Rect(under.x, y, CELL_W, CELL_H)

    def entry_rect(self, loc: Loc) -> Rect | None:
        """The rectangle of a slot, a group's head, or a chain position in its lane (the
        lane's end for the position just past the chain, where an entry is appended)."""
        if loc.slot is not None or loc.position is None:
            return self.cells.get(loc)
        lane = self.lanes.get(Loc(loc.table, bucket=loc.bucket, group=loc.group))
        if lane is None:
            if loc.position != 0:
                return None
            head = self.cells.get(Loc(loc.table, bucket=loc.bucket, group=loc.group))
            if head is None:
                return None
            lane = Rect(head.x, head.y + HEAD_H + TAG_ROOM, 0.0, CELL_H)
        return Rect(
            lane.x + LANE_LABEL_W + loc.position * (CELL_W + LINK_W),
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
    grid_h = TAG_ROOM + rows * ROW_PITCH - TAG_ROOM - 4.0 + GAP
    table = TableGeometry(
        kind=state.kind,
        role=state.role,
        frame=Rect(x0, y0, width, TITLE_H + grid_h + HAND_GAP + CELL_H),
        title=Rect(x0, y0, max(width, MIN_TITLE_W), TITLE_H - 6),
        signature=("slots", state.role, count, columns),
        hand_y=y0 + TITLE_H + grid_h + HAND_GAP,
    )
    table.grid = (x0, y0 + TITLE_H + TAG_ROOM, CELL_W + GAP, ROW_PITCH, columns)
    table.cells = _slot_cells(state.kind, count, columns, x0, y0)
    table.state = state
    return table


_CELLS_CACHE: dict[tuple[Any, ...], dict[Loc, Rect]] = {}


def _slot_cells(kind: str, count: int, columns: int, x0: float, y0: float) -> dict[Loc, Rect]:
    """The slot rectangles of a grid, shared by every frame with the same grid (read
    only): placing a frame of a 4,096-slot table then costs nothing per slot."""
    key = (kind, count, columns, x0, y0)
    cells = _CELLS_CACHE.get(key)
    if cells is None:
        cells = {}
        for i in range(count):
            row, col = divmod(i, columns)
            top = y0 + TITLE_H + TAG_ROOM + row * ROW_PITCH
            cells[Loc(kind, slot=i)] = Rect(x0 + col * (CELL_W + GAP), top, CELL_W, CELL_H)
        if len(_CELLS_CACHE) >= 16:
            _CELLS_CACHE.pop(next(iter(_CELLS_CACHE)))
        _CELLS_CACHE[key] = cells
    return cells


def _place_chains(state: TableState, x0: float, y0: float) -> TableGeometry:
    """The textbook picture: each bucket a row of group heads (``g0 g1 ...``), and under
    it one lane per non-empty group holding that group's chain as linked boxes. Empty
    groups take no lane, so a sparse table stays compact. O(buckets x groups)."""
    layout = state.layout
    buckets: Sequence[Sequence[Sequence[Mapping[str, Any]]]] = layout["buckets"]
    groups = int(layout["groups"])
    longest = max((len(chain) for bucket in buckets for chain in bucket), default=0)
    lane_entries = max(MIN_LANE_ENTRIES, longest)
    heads_w = BUCKET_NAME_W + groups * HEAD_W
    lane_w = LANE_LABEL_W + lane_entries * (CELL_W + LINK_W)
    block_w = max(heads_w, LANE_INDENT + lane_w)
    used = [[g for g, chain in enumerate(bucket) if chain] for bucket in buckets]
    heights = [TAG_ROOM + HEAD_H + len(lanes) * (TAG_ROOM + CELL_H) for lanes in used]
    count = len(buckets)
    # buckets run down each column (the textbook's vertical bucket array), each block as
    # tall as its lanes, so an empty bucket takes one head row and leaves no gap
    total_h = sum(heights) + GAP * count
    ideal = math.sqrt(1.8 * total_h / (block_w + 2 * GAP))
    columns = max(1, min(count, 32, 1 << max(0, round(math.log2(max(ideal, 1.0))))))
    per_column = -(-count // columns) if count else 0
    column_h = [
        sum(heights[c * per_column : (c + 1) * per_column])
        + GAP * len(heights[c * per_column : (c + 1) * per_column])
        for c in range(columns)
    ]
    width = columns * (block_w + 2 * GAP) - 2 * GAP
    blocks_h = max(column_h, default=0.0)
    table = TableGeometry(
        kind=state.kind,
        role=state.role,
        frame=Rect(x0, y0, width, TITLE_H + blocks_h + HAND_GAP + CELL_H),
        title=Rect(x0, y0, max(width, MIN_TITLE_W), TITLE_H - 6),
        signature=("chains", state.role, count, groups, lane_entries, tuple(map(tuple, used))),
        hand_y=y0 + TITLE_H + blocks_h + HAND_GAP,
    )
    for column in range(columns):
        bx = x0 + column * (block_w + 2 * GAP)
        by = y0 + TITLE_H
        for b in range(column * per_column, min(count, (column + 1) * per_column)):
            head_y = by + TAG_ROOM
            table.labels.append((Rect(bx, head_y, BUCKET_NAME_W - 6, HEAD_H - 4), f"bucket {b}"))
            for g in range(groups):
                head = Rect(bx + BUCKET_NAME_W + g * HEAD_W, head_y, HEAD_W - 4, HEAD_H - 4)
                table.cells[Loc(state.kind, bucket=b, group=g)] = head
            for i, g in enumerate(used[b]):
                y = head_y + HEAD_H + TAG_ROOM + i * (TAG_ROOM + CELL_H)
                chain_w = LANE_LABEL_W + len(buckets[b][g]) * (CELL_W + LINK_W)
                lane = Rect(bx + LANE_INDENT, y, chain_w, CELL_H)
                table.lanes[Loc(state.kind, bucket=b, group=g)] = lane
            by += heights[b] + GAP
    table.state = state
    return table


def place_tables(
    tables: Sequence[TableState], aspect: float = 1.5, *, stacked: bool = False
) -> SceneGeometry:
    """Place every table of a frame: side by side or one above the other, whichever
    lets a pane of width/height ``aspect`` show them larger; ``stacked`` always puts them
    one above the other (the explorer shows each in a view of its own)."""
    across = _arrange(tables, horizontal=not stacked)
    if len(tables) < 2 or stacked:
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
