"""Smoke test of the PyInstaller binary (``pyinstaller.spec``, issue #15).

Builds the one-folder binary, or reuses the finished build of the same sources in
``.cache/binary/`` (``freeze.build``), then runs both of its programs and compares them
with the source ones: versions, a replay's summary, error envelopes and exit codes,
snapshots and settings, the Prometheus endpoint, the job API, the explorer's Run view
(which starts the frozen ``engine`` beside it) and an offscreen screenshot.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import ROOT, assert_envelope, run_engine

import engine
import explorer

pytestmark = pytest.mark.slow

SIZE_BUDGET = 150_000_000  # bytes: the 150 MB for the folder
TIMEOUT = 120


@pytest.fixture(scope="module")
def binary() -> Path:
    if importlib.util.find_spec("PyInstaller") is None:
        pytest.skip("PyInstaller is not installed (uv sync --all-extras installs [packaging])")
    from freeze.build import ensure_binary

    return ensure_binary()


def _env(**extra: str) -> dict[str, str]:
    """This environment without ADHASH_* overrides or Python path settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.upper().startswith("ADHASH_") and k not in {"PYTHONPATH", "PYTHONHOME"}
    }
    env.pop("QT_QPA_PLATFORM", None)
    env.update(extra)
    return env


def _run(program: Path, *args: str | Path, cwd: Path | None = None, **env: str) -> Any:
    return subprocess.run(
        [str(program), *map(str, args)],
        cwd=cwd,
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def _counts(summary: Any) -> Any:
    """A run summary without what depends on time or on where the file lies."""
    timing = {"elapsed_seconds", "ops_per_second", "latency_ms", "latency_sample", "csv",
              "gui_stall_ms", "state", "ops_done"}  # fmt: skip
    if isinstance(summary, dict):
        return {
            k: _counts(v)
            for k, v in summary.items()
            if k not in timing and not k.endswith(("_seconds", "_ms"))
        }
    if isinstance(summary, list):
        return [_counts(v) for v in summary]
    return summary


def _source_summary(name: str, tmp_path: Path) -> Any:
    """The summary of the source engine's ``run-csv`` of the sample workload ``name``."""
    out = tmp_path / f"source-{name}.json"
    csv = ROOT / "resources" / "workloads" / name
    code, _, err = run_engine("run-csv", "--csv", csv, "--json-summary-out", out)
    assert code == 0, err
    return json.loads(out.read_text())


def _workload(binary: Path, name: str) -> Path:
    """A sample workload as the binary ships it (``_internal/resources/workloads``)."""
    path = binary / "_internal" / "resources" / "workloads" / name
    assert path.is_file(), f"{name} is not in the binary's resources"
    return path


# --------------------------------------------------------------------------- the folder


def test_the_folder_holds_both_programs_within_the_size_budget(binary: Path) -> None:
    for name in ("explorer", "engine", "adaptive-hash-map-explorer.desktop"):
        assert (binary / name).is_file(), name
    size = sum(p.stat().st_size for p in binary.rglob("*") if p.is_file() and not p.is_symlink())
    assert size <= SIZE_BUDGET, f"{size / 1e6:.1f} MB"
    qt = binary / "_internal" / "PyQt6"
    modules = {p.name.split(".")[0] for p in qt.glob("Qt*.abi3.so")}
    assert modules == {"QtCore", "QtGui", "QtWidgets", "QtOpenGL", "QtOpenGLWidgets"}
    assert not (qt / "Qt6" / "translations").exists()
    plugins = {p.parent.name for p in (qt / "Qt6" / "plugins").rglob("*.so")}
    assert {"platforms", "xcbglintegrations"} <= plugins
    assert not plugins & {"imageformats", "iconengines", "multimedia", "sqldrivers", "tls"}


def test_the_desktop_entry_names_the_installed_programs(binary: Path) -> None:
    import configparser
    import shutil

    path = binary / "adaptive-hash-map-explorer.desktop"
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]
    entry.read(path, encoding="utf-8")
    desktop = entry["Desktop Entry"]
    assert desktop["Type"] == "Application"
    assert desktop["Exec"] == "/opt/adaptive-hash-map-explorer/explorer"
    assert desktop["Icon"] == "/opt/adaptive-hash-map-explorer/adaptive-hash-map-explorer.svg"
    assert (binary / Path(desktop["Icon"]).name).read_text().lstrip().startswith("<?xml")
    validate = shutil.which("desktop-file-validate")
    if validate:  # desktop-file-utils, where installed
        done = subprocess.run([validate, str(path)], capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr


# --------------------------------------------------------------------------- engine


def test_engine_version(binary: Path) -> None:
    done = _run(binary / "engine", "--version")
    expected = f"engine {engine.__version__} (pure build)"  # the binary freezes the source
    assert (done.returncode, done.stdout.strip()) == (0, expected)


def test_explorer_version(binary: Path) -> None:
    done = _run(binary / "explorer", "--version")
    assert (done.returncode, done.stdout.strip()) == (0, f"explorer {explorer.__version__}")


def test_run_csv_summary_counts_equal_the_source_run(binary: Path, tmp_path: Path) -> None:
    csv = _workload(binary, "zipf-reads.csv")
    frozen = _run(binary / "engine", "run-csv", "--csv", csv,
                  "--json-summary-out", tmp_path / "frozen.json")  # fmt: skip
    assert frozen.returncode == 0, frozen.stderr
    got = json.loads((tmp_path / "frozen.json").read_text())
    want = _source_summary("zipf-reads.csv", tmp_path)
    assert got["total_ops"] == 500
    assert _counts(got) == _counts(want)


@pytest.mark.parametrize(
    ("args", "code", "exit_code"),
    [
        (["run-csv", "--csv", "missing.csv"], "IO", 5),
        (["run-csv", "--csv", "bad.csv"], "BadInput", 2),
        (["run-csv"], "BadInput", 2),
        (["inspect-snapshot", "--in", "broken.snap"], None, None),
        (["--config", "bad.toml", "config", "show"], None, None),
    ],
)
def test_errors_are_the_same_envelopes_and_exit_codes(
    binary: Path, tmp_path: Path, args: list[str], code: str | None, exit_code: int | None
) -> None:
    (tmp_path / "bad.csv").write_text("op,key,value\nfrobnicate,k,1\n")
    (tmp_path / "broken.snap").write_bytes(b"not a snapshot")
    (tmp_path / "bad.toml").write_text("[robinhood]\nmax_load_factor = 7\n")
    frozen = _run(binary / "engine", *args, cwd=tmp_path)
    source_code, _, source_err = run_engine(*args, cwd=tmp_path)
    assert frozen.returncode == source_code
    assert frozen.returncode in (2, 3, 4, 5)
    if exit_code is not None:
        assert frozen.returncode == exit_code
    envelope = assert_envelope(frozen.stderr, code or json.loads(source_err)["error"])
    assert envelope == json.loads(source_err)


def test_snapshots_and_settings_work_alike(binary: Path, tmp_path: Path) -> None:
    frozen = binary / "engine"
    for key, value in (("apple", "1"), ("kiwi", "2")):
        put = _run(frozen, "put", key, value, "--snapshot", "map.snap.gz", cwd=tmp_path)
        assert put.returncode == 0, put.stderr
    got = _run(frozen, "get", "kiwi", "--snapshot", "map.snap.gz", cwd=tmp_path)
    assert (got.returncode, got.stdout.strip()) == (0, "2")
    # the source engine reads the frozen one's snapshot, and the other way round
    code, out, err = run_engine("--json", "items", "--snapshot", "map.snap.gz", cwd=tmp_path)
    assert code == 0, err
    frozen_items = _run(frozen, "--json", "items", "--snapshot", "map.snap.gz", cwd=tmp_path)
    assert json.loads(frozen_items.stdout) == json.loads(out)
    assert _run(frozen, "config", "init", cwd=tmp_path).returncode == 0
    shown = _run(frozen, "--config", "engine.toml", "config", "show", cwd=tmp_path)
    code, out, _ = run_engine("--config", "engine.toml", "config", "show", cwd=tmp_path)
    assert (shown.returncode, shown.stdout) == (code, out)


def test_metrics_files_and_the_prometheus_endpoint(binary: Path, tmp_path: Path) -> None:
    csv = _workload(binary, "zipf-reads.csv")
    frozen = binary / "engine"
    done = _run(frozen, "run-csv", "--csv", csv, "--metrics-out-dir", tmp_path / "m")
    assert done.returncode == 0, done.stderr
    valid = _run(frozen, "metrics", "validate", tmp_path / "m" / "metrics.ndjson")
    assert valid.returncode == 0, valid.stderr
    proc = subprocess.Popen(
        [str(frozen), "--log-level", "info", "run-csv", "--csv", str(csv),
         "--metrics-port", "0", "--metrics-linger", "60"],
        env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        port = None
        for _ in range(20):
            found = re.search(r"http://127\.0\.0\.1:(\d+)/metrics", proc.stderr.readline())
            if found:
                port = int(found.group(1))
                break
        assert port, "the frozen engine did not log its metrics address"
        body = ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "hashmap_ops_total 500.0" not in body:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                    body = r.read().decode()
            except OSError:
                time.sleep(0.1)
        assert "hashmap_ops_total 500.0" in body
        assert 'hashmap_backend_info{name="chaining"} 1.0' in body
    finally:
        proc.kill()
        proc.wait()


@pytest.fixture
def served(binary: Path, tmp_path: Path) -> Iterator[str]:
    """The frozen ``engine serve`` on the binary's own sample workloads."""
    proc = subprocess.Popen(
        [str(binary / "engine"), "--json", "serve", "--workload-dir",
         str(binary / "_internal" / "resources" / "workloads"),
         "--jobs-dir", str(tmp_path / "jobs"), "--port", "0"],
        env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        yield json.loads(proc.stdout.readline())["result"]["url"]
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
        assert "Traceback" not in err


def test_a_job_runs_the_frozen_engine(served: str, tmp_path: Path) -> None:
    request = urllib.request.Request(
        f"{served}/api/jobs/run-csv",
        data=json.dumps({"csv": "mixed-small.csv"}).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as r:
        job = json.load(r)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{served}/api/jobs/{job['id']}", timeout=10) as r:
            state = json.load(r)
        if state["state"] not in {"queued", "running"}:
            break
        time.sleep(0.1)
    assert state["state"] == "succeeded", state
    assert _counts(state["result"]) == _counts(_source_summary("mixed-small.csv", tmp_path))


# --------------------------------------------------------------------------- explorer


def _pixels(path: Path) -> tuple[int, int, set[int], list[int]]:
    """Width, height, the distinct colours of a grid of sample points, and the samples."""
    from PyQt6.QtGui import QImage

    image = QImage(str(path))
    assert not image.isNull(), f"{path} is not a readable PNG"
    samples = [
        image.pixel(x, y)
        for y in range(0, image.height(), 6)
        for x in range(0, image.width(), 6)
    ]
    return image.width(), image.height(), set(samples), samples


def test_explorer_screenshot_offscreen_is_not_blank(binary: Path, tmp_path: Path) -> None:
    args = ["--demo", "robinhood-basics", "--showcase", "--size", "1024x768"]
    frozen = _run(binary / "explorer", *args, "--screenshot", tmp_path / "frozen.png",
                  QT_QPA_PLATFORM="offscreen")  # fmt: skip
    assert frozen.returncode == 0, frozen.stderr
    assert "Traceback" not in frozen.stderr
    assert (tmp_path / "frozen.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, colours, samples = _pixels(tmp_path / "frozen.png")
    assert (width, height) == (1024, 768)
    assert len(colours) >= 30, f"only {len(colours)} colours: blank?"
    # the same picture as the source app draws
    source = subprocess.run(
        [sys.executable, "-m", "explorer", *args, "--screenshot", str(tmp_path / "source.png")],
        env=_env(QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT)),
        capture_output=True, text=True, timeout=TIMEOUT, check=False,
    )  # fmt: skip
    assert source.returncode == 0, source.stderr
    *_, source_samples = _pixels(tmp_path / "source.png")
    differ = sum(a != b for a, b in zip(samples, source_samples, strict=True))
    assert differ <= len(samples) // 100, f"{differ} of {len(samples)} sample points differ"


def test_explorer_opens_a_real_x11_window_under_xvfb(binary: Path, tmp_path: Path) -> None:
    """On a desktop the binary's Qt loads its xcb platform plugin (with the libraries a
    Debian desktop has, not bundled) and draws the window: here under Xvfb, a real X
    server, with the platform forced to xcb (Qt stops with an error when it cannot load
    it, rather than falling back)."""
    if shutil.which("xvfb-run") is None:
        pytest.skip("xvfb-run is not installed (Debian: xvfb; tests/run.sh installs it)")
    shot = tmp_path / "x11.png"
    done = subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 1280x800x24", str(binary / "explorer"),
         "--demo", "robinhood-basics", "--showcase", "--size", "1024x768",
         "--screenshot", str(shot)],
        env=_env(QT_QPA_PLATFORM="xcb"), capture_output=True, text=True, timeout=TIMEOUT,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    width, height, colours, _samples = _pixels(shot)
    assert (width, height) == (1024, 768) and len(colours) >= 30


def test_explorer_run_view_uses_the_frozen_engine(binary: Path, tmp_path: Path) -> None:
    csv = _workload(binary, "mixed-small.csv")
    done = _run(binary / "explorer", "--run", csv, "--json-summary-out", tmp_path / "run.json",
                "--exit-when-done", QT_QPA_PLATFORM="offscreen")  # fmt: skip
    assert done.returncode == 0, done.stderr
    got = json.loads((tmp_path / "run.json").read_text())
    assert _counts(got) == _counts(_source_summary("mixed-small.csv", tmp_path))


def test_explorer_bad_input_exit_code(binary: Path, tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("op,key,value\nfrobnicate,k,1\n")
    args = ["--workload", str(tmp_path / "bad.csv"), "--screenshot", str(tmp_path / "x.png")]
    frozen = _run(binary / "explorer", *args, QT_QPA_PLATFORM="offscreen")
    source = subprocess.run(
        [sys.executable, "-m", "explorer", *args],
        env=_env(QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT)),
        capture_output=True, text=True, timeout=TIMEOUT, check=False,
    )  # fmt: skip
    assert frozen.returncode == source.returncode == 2
    assert frozen.stderr == source.stderr
