"""The overview beside a zoomed-in map view: the whole table, one pixel block per slot.

Shown in the map view's corner when the table is too large to show whole at a readable
size (see :mod:`explorer.ui.map_view`). Slots are coloured by state and by DIB (chaining
buckets by their longest chain) on a fixed scale, so clusters stand out. The slots the
view shows now are framed, which connects the lens to the whole; a click shows that slot
in the view. The picture is one QImage with a pixel per slot, scaled up; a step repaints
the pixels it changed: O(changes) per step.
"""

from __future__ import annotations

from collections.abc import Mapping

from PyQt6.QtCore import QPointF, QRectF, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QFont, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PyQt6.QtWidgets import QWidget

from explorer.model.frames import Frame, Loc, TableState
from explorer.model.overview import DARKEST, TableOverview, overview_of, updated
from explorer.ui.palette import Palette

__all__ = ["Overview"]


def _count(state: TableState) -> int:
    layout = state.layout
    return len(layout["slots"] if "slots" in layout else layout["buckets"])

_TITLE_H = 14
_TITLE_FONT = QFont("DejaVu Sans")
_TITLE_FONT.setPixelSize(10)


class Overview(QWidget):
    """The whole table(s) of a frame, small; emits ``slot_requested`` on a click."""

    slot_requested = pyqtSignal(object)  # a Loc

    def __init__(self, palette: Palette, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.colours = palette
        self.tables: list[TableOverview] = []
        self.images: list[QImage] = []
        self.visible_locs: set[Loc] = set()
        self._cache: dict[str, tuple[TableOverview, QImage]] = {}
        self._drawn: Frame | None = None  # the frame the cache shows
        self._region: str | None = None
        self._shades: dict[tuple[str, int, int], int] = {}
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        # it paints every pixel of itself: updating it repaints nothing underneath
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setToolTip("The whole table; the frame is what the map shows. Click to go there.")

    def set_palette(self, palette: Palette) -> None:
        if palette is not self.colours:
            self.colours = palette
            self._cache.clear()
            self._shades.clear()
            self._drawn = None
        self.update()

    def show_frame(
        self,
        frame: Frame,
        visible: set[Loc],
        region: str | None = None,
        changes: Mapping[str, set[int] | None] | None = None,
        since: Frame | None = None,
    ) -> None:
        """Draw ``frame``'s tables (only the ``region`` table, if given). With ``changes``
        (the map scene's: changed slots by table since the frame ``since``), a table this
        overview drew at ``since`` has only those cells repainted: O(changes); otherwise
        O(capacity)."""
        self.visible_locs = visible
        if frame is self._drawn and region == self._region:
            self.update()
            return
        if since is None or since is not self._drawn or region != self._region:
            changes = None
        self._drawn, self._region = frame, region
        self.tables, self.images = [], []
        for state in frame.tables:
            if region not in (None, state.kind):
                continue
            known = self._cache.get(state.kind)
            changed = None if changes is None else changes.get(state.kind)
            if (
                known is not None and changed is not None
                and known[0].role == state.role and len(known[0].cells) == _count(state)
            ):
                table, image = updated(known[0], state, changed), known[1]
                darkest = DARKEST["slots" if "slots" in state.layout else "buckets"]
                for index in changed:
                    y, x = divmod(index, table.columns)
                    cell = table.cells[index]
                    image.setPixel(x, y, self._shade(cell.state, cell.value, darkest))
            else:
                table = overview_of(state)
                image = self._image(table, state)
            self._cache[state.kind] = (table, image)
            self.tables.append(table)
            self.images.append(image)
        self.visible_locs = visible
        self.update()

    def _shade(self, state: str, value: int, darkest: int) -> int:
        """The pixel of a cell: empty, tombstone, or light at home toward the displaced
        colour at ``darkest`` and beyond (shades kept per palette)."""
        key = (state, min(value, darkest), darkest)
        shade = self._shades.get(key)
        if shade is None:
            p = self.colours
            if state == "empty":
                colour = QColor(p.slot_empty)
            elif state == "tombstone":
                colour = QColor(p.tombstone)
            else:
                near, far = QColor(p.tile), QColor(p.displaced)
                t = min(1.0, value / darkest)
                colour = QColor(
                    round(near.red() + (far.red() - near.red()) * t),
                    round(near.green() + (far.green() - near.green()) * t),
                    round(near.blue() + (far.blue() - near.blue()) * t),
                )
            shade = self._shades[key] = colour.rgb()
        return shade

    def _image(self, table: TableOverview, state: TableState) -> QImage:
        image = QImage(table.columns, max(1, table.rows), QImage.Format.Format_RGB32)
        image.fill(QColor(self.colours.surface))
        darkest = DARKEST["slots" if "slots" in state.layout else "buckets"]
        columns = table.columns
        for index, cell in enumerate(table.cells):
            y, x = divmod(index, columns)
            image.setPixel(x, y, self._shade(cell.state, cell.value, darkest))
        return image

    def _areas(self) -> list[QRectF]:
        """Where each table's picture goes: stacked, each keeping its aspect."""
        if not self.tables:
            return []
        height = (self.height() - 4) / len(self.tables)
        areas = []
        for index, table in enumerate(self.tables):
            box = QRectF(2, 2 + index * height + _TITLE_H, self.width() - 4,
                         height - _TITLE_H - 2)
            scale = min(box.width() / table.columns, box.height() / max(1, table.rows))
            areas.append(QRectF(box.x(), box.y(), table.columns * scale, table.rows * scale))
        return areas

    def paintEvent(self, event: QPaintEvent | None) -> None:
        p = self.colours
        painter = QPainter(self)
        painter.setFont(_TITLE_FONT)  # small whatever the style sheet's text size
        painter.fillRect(self.rect(), QColor(p.surface))
        painter.setPen(QPen(QColor(p.muted), 1))
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))
        for table, image, area in zip(self.tables, self.images, self._areas(), strict=True):
            painter.setPen(QColor(p.text))
            painter.drawText(QPointF(area.x(), area.y() - 3), f"{table.role}: {table.kind}")
            painter.drawImage(area, image)
            cell_w = area.width() / table.columns
            cell_h = area.height() / max(1, table.rows)
            shown = [
                loc.slot if loc.slot is not None else loc.bucket or 0
                for loc in self.visible_locs if loc.table == table.kind
            ]
            if shown:
                rows = [i // table.columns for i in shown]
                cols = [i % table.columns for i in shown]
                frame = QRectF(area.x() + min(cols) * cell_w, area.y() + min(rows) * cell_h,
                               (max(cols) - min(cols) + 1) * cell_w,
                               (max(rows) - min(rows) + 1) * cell_h)
                painter.setPen(QPen(QColor(p.probe), 2))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRect(frame)
        painter.end()

    def loc_at(self, x: float, y: float) -> Loc | None:
        for table, area in zip(self.tables, self._areas(), strict=True):
            if area.contains(QPointF(x, y)):
                col = int((x - area.x()) / (area.width() / table.columns))
                row = int((y - area.y()) / (area.height() / max(1, table.rows)))
                index = row * table.columns + col
                if 0 <= index < len(table.cells):
                    return table.cells[index].loc
        return None

    def mousePressEvent(self, event: QMouseEvent | None) -> None:
        if event is not None:
            loc = self.loc_at(event.position().x(), event.position().y())
            if loc is not None:
                self.slot_requested.emit(loc)
