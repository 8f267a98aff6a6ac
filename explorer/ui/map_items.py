"""The graphics items of the map canvas: slot and lane backgrounds, key tiles, markers.

Each item paints itself from a few plain fields; the scene (``map_scene``) decides where
they go and what they show.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PyQt6.QtCore import QPointF, QRectF, Qt
from PyQt6.QtGui import QBrush, QColor, QFont, QFontMetrics, QPainter, QPen
from PyQt6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from explorer.model.geometry import CELL_W, LANE_LABEL_W, LINK_W, Rect
from explorer.ui.palette import Palette

__all__ = [
    "GroupHeadItem",
    "KeyTile",
    "LaneItem",
    "MarkerItem",
    "SlotItem",
    "TextItem",
    "short_text",
]

MARK_SYMBOL = {
    "match": "\u2713",  # check mark
    "mismatch": "\u2717",  # ballot x
    "placed": "\u2605",  # star
    "updated": "\u2605",
    "displaced": "\u21c4",  # arrows left-right
    "shifted": "\u21a4",  # leftwards arrow from bar
    "moved": "\u2192",
    "tombstone": "\u2020",  # dagger
    "removed": "\u2212",
    "vacated": "\u2212",
    "visited": "\u2022",
    "empty": "\u2205",  # empty set
}


def _font(size: float, bold: bool = False, mono: bool = False) -> QFont:
    font = QFont("DejaVu Sans Mono" if mono else "DejaVu Sans")
    font.setPointSizeF(size)
    font.setBold(bold)
    return font


KEY_FONT = _font(12.5, bold=True)
SMALL_FONT = _font(9.0)
BADGE_FONT = _font(9.0, bold=True)
TITLE_FONT = _font(14.0, bold=True)
TOMB_FONT = _font(20.0, bold=True)
LABEL_FONT = _font(10.0)


def short_text(value: object) -> str:
    """A compact rendering of an encoded key or value."""
    if isinstance(value, dict):
        if "bytes" in value:
            return "b'" + str(value["bytes"]) + "'"
        if "repr" in value:
            return str(value["repr"])
    return str(value)


def _elide(text: str, font: QFont, width: float, middle: bool = False) -> str:
    """``text`` cut to ``width``: at the end, or in the ``middle`` (keys: crafted keys that
    share a long prefix or suffix stay told apart)."""
    mode = Qt.TextElideMode.ElideMiddle if middle else Qt.TextElideMode.ElideRight
    return QFontMetrics(font).elidedText(text, mode, int(width))


def qrect(rect: Rect) -> QRectF:
    return QRectF(rect.x, rect.y, rect.w, rect.h)


#: Below this scale (a tile under ~35 px wide) text is unreadable: items draw shapes only.
LOW_DETAIL = 0.3


def detail(painter: QPainter, option: QStyleOptionGraphicsItem | None) -> float:
    """How many device pixels one scene unit covers (1.0 at 100% zoom)."""
    if option is None:
        return 1.0
    return float(option.levelOfDetailFromTransform(painter.worldTransform()))


def _marked_box(
    painter: QPainter,
    p: Palette,
    rect: QRectF,
    fill: str,
    mark: str | None,
    *,
    radius: float,
    width: float,
) -> None:
    """A cell's rounded background: ``fill`` with a grid outline ``width`` wide, or a
    thick outline in the mark's colour (slots, group heads and lanes alike)."""
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QBrush(QColor(fill)))
    pen = QPen(QColor(p.grid), width) if mark is None else QPen(QColor(p.mark(mark)), 3.0)
    painter.setPen(pen)
    painter.drawRoundedRect(rect, radius, radius)


class _Item(QGraphicsItem):
    def __init__(self, palette: Palette, size: QRectF) -> None:
        super().__init__()
        self.colours = palette
        self._size = size
        self._bounds = size.adjusted(-4, -4, 4, 4)  # asked for often while painting
        # Moving an item only translates it, so its cached pixmap is reused: an animation
        # frame of a 1,024-slot table blits tiles instead of laying out text again.
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def boundingRect(self) -> QRectF:
        return self._bounds


