"""The explorer's menus and keyboard shortcuts, bound to a main window."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PyQt6.QtCore import PYQT_VERSION_STR, QT_VERSION_STR, QEvent, QObject, Qt
from PyQt6.QtGui import QAction, QActionGroup, QKeyEvent, QKeySequence, QShortcut
from PyQt6.QtWidgets import QAbstractSlider, QAbstractSpinBox, QComboBox, QLineEdit, QWidget

from explorer.model.demos import DEMOS
from explorer.resources import sample_workloads
from explorer.ui.palette import THEMES

if TYPE_CHECKING:
    from explorer.ui.main_window import MainWindow

__all__ = ["SHORTCUTS", "KeysToInputs", "build_menus", "build_shortcuts"]


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
    reset.setToolTip("Ctrl+Z brings the operations back")
    reset.triggered.connect(window.reset)
    edit.addAction(reset)
    undo = QAction("&Undo the reset", window)
    undo.setShortcut(QKeySequence.StandardKey.Undo)
    undo.triggered.connect(window.undo_reset)
    edit.addAction(undo)
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
    view.addSeparator()
    presenter = QAction("&Presenter mode", window)
    presenter.setCheckable(True)
    presenter.setShortcut(QKeySequence("F5"))
    presenter.setToolTip("Full screen, side panels hidden, text and tiles at 150%")
    presenter.toggled.connect(window.set_presenter)
    view.addAction(presenter)
    panels = QAction("Side &panels", window)
    panels.setCheckable(True)
    panels.setChecked(True)
    panels.setShortcut(QKeySequence("F9"))
    panels.toggled.connect(window.set_side_panels)
    view.addAction(panels)
    zooms: tuple[tuple[str, QKeySequence.StandardKey, int], ...] = (
        ("&Larger text and tiles", QKeySequence.StandardKey.ZoomIn, 1),
        ("&Smaller text and tiles", QKeySequence.StandardKey.ZoomOut, -1),
    )
    for text, sequence, steps in zooms:
        zoom = QAction(text, window)
        zoom.setShortcut(QKeySequence(sequence))
        zoom.triggered.connect(lambda _c=False, s=steps: window.zoom_text(s))
        view.addAction(zoom)
    window.presenter_action = presenter
    window.panels_action = panels
    help_menu = bar.addMenu("&Help")
    assert help_menu is not None
    keys = QAction("&Keyboard shortcuts", window)
    keys.setShortcut(QKeySequence("F1"))
    keys.triggered.connect(lambda: show_shortcuts(window))
    help_menu.addAction(keys)
    guide = QAction("The explorer's &guide", window)
    guide.triggered.connect(lambda: open_guide(window))
    help_menu.addAction(guide)
    about = QAction("&About", window)
    about.triggered.connect(lambda: show_about(window))
    help_menu.addAction(about)
    return theme_actions


#: (keys, what they do), as the Keyboard shortcuts dialog lists them
SHORTCUTS: tuple[tuple[str, str], ...] = (
    ("Right / Left", "one micro-step forward / back"),
    ("Shift+Right / Shift+Left, PgDown / PgUp", "one whole operation forward / back"),
    ("Space", "play / pause"),
    ("Home / End", "the first / the last operation"),
    ("] / [", "faster / slower; past 16x, whole operations a second (up to 10,000)"),
    ("Ctrl+G", "go to operation N"),
    ("Ctrl+L", "type an operation (put k v, get k, del k)"),
    ("Escape", "leave a text field, so the keys step the map again"),
    ("Ctrl+O", "open a workload CSV"),
    ("Ctrl+R / Ctrl+Z", "reset to an empty map / undo the reset"),
    ("F5", "presenter mode: full screen, larger text and tiles, side panels hidden"),
    ("F9", "show or hide the side panels"),
    ("Ctrl++ / Ctrl+-", "larger / smaller text and tiles"),
    ("F1", "this list"),
)


def _message(window: MainWindow, title: str, html: str) -> None:
    from PyQt6.QtWidgets import QMessageBox

    box = QMessageBox(window)
    box.setWindowTitle(title)
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setText(html)
    window.last_dialog = box
    box.open()  # not modal for the event loop: tests and presenters keep control


def show_shortcuts(window: MainWindow) -> None:
    rows = "".join(f"<tr><td><b>{keys}</b></td><td>{what}</td></tr>" for keys, what in SHORTCUTS)
    _message(
        window,
        "Keyboard shortcuts",
        "<p>The arrow keys step the map unless a text field, list or number box has the "
        f"focus; Escape gives it back.</p><table cellpadding='4'>{rows}</table>",
    )


def guide_path() -> Path:
    """``docs/explorer.md`` beside the package, where a source checkout has it."""
    return Path(__file__).resolve().parents[2] / "docs" / "explorer.md"


def open_guide(window: MainWindow) -> None:
    from PyQt6.QtCore import QUrl
    from PyQt6.QtGui import QDesktopServices

    path = guide_path()
    if path.exists():
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
        window.statusBar().showMessage(f"Opened {path}")  # type: ignore[union-attr]
    else:
        window.statusBar().showMessage(f"The guide is not installed here ({path})")  # type: ignore[union-attr]


def show_about(window: MainWindow) -> None:
    import engine
    import explorer

    _message(
        window,
        "About",
        f"<h3>Adaptive Hash Map Explorer {explorer.__version__}</h3>"
        f"<p>engine {engine.__version__}, PyQt6 {PYQT_VERSION_STR}, Qt {QT_VERSION_STR}</p>"
        "<p>Watch two-level chaining, Robin Hood hashing and an adaptive map work, step "
        "by step; run whole workloads and jump into their moments.</p>"
        f"<p>Guide: {guide_path()}</p>",
    )


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
        ("Ctrl+G", window.transport.focus_goto),
        ("Escape", window.clear_focus),
    ]
    shortcuts: dict[str, QShortcut] = {}
    for keys, slot in bindings:
        shortcut = QShortcut(QKeySequence(keys), window)
        shortcut.activated.connect(slot)
        shortcuts[keys] = shortcut
    window.keys_to_inputs = KeysToInputs(window)
    for widget in window.findChildren(QWidget):  # the inputs in the window, each one
        if isinstance(widget, _INPUTS):
            widget.installEventFilter(window.keys_to_inputs)
    return shortcuts


_INPUT_KEYS = frozenset(
    {
        Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_Home,
        Qt.Key.Key_End, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown, Qt.Key.Key_Space,
        Qt.Key.Key_BracketLeft, Qt.Key.Key_BracketRight,
    }
)
_INPUTS = (QComboBox, QAbstractSpinBox, QAbstractSlider, QLineEdit)


class KeysToInputs(QObject):
    """While a list, number box, slider or text field has the focus, the keys that would
    step the map are its own: it claims them (ShortcutOverride), as Qt intends, so an
    arrow in the backend list changes the backend, not the step."""

    def eventFilter(self, watched: QObject | None, event: QEvent | None) -> bool:
        if (
            event is not None
            and event.type() == QEvent.Type.ShortcutOverride
            and isinstance(watched, _INPUTS)
            and isinstance(event, QKeyEvent)
            and event.key() in _INPUT_KEYS
        ):
            event.accept()
        return False
