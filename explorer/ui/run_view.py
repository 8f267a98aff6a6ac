"""The Run view: run a whole workload through ``engine run-csv`` and watch it live.

Bound to :class:`explorer.model.run.WorkloadRun` (the worker process) and
:class:`explorer.model.run_series.RunSeries` (the charts' data); a 100 ms timer polls
the run, so the GUI thread only reads new tick lines and redraws.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
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
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from explorer.model.run import RunRequest, WorkloadRun
from explorer.model.run_series import RunSeries
from explorer.model.run_sources import (
    FileWatch,
    ServeWatch,
    TickSource,
    WatchError,
    generate_argv,
)
from explorer.ui.background import run_in_background
from explorer.ui.palette import Palette
from explorer.ui.run_charts import RunCharts
from explorer.ui.run_dialogs import GenerateDialog, SettingsDialog, WatchDialog
from explorer.ui.stall_meter import StallMeter

__all__ = ["RunView"]

_POLL_MS = 100
_REDRAW_S = 0.25
_BACKENDS = ("adaptive", "chaining", "robinhood")


def _p99_us(run: WorkloadRun, s: dict[str, Any]) -> str:
    p99 = s.get("latency_ms", {}).get("overall", {}).get("p99")
    return f"{p99 * 1000:.1f}" if isinstance(p99, int | float) else "–"


#: the Runs table: header, and how a finished run fills it
_RUN_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("run", lambda r, s: f"{r.request.backend} · {r.request.csv.name}"),
    ("state", lambda r, s: r.state),
    ("operations", lambda r, s: f"{r.ops_done:,}"),
    ("ops/s", lambda r, s: f"{r.ops_per_second:,.0f}"),
    ("final backend", lambda r, s: str(s.get("final_backend", "–"))),
    ("keys", lambda r, s: f"{s.get('final_size', 0):,}" if "final_size" in s else "–"),
    ("migrations", lambda r, s: str(s.get("migrations_triggered", "–"))),
    ("p99 µs", _p99_us),
    ("GUI stall p99 ms", lambda r, s: str(s.get("gui_stall_ms", {}).get("p99_ms", "–"))),
)


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
    generated = pyqtSignal(str)  # the path of a workload just generated
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
        browse = QPushButton("Open…")
        browse.setToolTip("open a workload CSV")
        browse.clicked.connect(self._browse)
        self.generate_button = QPushButton("Generate…")
        self.generate_button.setToolTip("make a workload with the engine's generator")
        self.generate_button.clicked.connect(self.ask_generate)
        self.watch_button = QPushButton("Watch…")
        self.watch_button.setToolTip("follow a run started elsewhere (NDJSON or engine serve)")
        self.watch_button.clicked.connect(self.ask_watch)
        picks = QHBoxLayout()
        for button in (browse, self.generate_button, self.watch_button):
            picks.addWidget(button)
        grid.addWidget(QLabel("workload"), 0, 0)
        grid.addWidget(self.csv, 0, 1, 1, 3)
        grid.addLayout(picks, 0, 4)
        self.backend = QComboBox()
        self.backend.addItems(_BACKENDS)
        self.config = QLineEdit()
        self.config.setPlaceholderText("settings TOML (optional; engine config init writes one)")
        grid.addWidget(QLabel("backend"), 1, 0)
        grid.addWidget(self.backend, 1, 1)
        self.settings_button = QPushButton("Edit…")
        self.settings_button.setToolTip("edit the settings, checked as the engine checks them")
        self.settings_button.clicked.connect(self.edit_settings)
        grid.addWidget(QLabel("settings"), 1, 2)
        grid.addWidget(self.config, 1, 3)
        grid.addWidget(self.settings_button, 1, 4)
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
        self.runs_table = QTableWidget(0, len(_RUN_COLUMNS))
        self.runs_table.setHorizontalHeaderLabels([c for c, _ in _RUN_COLUMNS])
        self.runs_table.horizontalHeader().setStretchLastSection(True)  # type: ignore[union-attr]
        self.runs_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.results = QTabWidget()
        self.results.addTab(self.charts, "Charts")
        self.results.addTab(self.runs_table, "Runs")
        layout.addWidget(self.results, 1)
        self.watch: TickSource | None = None
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
        if (self.run is not None and not self.run.finished) or self.watch is not None:
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
        if self.watch is not None:
            self.stop_watching()
            return
        if self.run is not None:
            self.run.cancel()
        self._update_buttons()

    def poll(self) -> None:
        if self.watch is not None:
            self._poll_watch()
            return
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

    def edit_settings(self) -> None:
        """Edit the chosen settings file, or new settings from the defaults."""
        from engine.settings.models import default_config_text

        current = self.config.text().strip()
        target = Path(current) if current else Path(tempfile.gettempdir()) / "explorer-run.toml"
        try:
            text = target.read_text(encoding="utf-8") if current else default_config_text()
        except OSError as exc:
            self._show_error(f"Cannot read {target}: {exc.strerror}")
            return
        dialog = SettingsDialog(text, target, self)
        if dialog.exec():
            self.config.setText(str(target))
            self.error.hide()

    # ------------------------------------------------------------------ elsewhere
    def ask_generate(self) -> None:
        dialog = GenerateDialog(self)
        if dialog.exec():
            self.generate(dialog.mix.currentText(), dialog.ops.value(), dialog.keys.value(),
                          dialog.seed.value(), Path(dialog.outfile.text()))

    def generate(self, mix: str, ops: int, keys: int, seed: int, outfile: Path) -> None:
        """Write a workload with ``engine generate-csv`` off the GUI thread, then open it."""
        argv = generate_argv(mix, ops, keys, seed, outfile)
        self.generate_button.setEnabled(False)
        self.status.setText(f"Generating {ops:,} operations ({mix}) into {outfile}\u2026")

        def work() -> subprocess.CompletedProcess[str]:
            return subprocess.run(argv, capture_output=True, text=True, check=False)

        def done(proc: subprocess.CompletedProcess[str]) -> None:
            self.generate_button.setEnabled(True)
            if proc.returncode != 0:
                self._show_error(f"Could not generate the workload: {proc.stderr.strip()}")
                return
            self.error.hide()
            self.csv.setText(str(outfile))
            self.status.setText(f"Generated {ops:,} operations ({mix}): press Start")
            self.generated.emit(str(outfile))

        def failed(exc: Exception) -> None:
            self.generate_button.setEnabled(True)
            self._show_error(f"Could not generate the workload: {exc}")

        run_in_background(work, done, failed)

    def ask_watch(self) -> None:
        dialog = WatchDialog(self)
        if dialog.exec():
            self.watch_source(dialog.source.text(), dialog.token.text() or None)

    def watch_source(self, where: str, token: str | None = None) -> None:
        """Follow ticks from a file or an ``engine serve`` address; Cancel stops."""
        if self.run is not None and not self.run.finished:
            self._show_error("A run is going: cancel it before watching another")
            return
        try:
            where = where.strip()
            if where.startswith(("http://", "https://")):
                source: TickSource = ServeWatch(where, token)
            else:
                source = FileWatch(Path(where))
        except WatchError as exc:
            self._show_error(str(exc))
            return
        self.error.hide()
        self.watch = source
        self.series = RunSeries(label=source.label)
        self.status.setText(source.label)
        self.timer.start()
        self._update_buttons()
        self.poll()

    def _poll_watch(self) -> None:
        assert self.watch is not None
        try:
            ticks = self.watch.read()
        except WatchError as exc:
            self._show_error(str(exc))
            return
        if ticks:
            self.series.add(ticks)
            self.charts.show_series(self.series)
            last = self.series.last or {}
            self.status.setText(
                f"{self.watch.label}: {int(last.get('ops', 0)):,} operations, "
                f"{self.series.ticks_seen} ticks, backend {self.series.backend}"
            )

    def stop_watching(self) -> None:
        if self.watch is not None:
            self.watch = None
            self.timer.stop()
            self.status.setText("Stopped watching")
            self._update_buttons()

    def _add_to_table(self, run: WorkloadRun, summary: dict[str, Any]) -> None:
        row = self.runs_table.rowCount()
        self.runs_table.insertRow(row)
        for column, (_, make) in enumerate(_RUN_COLUMNS):
            self.runs_table.setItem(row, column, QTableWidgetItem(make(run, summary)))

    def _finish(self, run: WorkloadRun) -> None:
        summary: dict[str, Any] = dict(run.summary or {})
        summary["gui_stall_ms"] = self.meter.stats.summary()
        summary["state"] = run.state
        if run.error is not None:
            summary["error"] = run.error
        self.last_summary = summary
        self._add_to_table(run, summary)
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
        watching = self.watch is not None
        self.start_button.setEnabled(not running and not watching)
        self.pause_button.setEnabled(running)
        self.cancel_button.setEnabled(running or watching)
        self.cancel_button.setText("Stop watching" if watching else "Cancel")
        paused = self.run is not None and self.run.state == "paused"
        self.pause_button.setText("Resume" if paused else "Pause")

    def summary_json(self) -> str:
        return json.dumps(self.last_summary or {}, indent=2, sort_keys=True)

    def closeEvent(self, event: Any) -> None:
        if self.run is not None:
            self.run.close()
        super().closeEvent(event)
