"""The explorer's menus and keyboard shortcuts, bound to a main window."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PyQt6.QtGui import QAction, QActionGroup, QKeySequence, QShortcut

from explorer.model.demos import DEMOS
from explorer.resources import sample_workloads
from explorer.ui.palette import THEMES

if TYPE_CHECKING:
    from explorer.ui.main_window import MainWindow

__all__ = ["build_menus", "build_shortcuts"]


def build_menus(window: MainWindow) -> dict[str, QAction]:
    """File, Edit, Demos and View menus; returns the theme actions by theme name."""
    bar = window.menuBar()
    assert bar is not None
    file_menu = bar.addMenu("&File")
    assert file_menu is not None
    open_action = QAction("&Open workload CSV\u2026", window)
    open_action.setShortcut(QKeySequence.StandardKey.Open)
    open_action.triggered.connect(window.choose_workload)
    file_menu.addAction(open_action)
    samples = file_menu.addMenu("Open a &sample workload")
    assert samples is not None
    for path in sample_workloads():
        action = QAction(path.name, window)
        action.triggered.connect(lambda _c=False, p=path: window.load_workload_file(p))
        samples.addAction(action)
    shot = QAction("Save &screenshot\u2026", window)
    shot.triggered.connect(window.choose_screenshot)
    file_menu.addAction(shot)
    file_menu.addSeparator()
    quit_action = QAction("&Quit", window)
    quit_action.setShortcut(QKeySequence.StandardKey.Quit)
    quit_action.triggered.connect(window.close)
    file_menu.addAction(quit_action)
    edit = bar.addMenu("&Edit")
    assert edit is not None
    cut = QAction("&Drop the operations from here on", window)
    cut.setToolTip("Forget the operation on screen and every later one")
    cut.triggered.connect(window.truncate_here)
    edit.addAction(cut)
    reset = QAction("&Reset to an empty map", window)
    reset.setShortcut(QKeySequence("Ctrl+R"))
    reset.triggered.connect(window.reset)
    edit.addAction(reset)
    demos = bar.addMenu("&Demos")
    assert demos is not None
    for name, demo in DEMOS.items():
        action = QAction(demo.title, window)
        action.triggered.connect(lambda _c=False, n=name: window.open_demo(n))
        demos.addAction(action)
    view = bar.addMenu("&View")
    assert view is not None
    group = QActionGroup(window)
    theme_actions: dict[str, QAction] = {}
    for name in THEMES:
        action = QAction(f"{name.title()} theme", window)
        action.setCheckable(True)
        action.setChecked(name == window.colours.name)
        action.triggered.connect(lambda _c=False, n=name: window.set_theme(n))
        group.addAction(action)
        view.addAction(action)
        theme_actions[name] = action
    animate = QAction("&Animate steps", window)
    animate.setCheckable(True)
    animate.setChecked(True)
    animate.toggled.connect(lambda on: setattr(window, "animate", on))
    view.addAction(animate)
    return theme_actions


def build_shortcuts(window: MainWindow) -> dict[str, QShortcut]:
    """Keyboard shortcuts for every transport action (see docs/explorer.md)."""
    bindings: list[tuple[str, Any]] = [
        ("Right", lambda: window.do_action("step_forward")),
        ("Left", lambda: window.do_action("step_back")),
        ("Shift+Right", lambda: window.do_action("op_forward")),
        ("Shift+Left", lambda: window.do_action("op_back")),
        ("PgDown", lambda: window.do_action("op_forward")),
        ("PgUp", lambda: window.do_action("op_back")),
        ("Space", lambda: window.do_action("play")),
        ("Home", lambda: window.do_action("start")),
        ("End", lambda: window.do_action("end")),
        ("]", lambda: window.transport.nudge_speed(1)),
        ("[", lambda: window.transport.nudge_speed(-1)),
        ("Ctrl+L", window.inputs.line.setFocus),
        ("Escape", window.clear_focus),
    ]
    shortcuts: dict[str, QShortcut] = {}
    for keys, slot in bindings:
        shortcut = QShortcut(QKeySequence(keys), window)
        shortcut.activated.connect(slot)
        shortcuts[keys] = shortcut
    return shortcuts
