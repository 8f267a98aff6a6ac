"""The view onto a map scene: readable at any table size, following the action.

When the whole table fits at a scale where key text is at least 14 px on screen, the
view shows all of it. A larger table is shown at that readable scale instead, and the
view follows the action: the probed, placed, shifted or migrated slot (else the home
slot, else the migration cursor) is kept in sight after every step. An overview in the
corner draws the whole table small, frames what the view shows, and goes to a slot on a
click (which stops following; the "follow the action" box turns it back on). Ctrl+wheel
zooms by hand; a double click fits the view again. O(capacity) per step.
"""

from __future__ import annotations

from collections.abc import Callable

from PyQt6 import sip
from PyQt6.QtCore import QPointF, QRect, QRectF, Qt
from PyQt6.QtGui import (
    QFontMetricsF,
    QMouseEvent,
    QPainter,
    QResizeEvent,
    QShowEvent,
    QWheelEvent,
)
from PyQt6.QtWidgets import QCheckBox, QGraphicsView, QLabel, QWidget

from explorer.model.frames import Frame, Loc
from explorer.ui.map_items import KEY_FONT, TextItem
from explorer.ui.map_scene import MapScene
from explorer.ui.overview import Overview

__all__ = ["MIN_KEY_PIXELS", "MapView"]

#: the smallest key text, in screen pixels, that a lecture hall can read
MIN_KEY_PIXELS = 14.0
_MARGIN = 40.0  # scene units kept around the followed slot
#: the overview appears when the view shows less than this share of the table's slots
OVERVIEW_WHEN_SHOWN = 0.5


def key_pixels_at_scale(scale: float) -> float:
    """The on-screen height of key text (its cap height plus descent: what is read)."""
    return QFontMetricsF(KEY_FONT).height() * scale


