"""The explorer's real Qt window inside a local kernel, bound to a notebook's session.

Run ``%gui qt`` first: IPython then runs Qt's event loop between cells, so the window
paints and answers clicks while the notebook keeps working. The window is the desktop
app's own :class:`~explorer.ui.main_window.MainWindow` (map view, transport, narration,
pseudocode) subscribed to the session, so ``session.put("k", 1)`` in a later cell updates
it, and stepping in the window moves the session the notebook sees.

The only module of :mod:`explorer.notebook` allowed to import Qt (``ignore_imports`` in
the forbidden contract of ``pyproject.toml``), and only inside :func:`open_window`.
"""

from __future__ import annotations

from typing import Any

from explorer.model.session import Session

__all__ = ["close_windows", "open_window"]

#: Windows opened from the notebook, kept alive until closed (Qt would delete them with
#: their last Python reference).
_OPEN: list[Any] = []


def open_window(
    session: Session, *, theme: str = "light", size: tuple[int, int] = (1280, 800)
) -> Any:
    """Open the explorer's window on ``session`` and return it (a ``MainWindow``).

    Uses the running ``QApplication`` (``%gui qt`` makes one), or makes one; without
    ``%gui qt`` the window is drawn only when Qt's events are processed. A kernel with no
    display needs ``QT_QPA_PLATFORM=offscreen``."""
    from PyQt6.QtWidgets import QApplication

    from explorer.ui.main_window import MainWindow
    from explorer.ui.theme import apply_theme

    app = QApplication.instance() or QApplication(["explorer-notebook"])
    assert isinstance(app, QApplication)
    apply_theme(app, theme)
    window = MainWindow(session, theme=theme)
    window.animate = False  # the notebook drives it: draw each state at once
    window.resize(*size)
    window.show()
    app.processEvents()
    _OPEN.append(window)
    return window


def close_windows() -> int:
    """Close and delete every window :func:`open_window` opened; returns how many."""
    count = len(_OPEN)
    while _OPEN:
        _OPEN.pop().dispose()
    return count
