"""A whole workload run for the Run view: ``engine run-csv`` in a worker process.

The run is the engine's own command, not a second replay loop: the worker is
``engine --json [--backend B] [--config F] run-csv --csv CSV --metrics-out-dir DIR ...``,
so its summary, errors, Prometheus names and ``metrics.v1`` ticks are the command
line's. A process rather than a thread because the replay is pure Python: in a thread
it would share the GUI's interpreter lock, slowing both the run and the window; in its
own process it runs at full speed on the other core while the window stays responsive.

The view follows the run through the NDJSON file the worker writes (complete lines
only), which is also how it follows a run started elsewhere (:class:`TickFollower`).
Pause and resume stop and continue the worker (SIGSTOP/SIGCONT); cancel asks it to stop
(SIGTERM), which the command turns into a clean exit 130 that keeps every complete tick.

Qt-free: the view polls :meth:`WorkloadRun.poll` from a timer.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from engine.observe.jobs import engine_command

__all__ = ["RunRequest", "RunState", "TickFollower", "WorkloadRun", "count_rows"]

RunState = Literal["starting", "running", "paused", "succeeded", "failed", "cancelled"]
FINISHED = frozenset({"succeeded", "failed", "cancelled"})
_URL = re.compile(r"serving metrics on (\S+)/metrics")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class RunRequest:
    """What to run, and where its outputs go (None: not written)."""

    csv: Path
    backend: str | None = None
    config: Path | None = None
    metrics_out_dir: Path | None = None  # None: a temporary folder the run removes
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"
    summary_out: Path | None = None
    snapshot_out: Path | None = None
    metrics_every_ops: int = 10_000
    metrics_every_seconds: float = 0.25

    def argv(self, ticks_dir: Path) -> list[str]:
        """The ``engine`` command line for this run (without the program)."""
        out = ["--json", "--log-level", "info"]
        if self.config is not None:
            out += ["--config", str(self.config)]
        if self.backend:
            out += ["--backend", self.backend]
        out += ["run-csv", "--csv", str(self.csv), "--metrics-out-dir", str(ticks_dir)]
        out += ["--metrics-every-ops", str(self.metrics_every_ops)]
        out += ["--metrics-every-seconds", repr(self.metrics_every_seconds)]
        if self.metrics_port is not None:
            out += ["--metrics-port", str(self.metrics_port), "--metrics-host", self.metrics_host]
        if self.summary_out is not None:
            out += ["--json-summary-out", str(self.summary_out)]
        if self.snapshot_out is not None:
            out += ["--snapshot-out", str(self.snapshot_out)]
        return out


def count_rows(path: Path) -> int | None:
    """Data rows in a workload file (line ends minus the header), at C speed; None for a
    stream or an unreadable file. An upper bound when rows span lines (quoted fields)."""
    try:
        if not path.is_file():
            return None
        lines = 0
        last = b"\n"
        with open(path, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                lines += chunk.count(b"\n")
                last = chunk[-1:]
        if last != b"\n":
            lines += 1
        return max(0, lines - 1)
    except OSError:
        return None


class TickFollower:
    """Complete ``metrics.v1`` lines appended to an NDJSON file since the last read.
    O(new bytes) per call; a half-written last line waits for the next call."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self._partial = b""
        self.skipped = 0

    def read(self) -> list[dict[str, Any]]:
        try:
            with open(self.path, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                if size < self._offset:  # rewritten (retention): start over
                    self._offset, self._partial = 0, b""
                handle.seek(self._offset)
                data = handle.read()
        except OSError:  # not there (yet), or a path that cannot hold it: nothing to read
            return []
        self._offset += len(data)
        data = self._partial + data
        *lines, self._partial = data.split(b"\n")
        ticks = []
        for line in lines:
            if not line.strip():
                continue
            try:
                tick = json.loads(line)
            except ValueError:
                self.skipped += 1
                continue
            if isinstance(tick, dict) and tick.get("schema") == "metrics.v1":
                ticks.append(tick)
            else:
                self.skipped += 1
        return ticks


@dataclass
class WorkloadRun:
    """One run: start it, then :meth:`poll` for new ticks until :attr:`finished`."""

    request: RunRequest
    state: RunState = "starting"
    summary: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    exit_code: int | None = None
    total_rows: int | None = None
    metrics_url: str | None = None
    started_at: float = 0.0
    finished_at: float | None = None
    ops_done: int = 0
    paused_seconds: float = 0.0
    _process: subprocess.Popen[bytes] | None = None
    _stdout: list[bytes] = field(default_factory=list)
    _stderr: list[str] = field(default_factory=list)
    _ticks_dir: Path | None = None
    _own_dir: bool = False
    _follower: TickFollower | None = None
    _paused_at: float | None = None
    _cancelled: bool = False
    _readers: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def ticks_path(self) -> Path:
        assert self._ticks_dir is not None
        return self._ticks_dir / "metrics.ndjson"

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    def start(self) -> None:
        """Start the worker; the row count runs on a thread beside it."""
        request = self.request
        if request.metrics_out_dir is None:
            self._ticks_dir = Path(tempfile.mkdtemp(prefix="explorer-run-"))
            self._own_dir = True
        else:
            self._ticks_dir = request.metrics_out_dir
        self._follower = TickFollower(self.ticks_path)
        env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
        self.started_at = time.monotonic()
        self._process = subprocess.Popen(
            [*engine_command(), *request.argv(self._ticks_dir)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        self.state = "running"
        self._readers = [
            threading.Thread(target=target, daemon=True)
            for target in (self._read_stdout, self._read_stderr)
        ]
        for thread in [*self._readers, threading.Thread(target=self._count, daemon=True)]:
            thread.start()

    def _read_stdout(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        stream = self._process.stdout
        while chunk := stream.read(65536):
            self._stdout.append(chunk)

    def _read_stderr(self) -> None:
        assert self._process is not None and self._process.stderr is not None
        for raw in self._process.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._lock:
                self._stderr.append(line)
                del self._stderr[:-200]  # bounded
            found = _URL.search(line)
            if found:
                self.metrics_url = found.group(1) + "/metrics"

    def _count(self) -> None:
        self.total_rows = count_rows(self.request.csv)

    # ------------------------------------------------------------------ control
    def pause(self) -> None:
        if self.state == "running" and self._process is not None:
            self._process.send_signal(signal.SIGSTOP)
            self.state = "paused"
            self._paused_at = time.monotonic()

    def resume(self) -> None:
        if self.state == "paused" and self._process is not None:
            self._process.send_signal(signal.SIGCONT)
            self.state = "running"
            if self._paused_at is not None:
                self.paused_seconds += time.monotonic() - self._paused_at
                self._paused_at = None

    def cancel(self) -> None:
        process = self._process
        if process is None or self.finished or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        if self.state == "paused":
            process.send_signal(signal.SIGCONT)  # a stopped process handles no signal
        self.state = "running"
        self._cancelled = True

    # ------------------------------------------------------------------ progress
    def poll(self) -> list[dict[str, Any]]:
        """New ticks since the last call; notices the end of the run."""
        ticks = self._follower.read() if self._follower is not None else []
        if ticks:
            self.ops_done = int(ticks[-1]["ops"])
        process = self._process
        if process is not None and not self.finished and process.poll() is not None:
            self._settle(process)
            ticks += self._follower.read() if self._follower is not None else []
            if self.summary is not None:
                self.ops_done = int(self.summary.get("total_ops", self.ops_done))
        return ticks

    def _settle(self, process: subprocess.Popen[bytes]) -> None:
        """Record how the worker ended (its output pipes are drained first)."""
        process.wait()
        for reader in self._readers:  # the pipes close with the process
            reader.join(5)
        self.exit_code = process.returncode
        self.finished_at = time.monotonic()
        out = b"".join(self._stdout)
        if self.exit_code == 0:
            try:
                self.summary = json.loads(out)["result"]
                self.state = "succeeded"
                return
            except (ValueError, KeyError, TypeError):
                self.error = {"error": "Internal", "detail": "the run printed no summary"}
        else:
            self.error = self._envelope() or {
                "error": "Internal",
                "detail": f"the run exited with status {self.exit_code}",
            }
        self.state = "cancelled" if self._cancelled else "failed"

    def _envelope(self) -> dict[str, Any] | None:
        with self._lock:
            lines = list(self._stderr)
        for line in reversed(lines):
            with contextlib.suppress(ValueError):
                data = json.loads(line)
                if isinstance(data, dict) and "error" in data and "detail" in data:
                    return data
        return None

    @property
    def elapsed(self) -> float:
        """Seconds of running, pauses excluded."""
        if not self.started_at:
            return 0.0
        end = self.finished_at or time.monotonic()
        paused = self.paused_seconds
        if self._paused_at is not None:
            paused += end - self._paused_at
        return max(0.0, end - self.started_at - paused)

    @property
    def ops_per_second(self) -> float:
        return self.ops_done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def seconds_left(self) -> float | None:
        if self.total_rows is None or self.ops_per_second <= 0 or self.finished:
            return None
        return max(0.0, (self.total_rows - self.ops_done) / self.ops_per_second)

    def close(self) -> None:
        """Stop the worker if it still runs, and remove a temporary ticks folder."""
        process = self._process
        if process is not None and process.poll() is None:
            if self.state == "paused":
                process.send_signal(signal.SIGCONT)
            process.kill()
            process.wait()
        if self._own_dir and self._ticks_dir is not None:
            import shutil

            shutil.rmtree(self._ticks_dir, ignore_errors=True)