class MapView(QGraphicsView):
    """A view of a map scene: the whole scene, or one table of it (its ``region``, a
    table kind), each view with its own scale, following and overview."""

    def __init__(
        self,
        scene: MapScene,
        parent: QWidget | None = None,
        region: str | None = None,
        follow_box: QCheckBox | None = None,
    ) -> None:
        super().__init__(scene, parent)
        self.map_scene = scene
        self.region = region
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
        self.zoomed_in = False  # the table does not fit whole: a readable lens
        self._fitted: tuple[object, ...] | None = None  # what the transform was fitted to
        self._region_set = QRectF()  # the scene rectangle last given to the view
        self.text_scale = 1.0  # presenter mode and Ctrl +/- make everything larger
        self.readable_scale = MIN_KEY_PIXELS / QFontMetricsF(KEY_FONT).height()
        self.overview = Overview(scene.colours, self)
        self.overview.slot_requested.connect(self.go_to)
        self.overview.hide()
        # a box of its own in the corner, or one shared with other views (the map pane's)
        self.owns_follow_box = follow_box is None
        self.follow_box = follow_box or QCheckBox("follow the action", self)
        self.follow_box.setChecked(True)
        self.follow_box.setToolTip("Keep the probed, placed or moved slot in sight")
        self.follow_box.toggled.connect(self._follow_toggled)
        if self.owns_follow_box:
            self.follow_box.hide()
        self.pinned_title = QLabel(self)
        self.pinned_title.setObjectName("pinnedTitle")
        self.pinned_title.hide()
        self._pinned_text = ""
        #: called after the overview is updated (the pane shows its shared box then)
        self.overlays_changed: Callable[[], None] | None = None
        scene.sceneRectChanged.connect(self._scene_rect_changed)

    def _scene_rect_changed(self, _rect: QRectF) -> None:
        if not self.isHidden():  # a hidden view catches up when it is shown
            self.sync_region()

    def showEvent(self, event: QShowEvent | None) -> None:
        super().showEvent(event)
        self.sync_region()

    # ------------------------------------------------------------------ region
    def set_region(self, region: str | None) -> None:
        """Show only the ``region`` table (None: the whole scene)."""
        if region != self.region:
            self.region = region
            self._zoomed = False
            self._fitted = None

    def region_rect(self) -> QRectF | None:
        """The region table's place in the scene, with a margin (None: no region)."""
        geometry = self.map_scene.geometry
        table = None if self.region is None or geometry is None else geometry.table(self.region)
        if table is None:
            return None
        margin = 24.0
        width = max(table.frame.w, table.title.w)
        return QRectF(
            table.frame.x - margin, table.frame.y - margin - 10,
            width + 2 * margin, table.frame.h + 2 * margin + 10,
        )

    def sync_region(self) -> None:
        """Follow the scene's geometry: the region's rectangle, then fit again."""
        rect = self.region_rect()
        wanted = rect if rect is not None else QRectF()  # a null rect tracks the scene
        if wanted != self._region_set:  # setting it again relays out the whole window
            self._region_set = wanted
            self.setSceneRect(wanted)
        self.fit()

    def _in_region(self, loc: Loc) -> bool:
        return self.region is None or loc.table == self.region

    def set_text_scale(self, scale: float) -> None:
        """Key text at least ``14 px x scale`` (presenter mode: larger tiles and text)."""
        self.text_scale = scale
        self.readable_scale = MIN_KEY_PIXELS * scale / QFontMetricsF(KEY_FONT).height()
        self._zoomed = False
        self._fitted = None
        self.fit()

    def _follow_toggled(self, on: bool) -> None:
        if on:
            self.show_action()

    @property
    def follow(self) -> bool:
        return self.follow_box.isChecked()

    @follow.setter
    def follow(self, on: bool) -> None:
        self.follow_box.setChecked(on)

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
        if not self._zoomed:
            view = self.viewport()
            size = (0, 0) if view is None else (view.width(), view.height())
            wanted = (self.sceneRect(), size, self.readable_scale)
            if wanted != self._fitted:  # a new transform repaints everything: only if needed
                self._fitted = wanted
                if self.whole_table_fits:
                    self.fitInView(self.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)
                else:
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
            if loc is not None and self._in_region(loc):
                rect = geometry.rect_of(loc)
                if rect is not None:
                    return QRectF(rect.x, rect.y, rect.w, rect.h)
        cursor = scene.cursor.sceneBoundingRect()
        region = self.region_rect()
        if scene.cursor.isVisible() and (region is None or region.intersects(cursor)):
            return cursor
        # in the other table's view: what this step marked there (entries just migrated)
        for loc in frame.marks:
            if self._in_region(loc):
                rect = geometry.rect_of(loc)
                if rect is not None:
                    return QRectF(rect.x, rect.y, rect.w, rect.h)
        return None

    def show_action(self) -> None:
        """Bring the action into sight, if following; then the overview shows what is in
        sight. An action already in sight (with a margin) moves nothing; one that is not
        is centred, so a probe walking along scrolls the view once every few steps rather
        than a little on every step (each scroll repaints the whole view)."""
        if self.follow:
            rect = self.action_rect()
            view = self.viewport()
            if rect is not None and view is not None:
                shown = self.mapToScene(view.rect()).boundingRect()
                wanted = rect.adjusted(-_MARGIN, -_MARGIN, _MARGIN, _MARGIN)
                if not shown.contains(wanted):
                    if wanted.width() <= shown.width() and wanted.height() <= shown.height():
                        self.centerOn(rect.center())
                    else:  # larger than the view: its top left in sight
                        self.ensureVisible(rect, int(_MARGIN), int(_MARGIN))
        self._update_overview()

    def visible_locs(self) -> set[Loc]:
        """The slots (or buckets' first groups) the viewport shows now: O(slots shown) for
        Robin Hood, O(buckets) for chaining."""
        geometry = self.map_scene.geometry
        view = self.viewport()
        if geometry is None or view is None:
            return set()
        shown = self.mapToScene(view.rect()).boundingRect()
        locs: set[Loc] = set()
        for table in geometry.tables:
            if self.region not in (None, table.kind):
                continue
            for loc in table.locs_in(shown.x(), shown.y(), shown.width(), shown.height()):
                locs.add(loc if loc.slot is not None else Loc(loc.table, bucket=loc.bucket,
                                                              group=0))
        return locs

    def _update_overview(self) -> None:
        """The follow box while zoomed in; the overview too when most of the table is out
        of sight (over a small table it would hide more than it shows)."""
        frame, geometry = self.map_scene.frame, self.map_scene.geometry
        if self.isHidden():  # the pane's unused second view: nothing to draw
            return
        zoomed_in = not self.whole_table_fits and frame is not None and geometry is not None
        self.zoomed_in = zoomed_in
        if self.owns_follow_box:
            self.follow_box.setVisible(zoomed_in)
        self._pin_title(zoomed_in)
        visible = self.visible_locs() if zoomed_in else set()
        tables = [] if geometry is None else geometry.tables
        total = sum(len(t.cells) for t in tables if self.region in (None, t.kind))
        wanted = zoomed_in and len(visible) < OVERVIEW_WHEN_SHOWN * total
        self.overview.setVisible(wanted)
        if wanted:
            assert frame is not None
            self.overview.set_palette(self.map_scene.colours)
            scene = self.map_scene
            self.overview.show_frame(frame, visible, self.region, scene.frame_changes,
                                     scene.changes_since)
        self._place_overlays()
        if self.overlays_changed is not None:
            self.overlays_changed()

    def _title_item(self) -> TextItem | None:
        titles = self.map_scene.titles
        if self.region is not None:
            return titles.get(self.region)
        return next(iter(titles.values())) if len(titles) == 1 else None

    def _pin_title(self, zoomed_in: bool) -> None:
        """Pin the table's title to the top of the view while it is scrolled away."""
        item = self._title_item()
        if item is not None and sip.isdeleted(item):
            return  # the window is being torn down
        view = self.viewport()
        shown = None if view is None else self.mapToScene(view.rect()).boundingRect()
        out_of_sight = (
            zoomed_in and item is not None and shown is not None
            and not shown.contains(item.sceneBoundingRect().topLeft() + QPointF(6, 8))
        )
        if out_of_sight and item is not None:
            self._pinned_text = item.text
        self.pinned_title.setVisible(out_of_sight)

    def _place_overlays(self) -> None:
        view = self.viewport()
        if view is None:
            return
        tables = max(1, len(self.overview.tables))
        width = min(260, max(150, view.width() // 3))
        height = min(view.height() // 2, 34 + tables * width // 2)
        self.overview.setGeometry(view.x() + view.width() - width - 6, view.y() + 6, width,
                                  height)
        if self.owns_follow_box:
            self.follow_box.adjustSize()
            self.follow_box.move(view.x() + 6, view.y() + 4)
        if self.pinned_title.isVisible():
            left = self.follow_box.width() + 12 if self.owns_follow_box else 0
            room = view.width() - left - (width + 12 if self.overview.isVisible() else 0)
            label = self.pinned_title
            metrics = QFontMetricsF(label.font())
            text = metrics.elidedText(self._pinned_text, Qt.TextElideMode.ElideRight,
                                      max(20.0, room - 20.0))
            if text != label.text():  # a new text asks the whole window for a new layout
                label.setText(text)
            place = QRect(view.x() + left, view.y(), view.width() - left,
                          label.sizeHint().height())
            if place != label.geometry():
                label.setGeometry(place)
            self.overview.raise_()

    def go_to(self, loc: Loc) -> None:
        """Show slot ``loc`` (the overview was clicked): following stops until asked."""
        geometry = self.map_scene.geometry
        rect = geometry.rect_of(loc) if geometry is not None else None
        if rect is None:
            return
        self.follow = False
        self.centerOn(rect.x + rect.w / 2, rect.y + rect.h / 2)
        self._update_overview()

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        super().scrollContentsBy(dx, dy)
        if self.overview.isVisible():
            self.overview.visible_locs = self.visible_locs()
            self.overview.update()
        if self.zoomed_in:
            self._pin_title(True)
            self._place_overlays()

    def resizeEvent(self, event: QResizeEvent | None) -> None:
        super().resizeEvent(event)
        self.fit()

    def wheelEvent(self, event: QWheelEvent | None) -> None:
        if event is not None and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            factor = 1.15 if event.angleDelta().y() > 0 else 1 / 1.15
            self._zoomed = True
            self._fitted = None
            self.scale(factor, factor)
            return
        super().wheelEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent | None) -> None:
        self._zoomed = False
        self._fitted = None
        self.follow = True
        self.fit()
        super().mouseDoubleClickEvent(event)
