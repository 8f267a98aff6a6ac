"""``explorer --run CSV --exit-when-done``: run a workload in the Run view, then write the
summary (the engine's, plus the GUI's event-loop stalls) and the screenshot, and exit."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from PyQt6.QtCore import QEventLoop, QTimer
from PyQt6.QtWidgets import QApplication

from engine.errors import EngineError
from engine.store.atomic import atomic_write_text

__all__ = ["finish_automated_run"]

EXIT_OK, EXIT_BAD_INPUT, EXIT_IO = 0, 2, 5


def finish_automated_run(app: QApplication, window: Any, args: argparse.Namespace) -> int:
    """Start the run the view's controls describe, wait for its end without blocking
    the event loop, write the outputs; the exit code follows the run's."""
    view = window.run_view
    loop = QEventLoop()
    view.finished.connect(lambda _state: loop.quit())
    view.start()
    run = view.run
    if run is None:  # the controls described no run (a message is on screen)
        print(f"explorer: error: {view.error.text()}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if not run.finished:
        QTimer.singleShot(0, view.poll)
        loop.exec()
    app.processEvents()
    summary = view.last_summary or {}
    code = EXIT_OK if run.state == "succeeded" else (run.exit_code or EXIT_BAD_INPUT)
    if run.error is not None:
        print(f"explorer: the run {run.state}: {json.dumps(run.error)}", file=sys.stderr)
    if args.json_summary_out:
        summary = {**summary, "ops_done": run.ops_done, "csv": str(run.request.csv)}
        try:
            atomic_write_text(args.json_summary_out, json.dumps(summary, indent=2) + "\n")
        except EngineError as exc:
            print(f"explorer: error: {exc.detail}", file=sys.stderr)
            return EXIT_IO
    if args.screenshot:
        window.resize(*args.size)
        app.processEvents()
        try:
            window.save_screenshot(args.screenshot)
        except OSError as exc:
            print(f"explorer: error: {exc}", file=sys.stderr)
            return EXIT_IO
    window.dispose()
    return code
