"""The Run view's targets (#13): GUI stalls while stepping, throughput, memory.

    QT_QPA_PLATFORM=offscreen python bench/run_view.py [--ops 1000000] [--big-ops 10000000]

1. **Stalls.** A ``--ops`` workload (zipf, 100,000 keys) runs from the window while a
   timer steps the map view every 40 ms (the robinhood-basics demo, from the start again
   at its end), as a student stepping during a run would. The view's 5 ms heartbeat
   gives the event loop's stalls. Targets: max ≤ 50 ms, p99 ≤ 16 ms.
2. **Throughput.** The window's run (start to finish, seen from the GUI) against the same
   file through ``engine run-csv`` with the same flags, bracketed: the command runs just
   before and just after, and the ratio is over their mean. Target: ≥ 0.80.
3. **Memory.** Peak RSS of the worker and of the GUI process for ``--ops`` and
   ``--big-ops`` operations over the same 20,000 keys (uniform, so both runs end with
   equal maps and only the number of operations differs). Target: the 10M run within
   10% of the 1M run, beyond the bounded chart buffers.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / ".data"


def _workload(ops: int, mix: str = "zipf") -> Path:
    """zipf 1.1 over 100,000 keys; or ``uniform`` over 20,000 keys, which every run of a
    million operations or more fills, so that memory compares runs of equal maps."""
    path = DATA / f"run-view-{mix}-{ops}.csv"
    flags = (
        ["--key-space", "100000", "--key-skew", "1.1"]
        if mix == "zipf"
        else ["--key-space", "20000", "--distribution", "uniform"]
    )
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "engine.cli", "generate-csv", "--outfile", str(path),
             "--ops", str(ops), "--seed", "13", *flags],
            check=True, capture_output=True,
        )
    return path


def _hwm_kb(pid: int | str = "self") -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cli_seconds(csv: Path) -> float:
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "engine.cli", "--json", "--log-level", "info", "--backend",
             "adaptive", "run-csv", "--csv", str(csv), "--metrics-out-dir", folder,
             "--metrics-every-ops", "10000", "--metrics-every-seconds", "0.25"],
            check=True, capture_output=True,
        )
        return time.perf_counter() - start


def _window_run(app, window, csv: Path, step: bool) -> dict[str, float]:  # type: ignore[no-untyped-def]
    from PyQt6.QtCore import QEventLoop, QTimer

    from explorer.model.demos import load_demo

    view = window.run_view
    view.csv.setText(str(csv))
    view.backend.setCurrentText("adaptive")
    load_demo(window.session, "robinhood-basics")
    stepper = QTimer()
    stepper.setInterval(40)

    def step_map() -> None:
        if not window.session.step_forward():
            window.session.to_start()

    stepper.timeout.connect(step_map)
    worker_peak = 0
    watcher = QTimer()
    watcher.setInterval(50)

    def watch() -> None:
        nonlocal worker_peak
        if view.run is not None and view.run._process is not None:
            worker_peak = max(worker_peak, _hwm_kb(view.run._process.pid))

    watcher.timeout.connect(watch)
    loop = QEventLoop()
    view.finished.connect(lambda _state: loop.quit())
    started = time.perf_counter()
    view.start()
    if step:
        stepper.start()
    watcher.start()
    loop.exec()
    seconds = time.perf_counter() - started
    stepper.stop()
    watcher.stop()
    view.finished.disconnect()
    stall = view.meter.stats.summary()
    assert view.run is not None and view.run.state == "succeeded", view.run and view.run.error
    return {
        "seconds": seconds,
        "ops": float(view.run.ops_done),
        "max_ms": float(stall["max_ms"]),
        "p99_ms": float(stall["p99_ms"]),
        "worker_kb": float(worker_peak),
        "gui_kb": float(_hwm_kb()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=1_000_000)
    parser.add_argument("--big-ops", type=int, default=10_000_000)
    parser.add_argument("--skip-memory", action="store_true", help="no --big-ops run")
    args = parser.parse_args()
    from PyQt6.QtWidgets import QApplication

    from explorer.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = MainWindow()
    window.resize(1280, 800)
    window.show()
    app.processEvents()
    csv = _workload(args.ops)
    before = _cli_seconds(csv)
    run = _window_run(app, window, csv, step=True)
    after = _cli_seconds(csv)
    cli = (before + after) / 2
    print(f"{args.ops:,} operations (zipf 1.1, 100,000 keys), adaptive, metrics on")
    print(f"GUI stalls while stepping the map every 40 ms: max {run['max_ms']:.1f} ms "
          f"(target 50), p99 {run['p99_ms']:.1f} ms (target 16)")
    print(f"throughput: window {run['seconds']:.2f} s, engine run-csv {before:.2f} / "
          f"{after:.2f} s; ratio {cli / run['seconds']:.2f} of the command (target >= 0.80)")
    if not args.skip_memory:
        small = _window_run(app, window, _workload(args.ops, "uniform"), step=False)
        big = _window_run(app, window, _workload(args.big_ops, "uniform"), step=False)
        print(f"memory (uniform over 20,000 keys): worker peak {small['worker_kb'] / 1024:.1f} "
              f"MB ({args.ops:,}) and {big['worker_kb'] / 1024:.1f} MB ({args.big_ops:,}): "
              f"{big['worker_kb'] / small['worker_kb']:.3f}x; GUI process peak "
              f"{small['gui_kb'] / 1024:.0f} MB, then {big['gui_kb'] / 1024:.0f} MB after "
              f"the longer run: {big['gui_kb'] / small['gui_kb']:.3f}x (target <= 1.10)")
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