class SlotItem(_Item):
    """An open-addressing slot's background: index, state, tombstone hatch, mark frame."""

    def __init__(self, palette: Palette, index: int, rect: Rect) -> None:
        super().__init__(palette, QRectF(0, 0, rect.w, rect.h))
        self.index = index
        self.state = "empty"
        self.mark: str | None = None
        self.tombstone_dib: int | None = None
        self.setPos(rect.x, rect.y)
        self.setZValue(0)

    def set_state(self, slot: Mapping[str, Any], mark: str | None) -> None:
        state = str(slot["state"])
        dib = slot.get("dib") if state == "tombstone" else None
        if (state, mark, dib) != (self.state, self.mark, self.tombstone_dib):
            self.state, self.mark, self.tombstone_dib = state, mark, dib
            self.update()

    def paint(
        self,
        painter: QPainter | None,
        option: QStyleOptionGraphicsItem | None,
        widget: QWidget | None = None,
    ) -> None:
        assert painter is not None
        p = self.colours
        rect = self._size
        fill = p.tombstone if self.state == "tombstone" else p.slot_empty
        _marked_box(painter, p, rect, fill, self.mark, radius=9, width=1.2)
        if detail(painter, option) < LOW_DETAIL:
            return
        if self.state == "tombstone":
            painter.setBrush(QBrush(QColor(p.removed), Qt.BrushStyle.BDiagPattern))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawRoundedRect(rect.adjusted(2, 2, -2, -2), 8, 8)
            painter.setPen(QColor(p.text))
            painter.setFont(TOMB_FONT)
            painter.drawText(rect.adjusted(0, 0, 0, -16), Qt.AlignmentFlag.AlignCenter, "\u2020")
            painter.setFont(SMALL_FONT)
            painter.drawText(
                rect.adjusted(0, 0, 0, -6),
                Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom,
                "tombstone",
            )
            painter.setFont(BADGE_FONT)
            painter.drawText(
                rect.adjusted(0, 4, -8, 0),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop,
                f"d{self.tombstone_dib}",
            )
        elif self.state == "empty" and self.mark is None:
            painter.setPen(QColor(p.muted))
            painter.setFont(SMALL_FONT)
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "empty")
        painter.setPen(QColor(p.muted))
        painter.setFont(SMALL_FONT)
        painter.drawText(
            rect.adjusted(7, 4, 0, 0),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
            f"[{self.index}]",
        )
        if self.mark is not None:
            painter.setPen(QColor(p.mark(self.mark)))
            painter.setFont(BADGE_FONT)
            painter.drawText(
                rect.adjusted(0, 3, -7, 0),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop,
                MARK_SYMBOL.get(self.mark, ""),
            )


class GroupHeadItem(_Item):
    """A chaining group's head in its bucket's row: ``g2`` and an arrow down to its lane
    when the chain holds entries, ``g2 ∅`` when it is empty."""

    def __init__(self, palette: Palette, bucket: int, group: int, rect: Rect) -> None:
        super().__init__(palette, QRectF(0, 0, rect.w, rect.h))
        self.bucket_index, self.group_index = bucket, group
        self.mark: str | None = None
        self.length = 0
        self.setPos(rect.x, rect.y)
        self.setZValue(0)

    def set_state(self, length: int, mark: str | None) -> None:
        if (length, mark) != (self.length, self.mark):
            self.length, self.mark = length, mark
            self.update()

    def paint(
        self,
        painter: QPainter | None,
        option: QStyleOptionGraphicsItem | None,
        widget: QWidget | None = None,
    ) -> None:
        assert painter is not None
        p = self.colours
        rect = self._size
        fill = p.tile if self.length else p.slot_empty
        _marked_box(painter, p, rect, fill, self.mark, radius=6, width=1.0)
        if detail(painter, option) < LOW_DETAIL:
            return
        painter.setPen(QColor(p.tile_text if self.length else p.muted))
        painter.setFont(LABEL_FONT)
        tail = "\u2193" if self.length else "\u2205"  # down arrow to the lane, or empty set
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, f"g{self.group_index} {tail}")


