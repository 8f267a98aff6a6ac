"""Narration: what the current micro-step does, in words and in pseudocode."""

from __future__ import annotations

import html

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QResizeEvent
from PyQt6.QtWidgets import (
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from explorer.model.frames import Frame
from explorer.model.pseudocode import Pseudocode

__all__ = ["NarrationPanel"]

_NARRATION_MIN = 44  # pixels: two lines of narration before any text is shown


class NarrationPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.heading = QLabel()
        self.heading.setObjectName("position")
        self.heading.setWordWrap(True)
        self.narration = QLabel()
        self.narration.setObjectName("narration")
        self.narration.setWordWrap(True)
        self.narration.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.narration.setMinimumHeight(_NARRATION_MIN)
        self.engine_line = QLabel()
        self.engine_line.setObjectName("engineLine")
        # one line, elided, the whole in its tooltip: the narration says it in words
        self.engine_line.setMinimumWidth(40)
        self.engine_line.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._engine_text = ""
        self.code_title = QLabel()
        self.code_title.setObjectName("subtitle")
        self.code = QListWidget()
        self.code.setObjectName("pseudocode")
        self.code.setMinimumHeight(56)  # three lines; it scrolls to the current one
        self.code.setWordWrap(False)
        for widget in (self.heading, self.narration, self.engine_line, self.code_title, self.code):
            layout.addWidget(widget)
        layout.setStretchFactor(self.code, 1)
        self._listing: Pseudocode | None = None

    def show_frame(
        self,
        frame: Frame,
        heading: str,
        twin: Frame | None = None,
        names: tuple[str, str] = ("", ""),
    ) -> None:
        """Narrate ``frame``; with a ``twin`` (the side-by-side demo's second map), both,
        each under its map's name, or once when they say the same."""
        self.heading.setText(heading)
        self.narration.setTextFormat(Qt.TextFormat.PlainText if twin is None else
                                     Qt.TextFormat.RichText)
        self.engine_line.setVisible(twin is None)  # it traces one map; the words cover both
        if twin is None:
            self.narration.setText(frame.narration)
        elif twin.narration == frame.narration:
            self.narration.setText(f"<b>Both:</b> {html.escape(frame.narration)}")
        else:
            above, below = names
            self.narration.setText(
                f"<b>{html.escape(above)}:</b> {html.escape(frame.narration)}<br>"
                f"<b>{html.escape(below)}:</b> {html.escape(twin.narration)}"
            )
        self._engine_text = "" if frame.event is None else "engine: " + frame.event.describe()
        self.engine_line.setToolTip(self._engine_text)
        self._elide_engine_line()
        self._show_code(frame.pseudocode, frame.line)
        self._fit_text()

    def resizeEvent(self, event: QResizeEvent | None) -> None:
        super().resizeEvent(event)
        self._fit_text()

    def _fit_text(self) -> None:
        """Reserve the wrapped texts' full height, so the scrollable pseudocode list gives
        up space first and a narration is never clipped. O(text)."""
        label = self.narration
        if label.width() > 0:  # the height, padding included, at the current width
            label.setMinimumHeight(max(_NARRATION_MIN, label.heightForWidth(label.width())))
        self._elide_engine_line()

    def _elide_engine_line(self) -> None:
        label = self.engine_line
        width = max(20, label.width() - 4)
        label.setText(
            label.fontMetrics().elidedText(self._engine_text, Qt.TextElideMode.ElideRight, width)
        )

    def _show_code(self, code: Pseudocode | None, line: int | None) -> None:
        if code is not self._listing:
            self._listing = code
            self.code.clear()
            self.code_title.setText("" if code is None else code.title)
            if code is not None:
                for text in code.lines:
                    self.code.addItem(QListWidgetItem(text))
        if code is None or line is None:
            self.code.clearSelection()
            return
        self.code.setCurrentRow(line)
        item = self.code.item(line)
        if item is not None:
            self.code.scrollToItem(item)

    @property
    def highlighted_line(self) -> int | None:
        row = self.code.currentRow()
        return None if row < 0 or not self.code.selectedItems() else row
