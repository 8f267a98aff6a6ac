"""The explorer's views inside Jupyter, without Qt.

``from explorer.notebook import show``; ``show(m)`` draws an engine map, ``show(events)``
the micro-steps of a trace taken with :func:`trace`, ``show(session)`` a session's
current step; ``%load_ext explorer.notebook`` makes every engine map display as its
picture. Pictures are self-contained SVG (no script), so a notebook keeps them in a static
export. ``Stepper`` (an anywidget) steps through operations with the desktop app's
narration and pseudocode; ``charts`` draws a run's ``metrics.v1`` ticks, from its NDJSON
file or from a job on an ``engine serve`` (``connect(url).job(id)``), and ``LiveCharts``
redraws a job's charts as its ticks arrive;
``open_window`` opens the Qt explorer bound to a session (under ``%gui qt``).

May import ``engine`` and ``explorer.model``; never Qt or ``explorer.ui`` (a forbidden
contract in ``pyproject.toml``), except :mod:`explorer.notebook.window`, which loads the
Qt window only when :func:`open_window` is called. The widget and chart modules load on
first use, so ``import explorer.notebook`` needs neither anywidget nor IPython (nor httpx,
which the live charts import when they first contact a server).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from explorer.notebook.extension import load_ipython_extension, unload_ipython_extension
from explorer.notebook.sessions import NotebookSession, session
from explorer.notebook.views import Picture, Trace, picture, show, trace

if TYPE_CHECKING:
    from explorer.notebook.live import (
        JobError,
        LiveCharts,
        LiveJob,
        connect,
        live_charts,
        serve_jobs,
    )
    from explorer.notebook.run_charts import RunCharts, charts, generate_workload, run_workload
    from explorer.notebook.stepper import Stepper

__all__ = [
    "JobError",
    "LiveCharts",
    "LiveJob",
    "NotebookSession",
    "Picture",
    "RunCharts",
    "Stepper",
    "Trace",
    "charts",
    "connect",
    "generate_workload",
    "live_charts",
    "load_ipython_extension",
    "open_window",
    "picture",
    "run_workload",
    "serve_jobs",
    "session",
    "show",
    "trace",
    "unload_ipython_extension",
]

_LAZY = {
    "RunCharts": "explorer.notebook.run_charts",
    "charts": "explorer.notebook.run_charts",
    "generate_workload": "explorer.notebook.run_charts",
    "run_workload": "explorer.notebook.run_charts",
    "Stepper": "explorer.notebook.stepper",
    "JobError": "explorer.notebook.live",
    "LiveCharts": "explorer.notebook.live",
    "LiveJob": "explorer.notebook.live",
    "connect": "explorer.notebook.live",
    "live_charts": "explorer.notebook.live",
    "serve_jobs": "explorer.notebook.live",
}


def open_window(session: Any, **options: Any) -> Any:
    """Open the explorer's Qt window bound to ``session`` (run ``%gui qt`` first); see
    :func:`explorer.notebook.window.open_window`."""
    from explorer.notebook import window

    return window.open_window(session, **options)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'explorer.notebook' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