class LaneItem(_Item):
    """A non-empty chaining group's lane: ``g2`` and an arrow into the chain, and an
    arrow from each entry to the next (the key tiles are drawn on top)."""

    def __init__(self, palette: Palette, bucket: int, group: int, rect: Rect) -> None:
        super().__init__(palette, QRectF(0, 0, rect.w, rect.h))
        self.bucket_index, self.group_index = bucket, group
        self.mark: str | None = None
        self.setPos(rect.x, rect.y)
        self.setZValue(0)

    def set_mark(self, mark: str | None) -> None:
        if mark != self.mark:
            self.mark = mark
            self.update()

    def paint(
        self,
        painter: QPainter | None,
        option: QStyleOptionGraphicsItem | None,
        widget: QWidget | None = None,
    ) -> None:
        assert painter is not None
        p = self.colours
        rect = self._size
        _marked_box(painter, p, rect, p.slot_empty, self.mark, radius=8, width=1.0)
        if detail(painter, option) < LOW_DETAIL:
            return
        painter.setPen(QColor(p.muted))
        painter.setFont(LABEL_FONT)
        label = QRectF(0, 0, LANE_LABEL_W - 18, rect.height())
        painter.drawText(label, Qt.AlignmentFlag.AlignCenter, f"g{self.group_index}")
        painter.setPen(QPen(QColor(p.muted), 2.0))
        middle = rect.height() / 2
        starts = [LANE_LABEL_W - 20]
        entries = int((rect.width() - LANE_LABEL_W) // (CELL_W + LINK_W))
        starts += [LANE_LABEL_W + i * (CELL_W + LINK_W) + CELL_W - 2 for i in range(entries - 1)]
        for x in starts:
            end = x + (20 if x == starts[0] else LINK_W + 4)
            painter.drawLine(QPointF(x, middle), QPointF(end - 2, middle))
            painter.drawLine(QPointF(end - 8, middle - 5), QPointF(end - 2, middle))
            painter.drawLine(QPointF(end - 8, middle + 5), QPointF(end - 2, middle))


class KeyTile(_Item):
    """One stored entry: key, short value, distance badge and home slot (Robin Hood)."""

    def __init__(self, palette: Palette, ident: object, rect: Rect) -> None:
        super().__init__(palette, QRectF(0, 0, rect.w, rect.h))
        self.ident = ident
        self.key = ""
        self.value = ""
        self.dib: int | None = None
        self.home: int | None = None
        self.mark: str | None = None
        self.carried = False
        self.setZValue(2)
        self.setPos(rect.x, rect.y)

    def set_entry(self, entry: Mapping[str, Any], mark: str | None, carried: bool = False) -> None:
        fields = (
            short_text(entry["key"]),
            short_text(entry.get("value")),
            entry.get("dib"),
            entry.get("home"),
            mark,
            carried,
        )
        if fields != (self.key, self.value, self.dib, self.home, self.mark, self.carried):
            if fields[:2] != (self.key, self.value):
                self.setToolTip(f"{fields[0]} = {fields[1]}")  # the whole key, never elided
            self.key, self.value, self.dib, self.home, self.mark, self.carried = fields
            self.setZValue(4 if carried else 2)
            self.update()

    def paint(
        self,
        painter: QPainter | None,
        option: QStyleOptionGraphicsItem | None,
        widget: QWidget | None = None,
    ) -> None:
        assert painter is not None
        p = self.colours
        rect = self._size.adjusted(3, 3, -3, -3)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        fill = QColor(p.tile)
        if self.mark in ("placed", "updated", "match", "moved", "displaced", "shifted"):
            fill = QColor(p.mark(self.mark))
            fill.setAlpha(90)
            fill = _blend(QColor(p.tile), fill)
        if self.carried:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(0, 0, 0, 60))
            painter.drawRoundedRect(rect.translated(4, 5), 9, 9)
        painter.setBrush(QBrush(fill))
        border = QColor(p.mark(self.mark)) if self.mark else QColor(p.grid)
        painter.setPen(QPen(border, 3.0 if self.mark or self.carried else 1.0))
        if self.carried:
            painter.setPen(QPen(QColor(p.displaced), 3.0, Qt.PenStyle.DashLine))
        painter.drawRoundedRect(rect, 9, 9)
        if detail(painter, option) < LOW_DETAIL:
            return
        painter.setPen(QColor(p.tile_text))
        painter.setFont(KEY_FONT)
        key_box = rect.adjusted(6, 14, -6, -28)
        painter.drawText(
            key_box,
            Qt.AlignmentFlag.AlignCenter,
            _elide(self.key, KEY_FONT, key_box.width(), middle=True),
        )
        painter.setFont(SMALL_FONT)
        value_box = rect.adjusted(6, rect.height() - 26, -6, -4)
        value = _elide(f"= {self.value}", SMALL_FONT, value_box.width() - 34)
        painter.drawText(
            value_box, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, value
        )
        if self.dib is not None:
            badge = QRectF(rect.right() - 36, rect.bottom() - 22, 32, 18)
            painter.setBrush(QColor(p.home))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawRoundedRect(badge, 8, 8)
            painter.setPen(QColor("#ffffff"))
            painter.setFont(BADGE_FONT)
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, f"d{self.dib}")
        if self.home is not None:
            painter.setPen(QColor(p.tile_text))
            painter.setFont(SMALL_FONT)
            painter.drawText(
                rect.adjusted(0, 1, -6, 0),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop,
                f"\u2302{self.home}",
            )
        label = "in hand" if self.carried else MARK_SYMBOL.get(self.mark or "", "")
        if label:
            painter.setPen(QColor(p.mark(self.mark or "displaced")))
            painter.setFont(BADGE_FONT)
            painter.drawText(
                rect.adjusted(6, 1, 0, 0),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                label if self.carried else " " * 6 + label,
            )


