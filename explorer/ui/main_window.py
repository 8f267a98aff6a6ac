"""The explorer's main window: binds the session (model) to the views and controls."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QCoreApplication, QEvent, Qt, QTimer
from PyQt6.QtGui import QCloseEvent
from PyQt6.QtWidgets import (
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QScrollArea,
    QSplitter,
    QStyle,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from explorer.model.demos import load_demo
from explorer.model.jump import JumpIn, jump_in
from explorer.model.map_config import MapConfig, MapConfigError
from explorer.model.operations import CommandError
from explorer.model.session import Session
from explorer.model.sources import WorkloadLoadError
from explorer.model.table_stats import figures_of
from explorer.ui.background import run_in_background
from explorer.ui.config_panel import ConfigPanel
from explorer.ui.input_panel import InputPanel
from explorer.ui.labels import config_label, fill_message, legend_html
from explorer.ui.map_pane import MapPane
from explorer.ui.map_scene import MapScene
from explorer.ui.map_view import MapView
from explorer.ui.menus import build_menus, build_shortcuts
from explorer.ui.narration_panel import NarrationPanel
from explorer.ui.palette import THEMES, Palette
from explorer.ui.run_view import RunView
from explorer.ui.stats_panel import StatsPanel
from explorer.ui.theme import apply_theme
from explorer.ui.transport import TransportBar

__all__ = ["MainWindow"]

BASE_STEP_MS = 700  # one micro-step per 0.7 s at 1x
OPS_TICK_MS = 16  # whole-operation playback: a frame about every 16 ms


class MainWindow(QMainWindow):
    def __init__(self, session: Session | None = None, theme: str = "light") -> None:
        super().__init__()
        self.setWindowTitle("Adaptive Hash Map Explorer")
        self.session = session if session is not None else Session()
        self.colours = THEMES[theme]
        self.animate = True
        self._busy = False
        self._undo_reset: Any = None
        self.text_scale = 1.0
        self.presenter = False
        self.presenter_action: Any = None
        self.panels_action: Any = None
        self._play_clock = (0.0, 0)
        self.last_dialog: QWidget | None = None  # the last Help dialog (tests read it)
        self.keys_to_inputs: Any = None
        self._build()
        self.theme_actions = build_menus(self)
        self.shortcuts = build_shortcuts(self)
        self.play_timer = QTimer(self)
        self.play_timer.timeout.connect(self._play_tick)
        # After a step, the neighbouring operations' frames are built while idle.
        self.prefetch_timer = QTimer(self)
        self.prefetch_timer.setSingleShot(True)
        self.prefetch_timer.setInterval(120)
        self.prefetch_timer.timeout.connect(self.session_prefetch)
        self.session.subscribe(self._session_changed)
        self.refresh(animate=False)

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        p = self.colours
        central = QWidget()
        central.setObjectName("central")
        outer = QVBoxLayout(central)
        outer.setContentsMargins(10, 8, 10, 6)
        header = QHBoxLayout()
        self.title = QLabel()
        self.title.setObjectName("title")
        self.subtitle = QLabel()
        self.subtitle.setObjectName("subtitle")
        self.subtitle.setWordWrap(True)
        titles = QVBoxLayout()
        titles.addWidget(self.title)
        titles.addWidget(self.subtitle)
        header.addLayout(titles, 1)
        outer.addLayout(header)
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()
        outer.addWidget(self.error)

        self.scene = MapScene(p, self, stacked=True)
        self.pane = MapPane(self.scene)
        self.view = self.pane.views[0]  # the whole map, or a migration's source
        self.twin_scene = MapScene(p, self)
        self.twin_view = MapView(self.twin_scene, follow_box=self.pane.follow_box)
        self.pane.extra_views.append(self.twin_view)  # one "follow the action" box for all
        self.twin_view.overlays_changed = self.pane.show_follow_box
        self.twin_label = QLabel()
        self.twin_label.setObjectName("subtitle")
        twin_box = QWidget()
        twin_layout = QVBoxLayout(twin_box)
        twin_layout.setContentsMargins(0, 0, 0, 0)
        twin_layout.addWidget(self.twin_label)
        twin_layout.addWidget(self.twin_view, 1)
        self.twin_box = twin_box
        self.maps = QSplitter(Qt.Orientation.Vertical)
        main_box = QWidget()
        main_layout = QVBoxLayout(main_box)
        main_layout.setContentsMargins(0, 0, 0, 0)
        self.main_label = QLabel()
        self.main_label.setObjectName("subtitle")
        self.main_label.setWordWrap(True)  # never widens the window past a projector's 1024
        label_row = QHBoxLayout()
        label_row.addWidget(self.main_label, 1)
        label_row.addWidget(self.pane.follow_box)
        main_layout.addLayout(label_row)
        main_layout.addWidget(self.pane, 1)
        self.legend = QLabel()
        self.legend.setObjectName("subtitle")
        self.legend.setWordWrap(True)
        self.maps.addWidget(main_box)
        self.maps.addWidget(twin_box)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.maps, 1)
        left_layout.addWidget(self.legend)
        self.transport = TransportBar(p)
        left_layout.addWidget(self.transport)

        self.narration = NarrationPanel()
        self.stats = StatsPanel(p)
        self.inputs = InputPanel()
        self.config_panel = ConfigPanel()
        self.tabs = QTabWidget()
        pages: tuple[tuple[QWidget, str], ...] = (
            (self.inputs, "Operations"),
            (self.config_panel, "Map settings"),
        )
        for page, label in pages:
            scroll = QScrollArea()
            scroll.setWidget(page)
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QScrollArea.Shape.NoFrame)
            self.tabs.addTab(scroll, label)
        side = QSplitter(Qt.Orientation.Vertical)
        for pane in (self.narration, self.stats, self.tabs):
            side.addWidget(pane)
        side.setStretchFactor(0, 3)
        side.setStretchFactor(1, 2)
        side.setStretchFactor(2, 0)
        side.setSizes([380, 220, 240])
        self.side = side
        self._pages = [page for page, _ in pages]
        self._fit_side_width()

        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.addWidget(left)
        self.split.addWidget(side)
        self.split.setStretchFactor(0, 3)
        self.split.setStretchFactor(1, 1)
        self.split.setSizes([960, 480])
        outer.addWidget(self.split, 1)
        self.run_view = RunView(p)
        self.run_view.jump_requested.connect(self.jump_to)
        self.pages = QTabWidget()
        self.pages.setObjectName("pages")
        self.pages.addTab(central, "Step through")
        self.pages.addTab(self.run_view, "Run a workload")
        self.setCentralWidget(self.pages)
        self.statusBar().showMessage("Ready")  # type: ignore[union-attr]

        self.transport.action.connect(self.do_action)
        self.transport.speed_changed.connect(self._speed_changed)
        self.transport.timeline.seek_requested.connect(self.session_seek)
        self.transport.goto_requested.connect(self.session_goto)
        self.inputs.command.connect(self.run_command)
        self.inputs.fill_requested.connect(self.fill)
        self.inputs.load_requested.connect(self.choose_workload)
        self.config_panel.apply_requested.connect(self.apply_config)

    def clear_focus(self) -> None:
        widget = self.focusWidget()
        if widget is not None:
            widget.clearFocus()

    # ------------------------------------------------------------------ showing
    def _session_changed(self, reason: str) -> None:
        self.refresh(animate=reason == "position")

    def refresh(self, animate: bool = False) -> None:
        """Redraw everything from the session's current frame."""
        s = self.session
        frame = s.frame()
        fast = self.playing and self.transport.ops_per_second is not None
        duration = self._animation_ms() if animate and self.animate and not fast else 0
        self.scene.show_frame(frame, animate=duration > 0, duration_ms=duration)
        self.pane.show_action(frame)  # a large table: the step stays in sight
        twin = s.twin_frame()
        if (twin is not None) != self.twin_box.isVisibleTo(self):
            self.twin_box.setVisible(twin is not None)
            if twin is not None:
                self.maps.setSizes([1000, 1000])  # the two maps share the height
        if twin is not None:
            self.twin_scene.show_frame(twin, animate=duration > 0, duration_ms=duration)
            self.twin_view.show_action()
            twin_capacity = figures_of(twin.tables).capacity_text
            self.twin_label.setText(config_label(s.twin.config, twin_capacity) if s.twin else "")
        figures = figures_of(frame.tables)
        capacity = figures.capacity_text
        if len(figures.capacities) == 2:
            capacity += " (source + target)"
        self.main_label.setText(config_label(s.config, capacity))
        self.legend.setText(legend_html(self.colours))
        self.title.setText(s.title or "Adaptive Hash Map Explorer")
        self.subtitle.setText(s.description)
        self.subtitle.setVisible(bool(s.description))
        names = ("", "")
        if twin is not None and s.twin is not None:  # each map by what sets it apart
            names = (f"Above ({s.config.deletion})", f"Below ({s.twin.config.deletion})")
        self.narration.show_frame(frame, self.heading(), twin, names)
        self.stats.show_figures(figures)
        bar = self.transport
        if bar.timeline.records is not s.timeline.records:
            bar.timeline.set_records(s.timeline.records)
        bar.timeline.set_position(s.position.op)
        bar.position.setText(self.position_text())
        bar.set_length(len(s), s.position.op)
        self.config_panel.show_config(s.config)
        self.prefetch_timer.start()

    def session_prefetch(self) -> None:
        if not self.play_timer.isActive():
            self.session.prefetch()

    def heading(self) -> str:
        s = self.session
        if s.at_end:
            return f"End \u00b7 {len(s)} operation{'' if len(s) == 1 else 's'}"
        frames = s.frames_here()
        op = s.timeline.operation(s.position.op)
        return (
            f"Operation {s.position.op + 1} of {len(s)}: {op.text()}  \u00b7  "
            f"step {s.position.step + 1} of {len(frames)}"
        )

    def position_text(self) -> str:
        s = self.session
        return f"op {min(s.position.op + 1, len(s))}/{len(s)}"

    def _animation_ms(self) -> int:
        interval = BASE_STEP_MS / self.transport.speed_value
        return int(max(0.0, min(420.0, interval * 0.8)))

    # ------------------------------------------------------------------ actions
    def do_action(self, name: str) -> None:
        """Transport actions (buttons and shortcuts)."""
        s = self.session
        if name == "play":
            self.toggle_play()
            return
        if name != "play":
            self.pause()
        {
            "start": s.to_start,
            "end": s.to_end,
            "step_forward": s.step_forward,
            "step_back": s.step_back,
            "op_forward": s.op_forward,
            "op_back": s.op_back,
        }[name]()

    def session_seek(self, op: int) -> None:
        self.pause()
        self.session.seek(op)

    def toggle_play(self) -> None:
        if self.play_timer.isActive():
            self.pause()
            return
        if self.session.at_end:
            self.session.to_start()
        self._play_clock = (time.perf_counter(), self.session.position.op)
        self.play_timer.start(self._play_interval())
        self.transport.set_playing(True)

    def _play_interval(self) -> int:
        if self.transport.ops_per_second is not None:
            return OPS_TICK_MS
        return int(BASE_STEP_MS / self.transport.speed_value)

    def pause(self) -> None:
        self.play_timer.stop()
        self.transport.set_playing(False)

    @property
    def playing(self) -> bool:
        return self.play_timer.isActive()

    def _play_tick(self) -> None:
        rate = self.transport.ops_per_second
        if rate is None:
            if not self.session.step_forward() or self.session.at_end:
                self.pause()
            return
        # whole operations, as many as are due by the clock (so a slow frame costs no
        # speed): one seek, no animation; the frames of the skipped ones are never built
        started, first = self._play_clock
        due = first + int((time.perf_counter() - started) * rate)
        target = min(len(self.session), max(due, self.session.position.op + 1))
        self.session.seek(target)
        if self.session.at_end:
            self.pause()

    def _speed_changed(self, speed: float) -> None:
        if self.play_timer.isActive():
            self._play_clock = (time.perf_counter(), self.session.position.op)
            self.play_timer.setInterval(self._play_interval())

    def session_goto(self, op: int) -> None:
        """Go to operation index ``op`` (the go-to box)."""
        self.pause()
        self.session.seek(max(0, min(op, len(self.session))))

    def run_command(self, text: str) -> bool:
        """Run one operation line; a bad line shows a message and changes nothing."""
        self.pause()
        try:
            record = self.session.execute(text)
        except CommandError as exc:
            self.show_error(str(exc))
            return False
        self.clear_error()
        self.inputs.line.clear()
        # the outcome is what the steps show: the status bar does not tell it first
        self.statusBar().showMessage(  # type: ignore[union-attr]
            f"{record.op.text()}: step through it with \u2192, or Shift+\u2192 for all of it"
        )
        return True

    def fill(self, count: int, adversarial: int = 0) -> bool:
        self.pause()
        before = len(self.session.timeline.live)
        try:
            self.session.fill(count, adversarial=min(adversarial, count))
            added = len(self.session.timeline.live) - before
        except ValueError as exc:
            self.show_error(str(exc))
            return False
        self.clear_error()
        self.statusBar().showMessage(fill_message(count, added))  # type: ignore[union-attr]
        return True

    def apply_config(self, fields: dict[str, Any]) -> bool:
        self.pause()
        try:
            config = MapConfig.parse(**fields)
            config.build()
        except MapConfigError as exc:
            self.show_error(f"Map settings: {exc}")
            return False
        self.clear_error()
        self.session.reset(config, twin=None)
        self.statusBar().showMessage("New empty map")  # type: ignore[union-attr]
        return True

    def truncate_here(self) -> None:
        self.pause()
        dropped = self.session.truncate()
        ops = "1 operation" if dropped == 1 else f"{dropped} operations"
        self.statusBar().showMessage(f"Dropped {ops}")  # type: ignore[union-attr]

    def reset(self) -> None:
        """An empty map; the operations before it come back with Ctrl+Z."""
        self.pause()
        self._undo_reset = self.session.snapshot_state()
        dropped = len(self.session)
        self.session.reset()
        self.clear_error()
        self.statusBar().showMessage(  # type: ignore[union-attr]
            f"Reset to an empty map ({dropped} operation{'' if dropped == 1 else 's'} set "
            "aside): Ctrl+Z brings them back"
        )

    def undo_reset(self) -> bool:
        """Bring back what the last reset set aside."""
        if self._undo_reset is None:
            self.statusBar().showMessage("Nothing to undo")  # type: ignore[union-attr]
            return False
        self.pause()
        self.session.restore_state(self._undo_reset)
        self._undo_reset = None
        self.statusBar().showMessage("Brought back the operations before the reset")  # type: ignore[union-attr]
        return True

    def open_demo(self, name: str) -> None:
        self.pause()
        load_demo(self.session, name)
        self.clear_error()
        self.refresh(animate=False)

    def choose_workload(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a workload", "", "Workload CSV (*.csv);;All files (*)"
        )
        if path:
            self.load_workload_file(path)

    def load_workload_file(self, path: str | Path) -> None:
        """Load a CSV in the background; a bad file shows a message and changes nothing."""
        self.pause()
        if self._busy:
            self.show_error("A workload is still loading")
            return
        self._busy = True
        self.statusBar().showMessage(f"Loading {path}\u2026")  # type: ignore[union-attr]

        def done(prepared: Any) -> None:
            self._busy = False
            count = self.session.adopt(prepared)
            self.session.title = f"Workload: {Path(path).name}"
            self.clear_error()
            self.refresh()
            self.statusBar().showMessage(f"Loaded {count} operations")  # type: ignore[union-attr]

        def failed(exc: Exception) -> None:
            self._busy = False
            if isinstance(exc, WorkloadLoadError | OSError):
                self.show_error(f"Could not load the workload: {exc}")
            else:
                self.show_error(f"Could not load the workload ({type(exc).__name__}: {exc})")

        run_in_background(lambda: self.session.prepare_workload(path), done, failed)

    def jump_to(self, op: int) -> None:
        """Open the moment just before operation ``op`` of the Run view's workload in the
        step-through view (the prefix is replayed in the background)."""
        run = self.run_view.run
        if run is None:
            return
        if self._busy:
            self.run_view.status.setText("Still preparing the previous jump")
            return
        self._busy = True
        self.pause()
        request = run.request
        self.run_view.status.setText(f"Rebuilding the map just before operation {op:,}…")

        def work() -> JumpIn:
            return jump_in(request.csv, max(1, op), backend=request.backend,
                           config=request.config)

        def done(jump: JumpIn) -> None:
            self._busy = False
            self.session.jump_in(jump)
            self.pages.setCurrentIndex(0)
            self.clear_error()
            self.statusBar().showMessage(jump.description)  # type: ignore[union-attr]

        def failed(exc: Exception) -> None:
            self._busy = False
            self.run_view.status.setText(f"Cannot jump there: {exc}")

        run_in_background(work, done, failed)

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()
        self.statusBar().showMessage(message)  # type: ignore[union-attr]

    def clear_error(self) -> None:
        self.error.hide()
        self.error.clear()

    @property
    def error_text(self) -> str:
        return self.error.text() if not self.error.isHidden() else ""

    # ------------------------------------------------------------------ presenting
    def set_text_scale(self, scale: float) -> None:
        """Text and tiles at ``scale`` times the usual size (0.8 to 2.5)."""
        scale = max(0.8, min(2.5, scale))
        self.text_scale = scale
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, self.colours.name, scale)
        self.pane.set_text_scale(scale)
        self.twin_view.set_text_scale(scale)
        self._fit_side_width()
        self.statusBar().showMessage(f"Text and tiles at {scale:.0%}")  # type: ignore[union-attr]

    def zoom_text(self, steps: int) -> None:
        """Ctrl + and Ctrl -: one step is 15% larger or smaller."""
        self.set_text_scale(self.text_scale * 1.15**steps)

    def set_presenter(self, on: bool) -> None:
        """Presenter mode: full screen, the side panels hidden, text and tiles at 150%.
        The side panels come back with F9, and everything with F5 again."""
        self.presenter = on
        if on:
            self._before_presenter = self.text_scale
            self.set_text_scale(max(1.5, self.text_scale))
            self._show_panels(False)
            self.showFullScreen()
        else:
            self.set_text_scale(getattr(self, "_before_presenter", 1.0))
            self._show_panels(True)
            self.showNormal()

    def _show_panels(self, shown: bool) -> None:
        """Through the menu's check box when there is one, so it tells the truth."""
        if self.panels_action is not None:
            self.panels_action.setChecked(shown)
        else:
            self.set_side_panels(shown)

    def set_side_panels(self, shown: bool) -> None:
        self.side.setVisible(shown)
        self.pane.fit()

    def set_theme(self, name: str) -> None:
        app = QApplication.instance()
        palette: Palette = THEMES[name]
        if isinstance(app, QApplication):
            apply_theme(app, name, self.text_scale)
        self.colours = palette
        for scene in (self.scene, self.twin_scene):
            scene.set_palette(palette)
        self.stats.set_palette(palette)
        self.run_view.charts.set_palette(palette)
        self.run_view.charts.redraw()
        self.transport.timeline.colours = palette
        self.transport.timeline.update()
        self.theme_actions[name].setChecked(True)
        self._fit_side_width()  # the style sheet's fonts change the pages' widths
        self.refresh(animate=False)

    def _fit_side_width(self) -> None:
        """Keep the side panel wide enough for the tabs' pages and a vertical scroll bar,
        so they never scroll sideways (on small screens and projectors the map view
        gets less room instead)."""
        widest = max(page.minimumSizeHint().width() for page in self._pages)
        style = self.style()
        bar = 0 if style is None else style.pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        self.side.setMinimumWidth(widest + bar + 16)
        # and tall enough that no page scrolls at 1024x768 (Apply and "Load workload CSV"
        # in sight): the narration and the figures give up height instead
        tallest = max(page.minimumSizeHint().height() for page in self._pages)
        tab_bar = self.tabs.tabBar()
        tabs_h = 0 if tab_bar is None else tab_bar.sizeHint().height()
        self.tabs.setMinimumHeight(tallest + tabs_h + 10)

    def choose_screenshot(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save screenshot", "explorer.png", "PNG (*.png)"
        )
        if path:
            self.save_screenshot(path)

    def save_screenshot(self, path: str | Path) -> None:
        """Save a PNG of the whole window."""
        self.scene.finish_animation()
        self.twin_scene.finish_animation()
        image = self.grab()
        if not image.save(str(path), "PNG"):
            raise OSError(f"could not write {path}")

    def dispose(self) -> None:
        """Close and delete the window now, while the application still exists: left to
        the interpreter's shutdown, Qt objects can be destroyed after the application and
        crash."""
        self.close()
        self.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
        QCoreApplication.processEvents()

    def closeEvent(self, event: QCloseEvent | None) -> None:
        self.pause()
        if self.run_view.run is not None:
            self.run_view.run.close()
        super().closeEvent(event)
