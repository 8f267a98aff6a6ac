"""The map canvas: draws a frame's tables and animates the change from one frame to the
next (keys glide to their new places, the probe marker slides, arrivals fade in).

One QVariantAnimation drives every moving item, so a step costs one timer however many
keys move; a 1,024-slot table animates at the display's frame rate.
"""

from __future__ import annotations

from dataclasses import dataclass

from PyQt6.QtCore import QEasingCurve, QObject, QPointF, QRectF, QVariantAnimation, pyqtSignal
from PyQt6.QtWidgets import QGraphicsItem, QGraphicsScene

from explorer.model.frames import Frame, Loc, entry_id
from explorer.model.geometry import (
    Rect,
    SceneGeometry,
    TableGeometry,
    place_tables,
)
from explorer.ui.map_items import (
    LABEL_FONT,
    TITLE_FONT,
    GroupHeadItem,
    KeyTile,
    LaneItem,
    MarkerItem,
    SlotItem,
    TextItem,
)
from explorer.ui.palette import Palette

__all__ = ["MapScene"]

KIND_NAMES = {"robinhood": "Robin Hood", "chaining": "Chaining"}
ROLE_NAMES = {"source": "moving out of", "target": "moving into"}


@dataclass
class _Move:
    item: QGraphicsItem
    start: QPointF
    end: QPointF


def table_title(table: TableGeometry, frame: Frame) -> str:
    """``Robin Hood · 16 slots · 7 entries · load 0.44`` (plus role and tombstones)."""
    state = next(t for t in frame.tables if t.kind == table.kind)
    layout = state.layout
    capacity = int(layout["capacity"])
    size = int(layout["size"])
    unit = "slots" if "slots" in layout else f"buckets \u00d7 {layout['groups']} groups"
    entries = "1 entry" if size == 1 else f"{size} entries"
    parts = [KIND_NAMES.get(table.kind, table.kind), f"{capacity} {unit}", entries]
    parts.append(f"load {size / capacity:.2f}")
    tombstones = int(layout.get("tombstones") or 0)
    if tombstones:
        parts.append("1 tombstone" if tombstones == 1 else f"{tombstones} tombstones")
    title = " \u00b7 ".join(parts)
    if table.role in ROLE_NAMES:
        title = f"{table.role.upper()} ({ROLE_NAMES[table.role]}): {title}"
    return title


