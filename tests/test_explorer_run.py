"""The Run view (#13, first part): whole workloads run by ``engine run-csv`` in a worker
process, followed live: start, pause, resume, cancel, completion, charts, outputs, the
Prometheus endpoint, bad input mid-file, and ``explorer --run ... --exit-when-done``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from cli_helpers import ROOT, assert_ok, run_engine, write_rows
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QApplication

from engine.observe.schema import MetricsTick
from explorer.model.jump import jump_in
from explorer.model.run import RunRequest, TickFollower, WorkloadRun, count_rows
from explorer.model.run_series import RunSeries
from explorer.model.run_sources import MIXES, generate_argv
from explorer.model.stall import StallStats
from explorer.ui.main_window import MainWindow


@pytest.fixture(scope="module")
def workloads(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("run-view")
    files = {"small": folder / "small.csv", "long": folder / "long.csv"}
    for name, ops in (("small", "50000"), ("long", "3000000")):
        code, _, err = run_engine("generate-csv", "--ops", ops, "--seed", "5",
                                  "--outfile", files[name])
        assert code == 0, err
    bad = folder / "bad.csv"
    with open(files["small"], encoding="utf-8") as source, open(bad, "w", encoding="utf-8") as out:
        for number, line in enumerate(source):
            out.write("fly,K1,\n" if number == 40_000 else line)
    files["bad"] = bad
    return files


def _wait(run: WorkloadRun, limit: float = 120) -> None:
    deadline = time.monotonic() + limit
    while not run.finished and time.monotonic() < deadline:
        run.poll()
        time.sleep(0.02)
    assert run.finished, run.state


# ---------------------------------------------------------------------- the model
def test_a_run_gives_the_command_s_summary(workloads: dict[str, Path], tmp_path: Path) -> None:
    run = WorkloadRun(RunRequest(workloads["small"], backend="robinhood",
                                 metrics_out_dir=tmp_path))
    run.start()
    ticks: list[dict[str, object]] = []
    deadline = time.monotonic() + 120
    while not run.finished and time.monotonic() < deadline:
        ticks += run.poll()
        time.sleep(0.02)
    ticks += run.poll()
    assert run.state == "succeeded" and run.exit_code == 0
    code, out, err = run_engine("--json", "--backend", "robinhood", "run-csv", "--csv",
                                workloads["small"])
    cli = assert_ok(out, "run-csv")
    assert run.summary is not None
    for key in ("total_ops", "ops", "final_size", "get_hits", "final_backend", "final_stats"):
        assert run.summary[key] == cli[key], key
    assert run.total_rows == 50_000 and run.ops_done == 50_000
    assert ticks and all(MetricsTick.model_validate(t) for t in ticks)
    code, _, err = run_engine("metrics", "validate", tmp_path / "metrics.ndjson")
    assert code == 0, err


def _process_state(run: WorkloadRun) -> str:
    assert run._process is not None
    with open(f"/proc/{run._process.pid}/stat") as handle:
        return handle.read().rsplit(")", 1)[1].split()[0]


def test_pause_stops_the_worker_and_resume_finishes_it(workloads: dict[str, Path]) -> None:
    run = WorkloadRun(RunRequest(workloads["long"], metrics_every_seconds=0.05))
    run.start()
    try:
        while run.ops_done == 0:
            run.poll()
            time.sleep(0.02)
        run.pause()
        time.sleep(0.2)
        assert run.state == "paused" and _process_state(run) == "T"
        run.poll()
        frozen = run.ops_done
        time.sleep(0.5)
        run.poll()
        assert run.ops_done == frozen
        elapsed = run.elapsed
        time.sleep(0.3)
        assert run.elapsed - elapsed < 0.05  # a pause is not counted as running time
        run.resume()
        assert run.state == "running"
        _wait(run)
        assert run.state == "succeeded" and run.ops_done == 3_000_000
    finally:
        run.close()


@pytest.mark.parametrize("paused", [False, True])
def test_cancel_stops_cleanly_and_keeps_the_ticks(
    workloads: dict[str, Path], tmp_path: Path, paused: bool
) -> None:
    run = WorkloadRun(RunRequest(workloads["long"], metrics_out_dir=tmp_path,
                                 metrics_every_seconds=0.05))
    run.start()
    while run.ops_done == 0:
        run.poll()
        time.sleep(0.02)
    if paused:
        run.pause()
    run.cancel()
    _wait(run)
    assert run.state == "cancelled" and run.exit_code == 130
    assert run.error is not None and run.error["error"] == "Interrupted"
    lines = (tmp_path / "metrics.ndjson").read_text().splitlines()
    assert lines and all(json.loads(line)["schema"] == "metrics.v1" for line in lines)


def test_bad_input_mid_file_fails_with_the_row(workloads: dict[str, Path]) -> None:
    run = WorkloadRun(RunRequest(workloads["bad"], metrics_every_ops=1000))
    run.start()
    _wait(run)
    assert run.state == "failed" and run.exit_code == 2
    assert run.error is not None and run.error["error"] == "BadInput"
    assert "row 40000" in run.error["detail"] and "'op'" in run.error["detail"]
    assert 30_000 <= run.ops_done < 40_000  # what ran so far is known
    run.close()


def test_tick_follower_reads_only_complete_lines(tmp_path: Path) -> None:
    path = tmp_path / "m.ndjson"
    follower = TickFollower(path)
    assert follower.read() == []
    tick = {"schema": "metrics.v1", "ops": 1}
    path.write_text(json.dumps(tick) + "\n" + '{"schema": "metr')
    assert follower.read() == [tick]
    with open(path, "a") as handle:
        handle.write('ics.v1", "ops": 2}\nnot json\n')
    assert follower.read() == [{"schema": "metrics.v1", "ops": 2}]
    assert follower.skipped == 1


def test_count_rows(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "w.csv", [("put", "a", "1")] * 7)
    assert count_rows(path) == 7
    (tmp_path / "no-newline.csv").write_bytes(b"op,key,value\nput,a,1\nget,a,")
    assert count_rows(tmp_path / "no-newline.csv") == 2
    assert count_rows(tmp_path / "missing.csv") is None


def test_series_stay_bounded_and_keep_their_span() -> None:
    series = RunSeries(max_points=100)
    ticks = [
        {"schema": "metrics.v1", "t": i * 0.01, "ops": i * 1000, "load_factor": 0.5,
         "max_probe": 3, "tombstone_ratio": 0.0, "latency_ns": {"get": {"p99": 2000.0}},
         "events": [{"type": "resize", "op": i * 1000 - 5, "old_capacity": 8,
                     "new_capacity": 16}] if i % 50 == 0 else [],
         "probe_hist": [[1, i]], "backend": "robinhood"}
        for i in range(1, 10_001)
    ]
    for start in range(0, len(ticks), 97):
        series.add(ticks[start:start + 97])
    assert len(series.ops) <= 100
    assert series.ops[0] == 1000 and series.ops[-1] == 10_000_000
    assert all(len(v) == len(series.ops) for v in series.latency_us.values())
    assert series.throughput[-1] == pytest.approx(100_000, rel=0.01)
    assert len(series.markers) == 200 and series.markers[0].kind == "resize"
    assert series.marker_near(50_000 - 5 + 300, within=1000) == series.markers[0]
    assert series.value_at("no-such-series", 0) is None
    assert series.value_at("get.p99", 5_000_000) == pytest.approx(2.0)


def test_stall_stats() -> None:
    stats = StallStats()
    for value in [0.5] * 98 + [20.0, 70.0]:
        stats.record(value)
    assert stats.max_ms == 70.0
    assert stats.percentile(0.98) <= 1.0 and stats.percentile(0.99) == 21.0
    assert stats.summary()["beats"] == 100


# ---------------------------------------------------------------------- the view
@pytest.fixture
def window(qtbot):  # type: ignore[no-untyped-def]
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1024, 768)
    win.show()
    qtbot.waitExposed(win)
    win.pages.setCurrentWidget(win.run_view)
    yield win
    win.close()


def _finish(qtbot, view, limit_ms: int = 120_000) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: view.run is not None and view.run.finished, timeout=limit_ms)


def test_the_view_runs_pauses_resumes_and_charts(window, qtbot, workloads) -> None:  # type: ignore[no-untyped-def]
    view = window.run_view
    view.csv.setText(str(workloads["long"]))
    qtbot.mouseClick(view.start_button, Qt.MouseButton.LeftButton)
    assert view.run is not None and not view.start_button.isEnabled()
    qtbot.waitUntil(lambda: view.series.ticks_seen >= 3, timeout=60_000)
    qtbot.mouseClick(view.pause_button, Qt.MouseButton.LeftButton)
    assert view.run.state == "paused" and view.pause_button.text() == "Resume"
    assert "paused" in view.status.text()
    qtbot.mouseClick(view.pause_button, Qt.MouseButton.LeftButton)
    assert view.run.state == "running"
    _finish(qtbot, view)
    assert view.run.state == "succeeded"
    assert view.progress.value() == 1000
    assert "3,000,000 of 3,000,000" in view.status.text()
    curve = view.charts.curves["throughput"]
    xs, _ = curve.getData()
    assert xs is not None and len(xs) == len(view.series.ops) >= 3
    assert view.last_summary is not None and view.last_summary["total_ops"] == 3_000_000
    assert set(view.last_summary["gui_stall_ms"]) == {"max_ms", "p99_ms", "beats"}


def test_the_view_cancels(window, qtbot, workloads) -> None:  # type: ignore[no-untyped-def]
    view = window.run_view
    view.csv.setText(str(workloads["long"]))
    view.start()
    qtbot.waitUntil(lambda: view.run.ops_done > 0, timeout=60_000)
    qtbot.mouseClick(view.cancel_button, Qt.MouseButton.LeftButton)
    _finish(qtbot, view)
    assert view.run.state == "cancelled"
    assert not view.error.isHidden() and "stopped" in view.error.text()
    assert view.start_button.isEnabled()


def test_bad_input_mid_file_is_shown_and_the_charts_stay(window, qtbot, workloads) -> None:  # type: ignore[no-untyped-def]
    view = window.run_view
    view.csv.setText(str(workloads["bad"]))
    view.start()
    _finish(qtbot, view)
    assert view.run.state == "failed"
    assert "row 40000" in view.error.text()
    assert view.last_summary["error"]["error"] == "BadInput"
    assert window.isVisible()  # a message, not a crash


def test_outputs_from_the_view(window, qtbot, workloads, tmp_path) -> None:  # type: ignore[no-untyped-def]
    view = window.run_view
    view.csv.setText(str(workloads["long"]))
    view.ndjson_on.setChecked(True)
    view.ndjson_dir.setText(str(tmp_path / "ticks"))
    view.prom_on.setChecked(True)
    view.prom_port.setValue(0)
    view.summary_out.setText(str(tmp_path / "summary.json"))
    view.snapshot_out.setText(str(tmp_path / "final.snap"))
    view.start()
    qtbot.waitUntil(lambda: view.run.metrics_url is not None, timeout=60_000)
    assert view.run.metrics_url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(view.run.metrics_url, timeout=5) as response:
        body = response.read().decode()
    assert "hashmap_ops_total" in body
    _finish(qtbot, view)
    assert view.run.state == "succeeded"
    assert str(tmp_path / "ticks") in view.outputs.text()
    code, _, err = run_engine("metrics", "validate", tmp_path / "ticks" / "metrics.ndjson")
    assert code == 0, err
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["total_ops"] == 3_000_000
    code, out, err = run_engine("--json", "inspect-snapshot", "--in", tmp_path / "final.snap")
    assert code == 0 and assert_ok(out, "inspect-snapshot")["size"] == summary["final_size"]


def test_a_missing_workload_is_a_message(window) -> None:  # type: ignore[no-untyped-def]
    view = window.run_view
    view.start()
    assert view.run is None and "choose a workload" in view.error.text()


def test_a_busy_port_is_a_message_not_a_crash(window, qtbot, workloads) -> None:  # type: ignore[no-untyped-def]
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        view = window.run_view
        view.csv.setText(str(workloads["small"]))
        view.prom_on.setChecked(True)
        view.prom_port.setValue(busy.getsockname()[1])
        view.start()
        _finish(qtbot, view)
    assert view.run.state == "failed"
    assert "cannot listen" in view.error.text()


# ---------------------------------------------------------------------- automation
def _png_colours(path: Path) -> int:
    """How many distinct pixel values a PNG has (a blank one has one)."""
    from PyQt6.QtGui import QImage

    image = QImage(str(path))
    assert not image.isNull()
    step = 7
    seen = {
        image.pixel(x, y)
        for x in range(0, image.width(), step)
        for y in range(0, image.height(), step)
    }
    return len(seen)


def test_explorer_run_exit_when_done(workloads: dict[str, Path], tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADHASH_")}
    env.update(PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen")
    summary, shot = tmp_path / "summary.json", tmp_path / "run.png"
    proc = subprocess.run(
        [sys.executable, "-m", "explorer", "--run", str(workloads["small"]), "--backend",
         "chaining", "--metrics-out-dir", str(tmp_path / "m"), "--json-summary-out",
         str(summary), "--screenshot", str(shot), "--exit-when-done", "--size", "1024x768"],
        env=env, capture_output=True, text=True, timeout=180, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(summary.read_text())
    assert data["state"] == "succeeded" and data["total_ops"] == 50_000
    assert data["backend"] == "chaining"
    assert data["gui_stall_ms"]["beats"] > 0
    assert _png_colours(shot) > 20
    assert (tmp_path / "m" / "metrics.ndjson").exists()


def test_explorer_run_with_bad_input_exits_2_with_the_row(
    workloads: dict[str, Path], tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADHASH_")}
    env.update(PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen")
    summary = tmp_path / "summary.json"
    proc = subprocess.run(
        [sys.executable, "-m", "explorer", "--run", str(workloads["bad"]), "--json-summary-out",
         str(summary), "--exit-when-done"],
        env=env, capture_output=True, text=True, timeout=180, check=False,
    )
    assert proc.returncode == 2
    data = json.loads(summary.read_text())
    assert data["state"] == "failed" and "row 40000" in data["error"]["detail"]
    assert "Traceback" not in proc.stderr



# ---------------------------------------------------------------------- jump into a moment
@pytest.mark.parametrize("backend", ["robinhood", "chaining", "adaptive"])
def test_the_jump_in_state_equals_a_straight_replay_of_the_prefix(
    workloads: dict[str, Path], tmp_path: Path, backend: str
) -> None:
    first_op = 31_337
    jump = jump_in(workloads["small"], first_op, backend=backend)
    lines = workloads["small"].read_text().splitlines(keepends=True)
    prefix = tmp_path / "prefix.csv"
    prefix.write_text("".join(lines[:first_op]))  # the header and 31,336 rows
    snap = tmp_path / "prefix.snap"
    code, _, err = run_engine("--backend", backend, "run-csv", "--csv", prefix,
                              "--snapshot-out", snap)
    assert code == 0, err
    import engine

    assert jump.start.layout() == engine.load_snapshot(snap).layout()
    assert len(jump.operations) == 200
    row = lines[first_op].strip().split(",")
    assert (jump.operations[0].op, jump.operations[0].key) == (row[0], row[1])


def test_a_marker_jumps_to_the_operation_that_caused_it(window, qtbot, workloads) -> None:  # type: ignore[no-untyped-def]
    view = window.run_view
    view.csv.setText(str(workloads["small"]))
    view.backend.setCurrentText("robinhood")
    view.start()
    _finish(qtbot, view)
    resize = next(m for m in view.series.markers if m.kind == "resize" and m.op > 1000)
    view.charts._marker_clicked(None, [_Spot(resize)], None)
    qtbot.waitUntil(lambda: window.pages.currentIndex() == 0, timeout=30_000)
    session = window.session
    assert session.title.startswith(f"Operation {resize.op + 1:,}")
    assert session.timeline.record(0).structural == ("resize",)
    assert len(session.timeline) == 200
    before = session.timeline.state_before(0)
    assert len(before) > 0  # the run's map at that moment, not an empty one
    after_first = session.timeline.state_before(1)
    assert before.capacity < after_first.capacity  # the resize happens in operation 1


class _Spot:
    def __init__(self, marker: object) -> None:
        self.marker = marker

    def data(self) -> object:
        return self.marker


def test_jumping_past_the_end_is_a_message(window, qtbot, workloads) -> None:  # type: ignore[no-untyped-def]
    view = window.run_view
    view.csv.setText(str(workloads["small"]))
    view.start()
    _finish(qtbot, view)
    window.jump_to(10_000_000)
    qtbot.waitUntil(lambda: "Cannot jump" in view.status.text(), timeout=30_000)
    assert window.pages.currentIndex() == 1


# ---------------------------------------------------------------------- other sources
@pytest.mark.parametrize("mix", sorted(MIXES))
def test_every_mix_generates_a_valid_workload(mix: str, tmp_path: Path) -> None:
    out = tmp_path / "w.csv"
    argv = generate_argv(mix, 2000, 500, 7, out)
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    code, out_text, err = run_engine("--json", "run-csv", "--csv", out, "--dry-run")
    assert code == 0, err
    assert assert_ok(out_text, "run-csv")["rows"] == 2000


def test_the_view_generates_what_the_command_generates(window, tmp_path) -> None:  # type: ignore[no-untyped-def]
    view = window.run_view
    target = tmp_path / "from-view.csv"
    view.generate("ycsb-b", 20_000, 1000, 3, target)  # no event loop here: runs at once
    assert view.csv.text() == str(target)
    code, _, err = run_engine("generate-csv", "--outfile", tmp_path / "cli.csv", "--ops",
                              "20000", "--key-space", "1000", "--seed", "3", "--preset", "ycsb-b")
    assert code == 0, err
    assert target.read_bytes() == (tmp_path / "cli.csv").read_bytes()


def test_the_view_watches_a_growing_ndjson_file(window, qtbot, workloads, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ticks_dir = tmp_path / "elsewhere"
    code, _, err = run_engine("run-csv", "--csv", workloads["small"], "--metrics-out-dir",
                              ticks_dir, "--metrics-every-ops", "5000")
    assert code == 0, err
    lines = (ticks_dir / "metrics.ndjson").read_text().splitlines(keepends=True)
    growing = tmp_path / "growing.ndjson"
    growing.write_text("".join(lines[:3]))
    view = window.run_view
    view.watch_source(str(growing))
    assert view.series.ticks_seen == 3 and view.cancel_button.text() == "Stop watching"
    with open(growing, "a") as handle:
        handle.write("".join(lines[3:]))
    qtbot.waitUntil(lambda: view.series.ticks_seen == len(lines), timeout=10_000)
    assert view.series.ops[-1] == 50_000
    view.cancel()
    assert view.watch is None and view.start_button.isEnabled()


def test_the_view_watches_an_engine_serve_endpoint(window, qtbot, workloads, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from engine.observe.server import MetricsStore, serve

    ticks_dir = tmp_path / "served"
    code, _, err = run_engine("run-csv", "--csv", workloads["small"], "--metrics-out-dir",
                              ticks_dir, "--metrics-every-ops", "5000")
    assert code == 0, err
    running = serve(MetricsStore(str(ticks_dir / "metrics.ndjson")), "127.0.0.1", 0, token=b"t")
    server = next(running)
    try:
        view = window.run_view
        view.watch_source(server.url, "t")
        qtbot.waitUntil(lambda: view.series.ticks_seen >= 10, timeout=10_000)
        assert view.series.ops[-1] == 50_000
        view.stop_watching()
        view.watch_source(server.url, "wrong")
        qtbot.waitUntil(lambda: "401" in view.error.text(), timeout=10_000)
        view.stop_watching()
    finally:
        running.close()
    view.watch_source("nowhere/metrics.ndjson")
    assert "no such file" in view.error.text() and view.watch is None


def test_finished_runs_fill_the_runs_table(window, qtbot, workloads) -> None:  # type: ignore[no-untyped-def]
    view = window.run_view
    view.csv.setText(str(workloads["small"]))
    for backend in ("chaining", "robinhood"):
        view.backend.setCurrentText(backend)
        view.start()
        _finish(qtbot, view)
    table = view.runs_table
    assert table.rowCount() == 2
    assert [table.item(r, 1).text() for r in range(2)] == ["succeeded", "succeeded"]
    assert table.item(0, 0).text().startswith("chaining") and table.item(1, 2).text() == "50,000"
    assert len(view.charts.overlays) == 1  # the first run's throughput, overlaid


def test_settings_are_edited_and_checked_as_the_engine_checks_them(  # type: ignore[no-untyped-def]
    window, tmp_path
) -> None:
    from explorer.ui.run_dialogs import SettingsDialog

    target = tmp_path / "run.toml"
    dialog = SettingsDialog('backend = "robinhood"\n[robinhood]\nmax_load_factor = 3\n', target)
    dialog.check_and_accept()
    assert not dialog.problem.isHidden() and "max_load_factor" in dialog.problem.text()
    assert not target.exists()  # nothing is kept until it is valid
    dialog.editor.setPlainText('backend = "robinhood"\n[robinhood]\nmax_load_factor = 0.7\n')
    dialog.check_and_accept()
    assert dialog.result() == dialog.DialogCode.Accepted and "0.7" in target.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["run.toml"]


def test_a_run_with_edited_settings_uses_them(window, qtbot, workloads, tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "run.toml"
    config.write_text('[robinhood]\ncapacity = 65536\n')
    view = window.run_view
    view.csv.setText(str(workloads["small"]))
    view.backend.setCurrentText("robinhood")
    view.config.setText(str(config))
    view.start()
    _finish(qtbot, view)
    assert view.run.state == "succeeded"
    assert view.run.summary["final_stats"]["capacity"] == 65536  # no resize was needed


def test_an_unwritable_output_folder_is_a_message(window, qtbot, workloads, tmp_path) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    view = window.run_view
    view.csv.setText(str(workloads["small"]))
    view.ndjson_on.setChecked(True)
    view.ndjson_dir.setText(str(blocker / "ticks"))  # a folder inside a file
    view.start()
    _finish(qtbot, view)
    assert view.run.state == "failed" and view.run.exit_code == 5
    assert "cannot create" in view.error.text()
    assert window.isVisible()


def test_a_click_on_the_throughput_chart_asks_for_that_operation(window, qtbot, workloads) -> None:  # type: ignore[no-untyped-def]
    from PyQt6.QtCore import QPointF

    view = window.run_view
    view.csv.setText(str(workloads["small"]))
    view.start()
    _finish(qtbot, view)
    charts = view.charts
    charts.redraw()  # the last ticks drawn and the ranges settled (a timer does it live)
    QApplication.processEvents()
    plot = charts.plots["throughput"]
    point = plot.vb.mapViewToScene(QPointF(25_000, view.series.throughput[-1]))

    class Click:
        def scenePos(self) -> QPointF:
            return point

    asked: list[int] = []
    charts.jump_requested.disconnect()
    charts.jump_requested.connect(asked.append)
    charts._scene_clicked(Click())
    assert len(asked) == 1 and abs(asked[0] - 25_001) < 500  # within a pixel's worth
