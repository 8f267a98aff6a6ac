"""The map pane: one view of the map, or, during a migration, one view per table.

A migration's source and target tables differ in size (8 buckets moving into 16 slots,
or 512 into 2,048), so one scale for both would make one of them unreadable. The pane
stacks two views of the same scene instead, each showing one table with its own level of
detail (whole, or a readable lens with an overview), following its own action: the
cursor in the source, the entries this batch moved in the target.
"""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QCheckBox, QSplitter, QWidget

from explorer.model.frames import Frame
from explorer.ui.map_scene import MapScene
from explorer.ui.map_view import MapView

__all__ = ["MapPane"]


class MapPane(QSplitter):
    """``views[0]`` shows the whole map, or a migration's source; ``views[1]`` its target."""

    def __init__(self, scene: MapScene, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Vertical, parent)
        self.scene = scene
        self.follow_box = QCheckBox("follow the action")
        self.follow_box.hide()
        #: views outside the pane that share its box (the side-by-side demo's second map)
        self.extra_views: list[MapView] = []
        self.views = [MapView(scene, follow_box=self.follow_box) for _ in range(2)]
        for view in self.views:
            view.overlays_changed = self.show_follow_box
            self.addWidget(view)
        self.views[1].hide()
        self.setChildrenCollapsible(False)

    @property
    def split(self) -> bool:
        """Whether two tables are shown, each in its own view."""
        return not self.views[1].isHidden()

    def show_action(self, frame: Frame) -> None:
        """After the scene drew ``frame``: one view per table, each following its action."""
        source = next((t.kind for t in frame.tables if t.role == "source"), None)
        target = next((t.kind for t in frame.tables if t.role == "target"), None)
        split = len(frame.tables) == 2 and source is not None and target is not None
        if split != self.split:
            self.views[1].setVisible(split)
            if split:
                half = max(1, self.height() // 2)
                self.setSizes([half, half])
        self.views[0].set_region(source if split else None)
        self.views[1].set_region(target if split else None)
        for view in self.visible_views():
            view.sync_region()  # fits the view, then brings the action into sight

    def show_follow_box(self) -> None:
        """The shared box, while some view shows a lens rather than its whole table."""
        views = self.visible_views() + [v for v in self.extra_views if not v.isHidden()]
        self.follow_box.setVisible(any(v.zoomed_in for v in views))

    def visible_views(self) -> list[MapView]:
        return [view for view in self.views if not view.isHidden()]

    def set_text_scale(self, scale: float) -> None:
        for view in self.views:
            view.set_text_scale(scale)

    def fit(self) -> None:
        for view in self.views:
            view.fit()