class MapScene(QGraphicsScene):
    """Shows frames; :meth:`show_frame` is the only entry point."""

    animation_finished = pyqtSignal()

    def __init__(
        self, palette: Palette, parent: QObject | None = None, *, stacked: bool = False
    ) -> None:
        super().__init__(parent)
        self.stacked = stacked  # a migration's two tables one above the other
        # Most items move in every animation: a BSP index would be rebuilt each frame.
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        self.frame: Frame | None = None
        self.geometry: SceneGeometry | None = None
        self._init_items(palette)
        self._moves: list[_Move] = []
        self._fade_in: list[QGraphicsItem] = []
        self._fade_out: list[QGraphicsItem] = []
        self.animation = QVariantAnimation(self)
        self.animation.setStartValue(0.0)
        self.animation.setEndValue(1.0)
        self.animation.setEasingCurve(QEasingCurve.Type.InOutCubic)
        self.animation.valueChanged.connect(self._advance)
        self.animation.finished.connect(self._finish)

    # ------------------------------------------------------------------ palette
    def set_palette(self, palette: Palette) -> None:
        """Redraw everything in ``palette`` (theme switch)."""
        self.finish_animation()
        old = list(self.items())
        self._init_items(palette)  # first: removing items can scroll a view, which reads them
        for item in old:
            self.removeItem(item)
        if self.frame is not None:
            self.show_frame(self.frame, animate=False)

    def _init_items(self, palette: Palette) -> None:
        self.colours = palette
        self._signature: tuple[object, ...] | None = None
        self.backgrounds: dict[Loc, SlotItem | GroupHeadItem] = {}
        self.lanes: dict[Loc, LaneItem] = {}
        self._static: list[QGraphicsItem] = []
        self.titles: dict[str, TextItem] = {}
        self.tiles: dict[object, KeyTile] = {}
        self.tile_locs: dict[object, Loc | None] = {}
        self.loc_tiles: dict[Loc, object] = {}  # the tile drawn at each place
        self._carried: object | None = None  # the tile drawn "in hand"
        #: what the last frame changed, by table: slot indices, or None (all of it)
        self.frame_changes: dict[str, set[int] | None] = {}
        self.changes_since: Frame | None = None
        self.probe = MarkerItem(palette, palette.probe, "probe", tag_right=True)
        self.home = MarkerItem(palette, palette.home, "home", dashed=True, tag_below=True)
        self.cursor = MarkerItem(palette, palette.cursor, "cursor")
        for marker in (self.probe, self.home, self.cursor):
            marker.setVisible(False)
            self.addItem(marker)

    # ------------------------------------------------------------------ frames
    def show_frame(self, frame: Frame, *, animate: bool = True, duration_ms: int = 320) -> None:
        """Draw ``frame``; with ``animate``, glide from the frame shown before."""
        self.finish_animation()
        previous, self.frame = self.frame, frame
        geometry = place_tables(frame.tables, stacked=self.stacked)
        self.geometry = geometry
        rebuilt = geometry.signature != self._signature
        if rebuilt:
            self._rebuild_backgrounds(geometry)
        self.frame_changes = _changes(previous, frame, whole=rebuilt)
        self.changes_since = previous
        self._update_backgrounds(frame)
        for table in geometry.tables:
            self.titles[table.kind].set_text(table_title(table, frame))
        self._moves, self._fade_in, self._fade_out = [], [], []
        self._place_tiles(frame, geometry)
        self._place_markers(frame, geometry)
        if animate and duration_ms > 0 and (self._moves or self._fade_in or self._fade_out):
            self.animation.setDuration(duration_ms)
            self._advance(0.0)
            self.animation.start()
        else:
            self._advance(1.0)
            self._finish()

    def _rebuild_backgrounds(self, geometry: SceneGeometry) -> None:
        old: list[QGraphicsItem] = [*self.backgrounds.values(), *self.lanes.values()]
        old += [*self._static, *self.titles.values()]
        # forget them first: removing items can scroll a view, which reads the titles
        self.backgrounds, self.lanes, self._static, self.titles = {}, {}, [], {}
        for item in old:
            self.removeItem(item)
        for table in geometry.tables:
            title = TextItem(self.colours, table.title, "", TITLE_FONT)
            self.addItem(title)
            self.titles[table.kind] = title
            for rect, text in table.labels:
                label = TextItem(self.colours, rect, text, LABEL_FONT, muted=True)
                self.addItem(label)
                self._static.append(label)
            for loc, rect in table.cells.items():
                cell: SlotItem | GroupHeadItem
                if loc.slot is not None:
                    cell = SlotItem(self.colours, loc.slot, rect)
                else:
                    assert loc.bucket is not None and loc.group is not None
                    cell = GroupHeadItem(self.colours, loc.bucket, loc.group, rect)
                self.addItem(cell)
                self.backgrounds[loc] = cell
            for loc, rect in table.lanes.items():
                assert loc.bucket is not None and loc.group is not None
                lane = LaneItem(self.colours, loc.bucket, loc.group, rect)
                self.addItem(lane)
                self.lanes[loc] = lane
        margin = 24.0
        self.setSceneRect(
            QRectF(
                -margin,
                -margin - 10,
                geometry.width + 2 * margin,
                geometry.height + 2 * margin + 10,
            )
        )
        self._signature = geometry.signature

    def _update_backgrounds(self, frame: Frame) -> None:
        """Slot and head states and marks: only the slots the frame changed (a table
        redrawn whole: every one). O(changes), or O(capacity)."""
        marks = frame.marks
        backgrounds = self.backgrounds
        for state in frame.tables:
            layout = state.layout
            kind = state.kind
            if "slots" in layout:
                slots = layout["slots"]
                changed = self.frame_changes.get(kind)
                for i in range(len(slots)) if changed is None else changed:
                    loc = Loc(kind, slot=i)
                    item = backgrounds.get(loc)
                    if isinstance(item, SlotItem):
                        item.set_state(slots[i], marks.get(loc))
                continue
            for b, bucket in enumerate(layout["buckets"]):
                for g, chain in enumerate(bucket):
                    loc = Loc(kind, bucket=b, group=g)
                    head = backgrounds.get(loc)
                    if isinstance(head, GroupHeadItem):
                        head.set_state(len(chain), marks.get(loc))
        for loc, lane in self.lanes.items():
            lane.set_mark(marks.get(loc))

    def _place_tiles(self, frame: Frame, geometry: SceneGeometry) -> None:
        """Put each entry's tile in its place; tiles of entries gone fade out. Only the
        changed slots are looked at in a table the last frame showed too. O(changes)."""
        marks = frame.marks
        # first what was drawn where the frame changes (before anything moves)
        candidates: set[object] = set()
        if self._carried is not None:
            candidates.add(self._carried)
        partial = {kind for kind, slots in self.frame_changes.items() if slots is not None}
        if any(state.kind not in partial for state in frame.tables):
            # a table redrawn whole: all its tiles, and those of tables no longer shown
            candidates.update(
                ident for ident, loc in self.tile_locs.items()
                if loc is None or loc.table not in partial
            )
        for kind in partial:
            for index in self.frame_changes[kind] or ():
                ident = self.loc_tiles.get(Loc(kind, slot=index))
                if ident is not None:
                    candidates.add(ident)
        seen: set[object] = set()
        self._moving: set[int] = set()
        for state, table in zip(frame.tables, geometry.tables, strict=True):
            changed = self.frame_changes.get(state.kind)
            if changed is None:
                for loc, (ident, entry) in table.entries.items():
                    rect = table.entry_rect(loc)
                    assert rect is not None
                    self._put_tile(ident, loc, entry, rect, marks.get(loc), carried=False)
                    seen.add(ident)
                continue
            slots = state.layout["slots"]
            for index in changed:
                slot = slots[index]
                if slot["state"] != "occupied":
                    continue
                loc = Loc(state.kind, slot=index)
                ident = entry_id(slot["key"])
                self._put_tile(ident, loc, slot, table.cells[loc], marks.get(loc), carried=False)
                seen.add(ident)
        self._carried = None
        carried = frame.carried
        if carried is not None and frame.focus is not None:
            ident = entry_id(carried["key"])
            focus = geometry.rect_of(frame.focus)
            holder = geometry.table(frame.focus.table)
            if focus is not None and holder is not None:
                rect = holder.hand_rect(focus)
                self._put_tile(ident, None, carried, rect, "displaced", carried=True)
                seen.add(ident)
                self._carried = ident
        for ident in candidates - seen:
            tile = self.tiles.pop(ident, None)
            if tile is None:
                continue
            was = self.tile_locs.pop(ident, None)
            if was is not None and self.loc_tiles.get(was) == ident:
                del self.loc_tiles[was]
            self._fade_out.append(tile)

    def _put_tile(
        self,
        ident: object,
        loc: Loc | None,
        entry: object,
        rect: Rect,
        mark: str | None,
        carried: bool,
    ) -> None:
        tile = self.tiles.get(ident)
        end = QPointF(rect.x, rect.y)
        if tile is None:
            tile = KeyTile(self.colours, ident, rect)
            tile.setOpacity(0.0)
            self.addItem(tile)
            self.tiles[ident] = tile
            self._fade_in.append(tile)
        elif tile.pos() != end and id(tile) not in self._moving:
            self._moves.append(_Move(tile, tile.pos(), end))
            self._moving.add(id(tile))
        tile.set_entry(entry, mark, carried)  # type: ignore[arg-type]
        before = self.tile_locs.get(ident)
        if before is not None and before != loc and self.loc_tiles.get(before) == ident:
            del self.loc_tiles[before]
        if loc is not None:
            self.loc_tiles[loc] = ident
        self.tile_locs[ident] = loc

    def _place_markers(self, frame: Frame, geometry: SceneGeometry) -> None:
        for marker, loc, label in (
            (self.probe, frame.focus, frame.title),
            (self.home, frame.home, frame.home_label or "home"),
            (self.cursor, _cursor_loc(frame, geometry), "cursor"),
        ):
            rect = None if loc is None else geometry.rect_of(loc)
            if rect is None or loc is None:
                marker.setVisible(False)
                continue
            marker.set_label(label, _tag_below(marker is self.home, loc))
            end = QPointF(rect.x, rect.y)
            if marker.isVisible() and marker.pos() != end and marker is self.probe:
                marker.set_rect(Rect(marker.pos().x(), marker.pos().y(), rect.w, rect.h))
                self._moves.append(_Move(marker, marker.pos(), end))
            else:
                marker.set_rect(rect)
            marker.setVisible(True)
            marker.update()

    # ------------------------------------------------------------------ animation
    def _advance(self, value: object) -> None:
        t = float(value)  # type: ignore[arg-type]
        for move in self._moves:
            move.item.setPos(move.start + (move.end - move.start) * t)
        for item in self._fade_in:
            item.setOpacity(t)
        for item in self._fade_out:
            item.setOpacity(1.0 - t)

    def _finish(self) -> None:
        for item in self._fade_out:
            if item.scene() is self:
                self.removeItem(item)
        for move in self._moves:
            move.item.setPos(move.end)
        for item in self._fade_in:
            item.setOpacity(1.0)
        self._moves, self._fade_in, self._fade_out = [], [], []
        self.animation_finished.emit()

    def finish_animation(self) -> None:
        """Jump to the end of a running animation."""
        if self.animation.state() == QVariantAnimation.State.Running:
            self.animation.stop()
            self._advance(1.0)
            self._finish()

    # ------------------------------------------------------------------ queries (tests)
    def tile_for(self, loc: Loc) -> KeyTile | None:
        """The key tile drawn at ``loc``."""
        ident = self.loc_tiles.get(loc)
        return None if ident is None else self.tiles.get(ident)


