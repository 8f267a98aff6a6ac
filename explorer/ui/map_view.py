"""The view onto a map scene: readable at any table size, following the action.

When the whole table fits at a scale where key text is at least 14 px on screen, the
view shows all of it. A larger table is shown at that readable scale instead, and the
view follows the action: the probed, placed, shifted or migrated slot (else the home
slot, else the migration cursor) is kept in sight after every step. "Follow" can be
turned off; Ctrl+wheel zooms by hand (which also stops following until a double click
fits the view again). O(1) per step.
"""

from __future__ import annotations

from PyQt6.QtCore import QRectF, Qt
from PyQt6.QtGui import QFontMetricsF, QMouseEvent, QPainter, QResizeEvent, QWheelEvent
from PyQt6.QtWidgets import QGraphicsView, QWidget

from explorer.model.frames import Frame
from explorer.ui.map_items import KEY_FONT
from explorer.ui.map_scene import MapScene

__all__ = ["MIN_KEY_PIXELS", "MapView"]

#: the smallest key text, in screen pixels, that a lecture hall can read
MIN_KEY_PIXELS = 14.0
_MARGIN = 40.0  # scene units kept around the followed slot


def key_pixels_at_scale(scale: float) -> float:
    """The on-screen height of key text (its cap height plus descent: what is read)."""
    return QFontMetricsF(KEY_FONT).height() * scale


class MapView(QGraphicsView):
    def __init__(self, scene: MapScene, parent: QWidget | None = None) -> None:
        super().__init__(scene, parent)
        self.map_scene = scene
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setOptimizationFlags(
            QGraphicsView.OptimizationFlag.DontSavePainterState
            | QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing
        )
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self._zoomed = False  # the user zoomed by hand
        self.follow = True
        self.readable_scale = MIN_KEY_PIXELS / QFontMetricsF(KEY_FONT).height()
        scene.sceneRectChanged.connect(lambda _rect: self.fit())

    @property
    def current_scale(self) -> float:
        return self.transform().m11()

    @property
    def whole_table_fits(self) -> bool:
        """Whether the whole scene fits the viewport at a readable scale."""
        return self._fit_scale() >= self.readable_scale

    def _fit_scale(self) -> float:
        rect = self.sceneRect()
        view = self.viewport()
        if view is None or rect.width() <= 0 or rect.height() <= 0:
            return 1.0
        return min(view.width() / rect.width(), view.height() / rect.height())

    def fit(self) -> None:
        """The whole scene when it is readable so, else the readable scale (unless the
        user zoomed by hand), then the action back in sight."""
        if self._zoomed:
            return
        if self.whole_table_fits:
            self.fitInView(self.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)
            return
        self.resetTransform()
        self.scale(self.readable_scale, self.readable_scale)
        self.show_action()

    def action_rect(self, frame: Frame | None = None) -> QRectF | None:
        """Where the step happens: focus, else home, else the migration cursor."""
        scene = self.map_scene
        frame = frame or scene.frame
        geometry = scene.geometry
        if frame is None or geometry is None:
            return None
        for loc in (frame.focus, frame.home):
            if loc is not None:
                rect = geometry.rect_of(loc)
                if rect is not None:
                    return QRectF(rect.x, rect.y, rect.w, rect.h)
        if scene.cursor.isVisible():
            return scene.cursor.sceneBoundingRect()
        return None

    def show_action(self) -> None:
        """Scroll the action into sight (with a margin), if following."""
        if not self.follow:
            return
        rect = self.action_rect()
        if rect is not None:
            self.ensureVisible(rect, int(_MARGIN), int(_MARGIN))

    def resizeEvent(self, event: QResizeEvent | None) -> None:
        super().resizeEvent(event)
        self.fit()

    def wheelEvent(self, event: QWheelEvent | None) -> None:
        if event is not None and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            factor = 1.15 if event.angleDelta().y() > 0 else 1 / 1.15
            self._zoomed = True
            self.scale(factor, factor)
            return
        super().wheelEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent | None) -> None:
        self._zoomed = False
        self.fit()
        super().mouseDoubleClickEvent(event)
