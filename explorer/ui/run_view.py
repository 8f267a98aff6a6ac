"""The Run view: run a whole workload through ``engine run-csv`` and watch it live.

Bound to :class:`explorer.model.run.WorkloadRun` (the worker process) and
:class:`explorer.model.run_series.RunSeries` (the charts' data); a 100 ms timer polls
the run, so the GUI thread only reads new tick lines and redraws.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QTimer, pyqtSignal
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from explorer.model.run import RunRequest, WorkloadRun
from explorer.model.run_series import RunSeries
from explorer.ui.palette import Palette
from explorer.ui.run_charts import RunCharts
from explorer.ui.stall_meter import StallMeter

__all__ = ["RunView"]

_POLL_MS = 100
_REDRAW_S = 0.25
_BACKENDS = ("adaptive", "chaining", "robinhood")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}:{secs:02d}"
    return f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}"


class RunView(QWidget):
    """Controls, progress, outputs and live charts of one run at a time."""

    finished = pyqtSignal(str)  # the run's final state
    jump_requested = pyqtSignal(int)  # an operation of the run to step through

    def __init__(self, palette: Palette, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.run: WorkloadRun | None = None
        self.series = RunSeries()
        self.previous: list[RunSeries] = []
        self.meter = StallMeter(parent=self)
        self.last_summary: dict[str, Any] | None = None
        self._drawn_at = 0.0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)

        grid = QGridLayout()
        self.csv = QLineEdit()
        self.csv.setPlaceholderText("a workload CSV of any size (streamed, never loaded whole)")
        browse = QPushButton("Open workload…")
        browse.clicked.connect(self._browse)
        grid.addWidget(QLabel("workload"), 0, 0)
        grid.addWidget(self.csv, 0, 1, 1, 3)
        grid.addWidget(browse, 0, 4)
        self.backend = QComboBox()
        self.backend.addItems(_BACKENDS)
        self.config = QLineEdit()
        self.config.setPlaceholderText("settings TOML (optional; engine config init writes one)")
        grid.addWidget(QLabel("backend"), 1, 0)
        grid.addWidget(self.backend, 1, 1)
        grid.addWidget(QLabel("settings"), 1, 2)
        grid.addWidget(self.config, 1, 3, 1, 2)
        self.ndjson_on = QCheckBox("metrics.v1 NDJSON into")
        self.ndjson_dir = QLineEdit()
        self.ndjson_dir.setPlaceholderText("folder")
        self.prom_on = QCheckBox("Prometheus /metrics on 127.0.0.1 port")
        self.prom_port = QSpinBox()
        self.prom_port.setRange(0, 65535)
        self.prom_port.setSpecialValueText("any free")
        grid.addWidget(self.ndjson_on, 2, 0, 1, 2)
        grid.addWidget(self.ndjson_dir, 2, 2, 1, 3)
        grid.addWidget(self.prom_on, 3, 0, 1, 2)
        grid.addWidget(self.prom_port, 3, 2)
        self.summary_out = QLineEdit()
        self.summary_out.setPlaceholderText("summary JSON (optional)")
        self.snapshot_out = QLineEdit()
        self.snapshot_out.setPlaceholderText("final snapshot (optional)")
        grid.addWidget(self.summary_out, 4, 0, 1, 2)
        grid.addWidget(self.snapshot_out, 4, 2, 1, 3)
        layout.addLayout(grid)

        buttons = QHBoxLayout()
        self.start_button = QPushButton("Start")
        self.pause_button = QPushButton("Pause")
        self.cancel_button = QPushButton("Cancel")
        for button, slot in (
            (self.start_button, self.start),
            (self.pause_button, self.toggle_pause),
            (self.cancel_button, self.cancel),
        ):
            button.clicked.connect(slot)
            buttons.addWidget(button)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        buttons.addWidget(self.progress, 1)
        layout.addLayout(buttons)
        self.status = QLabel("Open a workload and press Start.")
        self.status.setObjectName("subtitle")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.outputs = QLabel()
        self.outputs.setObjectName("subtitle")
        self.outputs.setWordWrap(True)
        self.outputs.setTextInteractionFlags(self.outputs.textInteractionFlags())
        layout.addWidget(self.outputs)
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        self.charts = RunCharts(palette)
        self.charts.jump_requested.connect(self.jump_requested)
        layout.addWidget(self.charts, 1)
        self.timer = QTimer(self)
        self.timer.setInterval(_POLL_MS)
        self.timer.timeout.connect(self.poll)
        self._update_buttons()

    # ------------------------------------------------------------------ inputs
    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a workload", "", "CSV (*.csv);;All (*)")
        if path:
            self.csv.setText(path)

    def request(self) -> RunRequest:
        """The run the controls describe; ValueError names what is missing."""
        csv = self.csv.text().strip()
        if not csv:
            raise ValueError("choose a workload CSV first")
        config = self.config.text().strip()
        folder = self.ndjson_dir.text().strip()
        if self.ndjson_on.isChecked() and not folder:
            raise ValueError("choose a folder for the metrics.v1 NDJSON, or untick it")
        return RunRequest(
            csv=Path(csv),
            backend=self.backend.currentText(),
            config=Path(config) if config else None,
            metrics_out_dir=Path(folder) if self.ndjson_on.isChecked() else None,
            metrics_port=self.prom_port.value() if self.prom_on.isChecked() else None,
            summary_out=Path(s) if (s := self.summary_out.text().strip()) else None,
            snapshot_out=Path(s) if (s := self.snapshot_out.text().strip()) else None,
        )

    # ------------------------------------------------------------------ control
    def start(self) -> None:
        if self.run is not None and not self.run.finished:
            return
        try:
            request = self.request()
        except ValueError as exc:
            self._show_error(str(exc))
            return
        if self.run is not None:
            self.previous.append(self.series)  # the finished run stays for comparison
            self.previous = self.previous[-2:]
            self.run.close()
        self.series = RunSeries(label=f"{request.backend} · {request.csv.name}")
        self.charts.clear_overlays()
        for old, colour in zip(self.previous, ("#999999", "#cc79a7"), strict=False):
            self.charts.overlay(old, colour)
        self.error.hide()
        self.last_summary = None
        self.run = WorkloadRun(request)
        try:
            self.run.start()
        except OSError as exc:
            self.run = None
            self._show_error(f"could not start the run: {exc}")
            return
        self.meter.start()
        self.timer.start()
        self.poll()

    def toggle_pause(self) -> None:
        run = self.run
        if run is None or run.finished:
            return
        if run.state == "paused":
            run.resume()
        else:
            run.pause()
        self._update_buttons()
        self._show_progress()

    def cancel(self) -> None:
        if self.run is not None:
            self.run.cancel()
        self._update_buttons()

    def poll(self) -> None:
        run = self.run
        if run is None:
            return
        ticks = run.poll()
        if ticks:
            self.series.add(ticks)
        now = time.monotonic()
        if self.series.last is not None and (
            run.finished or now - self._drawn_at >= _REDRAW_S
        ):  # redrawing costs ~10 ms: at most 4 times a second
            self.charts.show_series(self.series)
            self._drawn_at = now
        self._show_progress()
        if run.finished:
            self.timer.stop()
            self.meter.stop()
            self._finish(run)
        self._update_buttons()

    def _finish(self, run: WorkloadRun) -> None:
        summary: dict[str, Any] = dict(run.summary or {})
        summary["gui_stall_ms"] = self.meter.stats.summary()
        summary["state"] = run.state
        if run.error is not None:
            summary["error"] = run.error
        self.last_summary = summary
        if run.error is not None:
            what = "stopped" if run.state == "cancelled" else "failed"
            self._show_error(f"The run {what}: {run.error.get('detail', run.error)}")
        self.finished.emit(run.state)

    # ------------------------------------------------------------------ showing
    def _show_progress(self) -> None:
        run = self.run
        if run is None:
            return
        total = run.total_rows
        if total:
            self.progress.setValue(int(1000 * min(1.0, run.ops_done / total)))
        elif run.finished and run.state == "succeeded":
            self.progress.setValue(1000)
        state = {"paused": "paused", "running": "running"}.get(run.state, run.state)
        of = f" of {total:,}" if total else ""
        self.status.setText(
            f"{state}: {run.ops_done:,}{of} operations · {run.ops_per_second:,.0f} ops/s · "
            f"elapsed {_duration(run.elapsed)} · left {_duration(run.seconds_left)}"
        )
        parts = []
        if run.request.metrics_out_dir is not None:
            parts.append(f"ticks: {run.ticks_path}")
        if run.metrics_url:
            parts.append(f"Prometheus: {run.metrics_url}")
        if run.request.summary_out is not None:
            parts.append(f"summary: {run.request.summary_out}")
        if run.request.snapshot_out is not None:
            parts.append(f"snapshot: {run.request.snapshot_out}")
        if run.finished and run.summary:
            s = run.summary
            parts.append(
                f"final: {s.get('final_backend')} · {s.get('final_size', 0):,} keys · "
                f"{s.get('migrations_triggered', 0)} migration(s) · "
                f"p99 {s.get('latency_ms', {}).get('overall', {}).get('p99', 0) * 1000:.1f} µs"
            )
        self.outputs.setText("  ·  ".join(parts))

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()

    def _update_buttons(self) -> None:
        running = self.run is not None and not self.run.finished
        self.start_button.setEnabled(not running)
        self.pause_button.setEnabled(running)
        self.cancel_button.setEnabled(running)
        paused = self.run is not None and self.run.state == "paused"
        self.pause_button.setText("Resume" if paused else "Pause")

    def summary_json(self) -> str:
        return json.dumps(self.last_summary or {}, indent=2, sort_keys=True)

    def closeEvent(self, event: Any) -> None:
        if self.run is not None:
            self.run.close()
        super().closeEvent(event)