def _changes(previous: Frame | None, frame: Frame, whole: bool) -> dict[str, set[int] | None]:
    """The slots of each Robin Hood table that ``frame`` changes after ``previous``: what
    they hold, or their mark. A table missing from the answer is redrawn whole (a chaining
    table, a new table, or ``whole``). Frames of one operation share unchanged slots, so
    most slots are told apart by identity: O(capacity) at C speed, O(changes) in Python."""
    if whole or previous is None:
        return {}
    before = {t.kind: t.layout for t in previous.tables}
    changes: dict[str, set[int] | None] = {}
    for state in frame.tables:
        old, new = before.get(state.kind), state.layout
        if old is None or "slots" not in new or "slots" not in old:
            continue
        old_slots, new_slots = old["slots"], new["slots"]
        if len(old_slots) != len(new_slots):
            continue
        if old_slots is new_slots:
            changes[state.kind] = set()
            continue
        changes[state.kind] = {
            i for i, (a, b) in enumerate(zip(old_slots, new_slots, strict=True))
            if a is not b and a != b
        }
    old_marks, new_marks = previous.marks, frame.marks
    for loc in old_marks.keys() | new_marks.keys():
        if old_marks.get(loc) != new_marks.get(loc) and loc.slot is not None:
            slots = changes.get(loc.table)
            if slots is not None:
                slots.add(loc.slot)
    return changes


def _tag_below(home: bool, loc: Loc) -> bool:
    """Where a marker's tag goes so that it covers no index or head: a slot's home tag
    below it (the probe's tag is above); on a chaining group head the home tag above it
    and the probe's below (in the room over the first lane)."""
    on_head = loc.bucket is not None and loc.position is None
    return not home if on_head else home


def _cursor_loc(frame: Frame, geometry: SceneGeometry) -> Loc | None:
    """Where a running migration's cursor points in the source table."""
    migration = frame.migration
    if not migration:
        return None
    source = next((t for t in frame.tables if t.role == "source"), None)
    if source is None:
        return None
    cursor = int(migration.get("cursor", 0))
    if "slots" in source.layout:
        if cursor >= len(source.layout["slots"]):
            return None
        return Loc(source.kind, slot=cursor)
    groups = int(source.layout["groups"])
    bucket, group = divmod(cursor, groups)
    if bucket >= len(source.layout["buckets"]):
        return None
    return Loc(source.kind, bucket=bucket, group=group)
