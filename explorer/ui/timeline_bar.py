"""The timeline scrubber: one thin mark per operation (coloured by kind, taller where a
resize, compaction or migration happened); click or drag to jump there."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from PyQt6.QtCore import QRectF, QSize, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen, QWheelEvent
from PyQt6.QtWidgets import QSizePolicy, QWidget

from explorer.model.timeline import OpRecord
from explorer.ui.palette import Palette

__all__ = ["TimelineBar"]


class TimelineBar(QWidget):
    seek_requested = pyqtSignal(int)

    def __init__(self, palette: Palette, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.colours = palette
        self.records: Sequence[OpRecord] = ()
        self.position = 0
        self.setMinimumHeight(34)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setToolTip(
            "Timeline: click or drag to jump to an operation; the wheel moves one at a time "
            "(Shift: ten)"
        )
        self._cache_key: tuple[int, int, int] | None = None
        self._cache: list[tuple[str, bool]] = []
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def sizeHint(self) -> QSize:
        return QSize(400, 34)

    def set_records(self, records: Sequence[OpRecord]) -> None:
        self.records = records
        self.update()

    def set_position(self, op: int) -> None:
        if op != self.position:
            self.position = op
            self.update()

    def _x_of(self, op: int) -> float:
        count = max(1, len(self.records))
        return 8 + (self.width() - 16) * op / count

    def op_at(self, x: float) -> int:
        count = len(self.records)
        if count == 0:
            return 0
        fraction = (x - 8) / max(1.0, self.width() - 16)
        return max(0, min(count, round(fraction * count)))

    def paintEvent(self, event: QPaintEvent | None) -> None:
        p = self.colours
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        track = QRectF(8, 12, self.width() - 16, 12)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(p.slot_empty))
        painter.drawRoundedRect(track, 5, 5)
        colours = {"put": p.home, "get": p.match, "del": p.removed, "compact": p.moved}
        count = len(self.records)
        span = max(1.0, self.width() - 16.0)
        if count <= span:
            width = max(1.0, span / max(1, count) - (1 if count < 200 else 0))
            for i, record in enumerate(self.records):
                tall = bool(record.structural)
                rect = QRectF(self._x_of(i), 6 if tall else 13, width, 22 if tall else 10)
                painter.setBrush(QColor(colours.get(record.op.op, p.muted)))
                painter.drawRect(rect)
        else:
            # more operations than pixels: one mark per pixel column, in the colour of
            # its most frequent kind, tall if any of its operations was structural
            # (O(operations) once, then O(width) to draw)
            for column, (kind, tall) in enumerate(self._columns(int(span))):
                painter.setBrush(QColor(colours.get(kind, p.muted)))
                painter.drawRect(QRectF(8 + column, 6 if tall else 13, 1, 22 if tall else 10))
        x = self._x_of(self.position)
        painter.setPen(QPen(QColor(p.probe), 3))
        painter.drawLine(int(x), 2, int(x), self.height() - 2)
        painter.end()

    def _columns(self, width: int) -> list[tuple[str, bool]]:
        """(most frequent op kind, any structural) of each pixel column; cached."""
        key = (id(self.records), len(self.records), width)
        if self._cache_key != key:
            count = len(self.records)
            columns: list[tuple[str, bool]] = []
            for column in range(width):
                chunk = self.records[column * count // width : (column + 1) * count // width]
                if not chunk:
                    columns.append(("", False))
                    continue
                kinds = Counter(r.op.op for r in chunk)
                columns.append((kinds.most_common(1)[0][0], any(r.structural for r in chunk)))
            self._cache_key, self._cache = key, columns
        return self._cache

    def wheelEvent(self, event: QWheelEvent | None) -> None:
        """The wheel moves one operation at a time (ten with Shift): precise however many
        operations share a pixel."""
        if event is None or not self.records:
            return
        step = 10 if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 1
        delta = event.angleDelta().y() or event.angleDelta().x()
        if delta:
            target = self.position + (step if delta < 0 else -step)
            self.seek_requested.emit(max(0, min(len(self.records), target)))
        event.accept()

    def mousePressEvent(self, event: QMouseEvent | None) -> None:
        if event is not None:
            self.seek_requested.emit(self.op_at(event.position().x()))

    def mouseMoveEvent(self, event: QMouseEvent | None) -> None:
        if event is not None and event.buttons() & Qt.MouseButton.LeftButton:
            self.seek_requested.emit(self.op_at(event.position().x()))