def _blend(base: QColor, over: QColor) -> QColor:
    a = over.alphaF()
    return QColor(
        int(base.red() * (1 - a) + over.red() * a),
        int(base.green() * (1 - a) + over.green() * a),
        int(base.blue() * (1 - a) + over.blue() * a),
    )


class MarkerItem(_Item):
    """An outline that slides between places, with a tag naming it: the probe cursor,
    the home marker (with its index calculation) or a migration's cursor."""

    def __init__(
        self,
        palette: Palette,
        colour: str,
        label: str,
        dashed: bool = False,
        tag_right: bool = False,
        tag_below: bool = False,
    ) -> None:
        super().__init__(palette, QRectF(0, 0, 10, 10))
        self.setCacheMode(QGraphicsItem.CacheMode.NoCache)  # it changes every step
        self.colour = colour
        self.label = label
        self.dashed = dashed
        self.tag_right = tag_right
        self.tag_below = tag_below
        self.setZValue(6)

    def set_rect(self, rect: Rect) -> None:
        size = QRectF(0, 0, rect.w, rect.h)
        if size != self._size:
            self.prepareGeometryChange()
            self._size = size
        self.setPos(rect.x, rect.y)

    def set_label(self, label: str, below: bool | None = None) -> None:
        """Name the marker; ``below`` moves its tag under the outline (else above)."""
        below = self.tag_below if below is None else below
        if (label, below) != (self.label, self.tag_below):
            self.prepareGeometryChange()
            self.label, self.tag_below = label, below
            self.update()

    def _tag(self) -> QRectF:
        width = QFontMetrics(BADGE_FONT).horizontalAdvance(self.label) + 10
        left = self._size.width() - width if self.tag_right else 0.0
        top = self._size.height() + 5 if self.tag_below else -20.0
        return QRectF(left, top, width, 17)

    def boundingRect(self) -> QRectF:
        outline = self._size.adjusted(-8, -8, 8, 8)
        return outline.united(self._tag()) if self.label else outline

    def paint(
        self,
        painter: QPainter | None,
        option: QStyleOptionGraphicsItem | None,
        widget: QWidget | None = None,
    ) -> None:
        assert painter is not None
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        style = Qt.PenStyle.DashLine if self.dashed else Qt.PenStyle.SolidLine
        painter.setPen(QPen(QColor(self.colour), 4.0, style))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(self._size.adjusted(-4, -4, 4, 4), 11, 11)
        if self.label:
            tag = self._tag()
            painter.setFont(BADGE_FONT)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(self.colour))
            painter.drawRoundedRect(tag, 5, 5)
            dark_text = self.colour.lower() in ("#f0e442", "#e69f00", "#56b4e9")
            painter.setPen(QColor("#111111") if dark_text else QColor("#ffffff"))
            painter.drawText(tag, Qt.AlignmentFlag.AlignCenter, self.label)


class TextItem(_Item):
    """A line of text in a box (titles and labels), left-aligned."""

    def __init__(
        self, palette: Palette, rect: Rect, text: str, font: QFont, muted: bool = False
    ) -> None:
        super().__init__(palette, QRectF(0, 0, rect.w, rect.h))
        self.text = text
        self.font = font
        self.muted = muted
        self.setPos(rect.x, rect.y)

    def set_text(self, text: str) -> None:
        if text != self.text:
            self.text = text
            self.update()

    def paint(
        self,
        painter: QPainter | None,
        option: QStyleOptionGraphicsItem | None,
        widget: QWidget | None = None,
    ) -> None:
        assert painter is not None
        painter.setPen(QColor(self.colours.muted if self.muted else self.colours.text))
        painter.setFont(self.font)
        painter.drawText(
            self._size,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            _elide(self.text, self.font, self._size.width()),
        )
