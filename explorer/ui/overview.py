"""The overview beside a zoomed-in map view: the whole table, one pixel block per slot.

Shown in the map view's corner when the table is too large to show whole at a readable
size (see :mod:`explorer.ui.map_view`). Slots are coloured by state and by DIB (chaining
buckets by their longest chain), so clusters stand out. The slots the view shows now are
framed, which connects the lens to the whole; a click shows that slot in the view. The
picture is one QImage with a pixel per slot, scaled up: O(capacity) per step.
"""

from __future__ import annotations

from PyQt6.QtCore import QPointF, QRectF, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QFont, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PyQt6.QtWidgets import QWidget

from explorer.model.frames import Frame, Loc
from explorer.model.overview import TableOverview, overview_of
from explorer.ui.palette import Palette

__all__ = ["Overview"]

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
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("The whole table; the frame is what the map shows. Click to go there.")

    def set_palette(self, palette: Palette) -> None:
        self.colours = palette
        self.update()

    def show_frame(self, frame: Frame, visible: set[Loc], region: str | None = None) -> None:
        """Draw ``frame``'s tables (only the ``region`` table, if given)."""
        self.tables = [overview_of(t) for t in frame.tables if region in (None, t.kind)]
        self.images = [self._image(t) for t in self.tables]
        self.visible_locs = visible
        self.update()

    def _colour(self, state: str, value: int, worst: int) -> QColor:
        p = self.colours
        if state == "empty":
            return QColor(p.slot_empty)
        if state == "tombstone":
            return QColor(p.tombstone)
        # light at home, toward the probe colour for the longest distances or chains
        near, far = QColor(p.tile), QColor(p.displaced)
        t = min(1.0, value / max(1, worst)) if worst else 0.0
        return QColor(
            round(near.red() + (far.red() - near.red()) * t),
            round(near.green() + (far.green() - near.green()) * t),
            round(near.blue() + (far.blue() - near.blue()) * t),
        )

    def _image(self, table: TableOverview) -> QImage:
        image = QImage(table.columns, max(1, table.rows), QImage.Format.Format_RGB32)
        image.fill(QColor(self.colours.surface))
        worst = table.worst
        for index, cell in enumerate(table.cells):
            y, x = divmod(index, table.columns)
            image.setPixelColor(x, y, self._colour(cell.state, cell.value, worst))
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
            shown = [i for i, c in enumerate(table.cells) if c.loc in self.visible_locs]
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
