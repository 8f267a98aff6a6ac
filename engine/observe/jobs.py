"""Jobs: workloads run for other programs through ``engine serve``'s job API.

A job is one ``engine`` command (``run-csv`` or ``profile``) run in a worker process of
its own, exactly as the command line runs it: the request is validated by pydantic
models (its settings by :class:`engine.settings.models.Settings`, the CLI's own), written
to the job's folder as a TOML file, and the worker is ``engine --json --config FILE ...``.
So a job and a shell command give the same summary, errors and exit codes.

Bounds: at most ``max_queued`` jobs wait (then a submission is refused), at most
``workers`` run at once, the last ``keep`` finished jobs are remembered. Workload paths
are relative to the configured workload folders and must stay inside one of them after
every symbolic link is resolved. Cancelling a running job sends its worker SIGTERM,
which the command turns into a clean stop (exit 130, complete tick lines kept).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from engine.errors import BadInputError, IOFailureError, PolicyError
from engine.settings.models import Settings, describe_validation_error, settings_to_toml

__all__ = [
    "Job",
    "JobManager",
    "JobState",
    "ProfileRequest",
    "RunCsvRequest",
    "WorkloadFolders",
    "engine_command",
]

JobState = Literal["queued", "running", "succeeded", "failed", "cancelled"]
FINISHED: frozenset[str] = frozenset({"succeeded", "failed", "cancelled"})
Backend = Literal["adaptive", "chaining", "robinhood"]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    csv: str = Field(
        min_length=1,
        max_length=4096,
        description="workload path, relative to one of the server's workload folders",
    )
    backend: Backend | None = Field(None, description="overrides settings.backend")
    settings: dict[str, Any] = Field(
        default_factory=dict,
        description="settings as in engine.toml (docs/config.md), validated as the CLI does",
    )


class RunCsvRequest(_Request):
    """``POST /api/jobs/run-csv``: replay a workload (``engine run-csv``)."""

    metrics_every_ops: int = Field(10_000, ge=1, le=1_000_000_000, description="a tick every N ops")
    metrics_every_seconds: float = Field(1.0, gt=0, le=3600, description="and every S seconds")


class ProfileRequest(_Request):
    """``POST /api/jobs/profile``: which backend suits a workload (``engine profile``)."""

    sample: int = Field(5000, ge=1, le=10_000_000, description="operations to replay")


@dataclass
class Job:
    """One job's request, state and outcome."""

    id: str
    kind: Literal["run-csv", "profile"]
    request: dict[str, Any]
    folder: Path
    argv: list[str]
    state: JobState = "queued"
    submitted: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    exit_code: int | None = None
    result: Any = None
    error: dict[str, Any] | None = None
    process: subprocess.Popen[bytes] | None = None
    cancel_requested: bool = False

    @property
    def ticks_path(self) -> Path:
        return self.folder / "metrics.ndjson"

    def progress(self) -> dict[str, Any]:
        """Operations done so far (from the last complete tick) and time elapsed."""
        ops = 0
        if self.kind == "run-csv":
            ops = _last_tick_ops(self.ticks_path)
        if isinstance(self.result, dict) and "total_ops" in self.result:
            ops = int(self.result["total_ops"])
        end = self.finished or time.time()
        return {
            "ops_done": ops,
            "elapsed_seconds": round(end - self.started, 3) if self.started else 0.0,
        }

    def to_dict(self, detail: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "state": self.state,
            "submitted": self.submitted,
            "started": self.started,
            "finished": self.finished,
            "progress": self.progress(),
        }
        if detail:
            out.update(
                request=self.request,
                exit_code=self.exit_code,
                result=self.result,
                error=self.error,
                ticks_url=f"/api/jobs/{self.id}/ticks" if self.kind == "run-csv" else None,
            )
        return out


def _last_tick_ops(path: Path) -> int:
    """The ``ops`` of the last complete line of a growing NDJSON file. O(last 64 KiB)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 65536))
            tail = handle.read()
    except OSError:
        return 0
    for line in reversed(tail.split(b"\n")[:-1]):  # the last piece may be unfinished
        try:
            return int(json.loads(line)["ops"])
        except (ValueError, KeyError, TypeError):
            continue
    return 0


class WorkloadFolders:
    """The folders jobs may read workloads from; resolves a request's path inside them."""

    def __init__(self, folders: list[str]) -> None:
        self.folders = [Path(os.path.realpath(f)) for f in folders]
        for folder in self.folders:
            if not folder.is_dir():
                raise BadInputError(f"workload folder {str(folder)!r} is not a folder")

    def resolve(self, relative: str) -> Path:
        """The real path of ``relative`` inside a workload folder; BadInputError when it
        is absolute, climbs out with ``..`` or a symbolic link, or is not a file."""
        if "\0" in relative or os.path.isabs(relative) or relative.startswith("~"):
            raise BadInputError(f"csv {relative!r} must be a path relative to a workload folder")
        for folder in self.folders:
            candidate = Path(os.path.realpath(folder / relative))
            if os.path.commonpath([candidate, folder]) != str(folder):
                raise BadInputError(f"csv {relative!r} points outside the workload folders")
            if candidate.is_file():
                return candidate
        raise BadInputError(f"csv {relative!r} is not a file in the workload folders")


def engine_command() -> list[str]:
    """How to start the ``engine`` command from this interpreter: ``python -m engine.cli``,
    or in a frozen build the ``engine`` program beside the running one (itself, when that
    is ``engine``)."""
    if getattr(sys, "frozen", False):
        return [str(Path(sys.executable).with_name("engine"))]
    return [sys.executable, "-m", "engine.cli"]


class JobManager:
    """Queue, run and remember jobs. Thread-safe; the API calls it from its event loop.

    ``workers`` jobs run at once in their own processes; ``max_queued`` may wait."""

    def __init__(
        self,
        workloads: WorkloadFolders,
        jobs_dir: str | None = None,
        *,
        workers: int = 1,
        max_queued: int = 16,
        keep: int = 100,
    ) -> None:
        self.workloads = workloads
        #: a folder this manager made itself is removed by :meth:`close`
        self._own_root = jobs_dir is None
        self.root = Path(jobs_dir) if jobs_dir else Path(tempfile.mkdtemp(prefix="engine-jobs-"))
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise IOFailureError(
                f"cannot create the jobs folder {jobs_dir!r}: {exc.strerror}"
            ) from None
        self.workers = workers
        self.max_queued = max_queued
        self.keep = keep
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._queue: deque[Job] = deque()
        self._running: set[str] = set()
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._closed = False
        self._dispatcher = threading.Thread(target=self._dispatch, name="engine-jobs", daemon=True)
        self._dispatcher.start()

    # ------------------------------------------------------------------ submit
    def submit(self, kind: Literal["run-csv", "profile"], body: Any) -> Job:
        """Validate ``body`` and queue the job. Raises BadInputError (bad body, path or
        settings) or PolicyError (queue full)."""
        model = RunCsvRequest if kind == "run-csv" else ProfileRequest
        try:
            request = model.model_validate(body)
        except ValidationError as exc:
            raise BadInputError(f"invalid job: {describe_validation_error(exc)}") from None
        csv = self.workloads.resolve(request.csv)
        try:
            settings = Settings.model_validate(request.settings)
        except ValidationError as exc:
            raise BadInputError(
                f"invalid settings: {describe_validation_error(exc)}", "see docs/config.md"
            ) from None
        job_id = uuid.uuid4().hex[:16]
        folder = self.root / job_id
        argv = [*engine_command(), "--json", "--config", str(folder / "engine.toml")]
        if request.backend:
            argv += ["--backend", request.backend]
        if isinstance(request, RunCsvRequest):
            argv += [
                *("run-csv", "--csv", str(csv), "--metrics-out-dir", str(folder)),
                *("--metrics-every-ops", str(request.metrics_every_ops)),
                *("--metrics-every-seconds", repr(request.metrics_every_seconds)),
            ]
        else:
            argv += ["profile", "--csv", str(csv), "--sample", str(request.sample)]
        job = Job(job_id, kind, request.model_dump(), folder, argv)
        with self._lock:
            if self._closed:
                raise PolicyError("the server is shutting down")
            if len(self._queue) >= self.max_queued:
                raise PolicyError(
                    f"{len(self._queue)} jobs are already waiting (the limit)",
                    "try again when one has started",
                )
            folder.mkdir()
            (folder / "engine.toml").write_text(settings_to_toml(settings), encoding="utf-8")
            self._jobs[job_id] = job
            self._queue.append(job)
            self._forget_old()
            self._wake.notify_all()
        return job

    def _forget_old(self) -> None:
        finished = [j for j in self._jobs.values() if j.state in FINISHED]
        for job in finished[: max(0, len(finished) - self.keep)]:
            del self._jobs[job.id]

    # ------------------------------------------------------------------ queries
    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def list(self) -> list[Job]:
        with self._lock:
            return list(self._jobs.values())

    @property
    def ready(self) -> bool:
        with self._lock:
            return not self._closed and self._dispatcher.is_alive()

    def cancel(self, job_id: str) -> Job | None:
        """Cancel a queued job, or stop a running one (SIGTERM: a clean stop)."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.state in FINISHED:
                return job
            job.cancel_requested = True
            if job.state == "queued":
                self._queue.remove(job)
                job.state, job.finished = "cancelled", time.time()
            elif job.process is not None and job.process.poll() is None:
                job.process.send_signal(signal.SIGTERM)
            return job

    # ------------------------------------------------------------------ running
    def _dispatch(self) -> None:
        while True:
            with self._lock:
                while not self._closed and (
                    not self._queue or len(self._running) >= self.workers
                ):
                    self._wake.wait()
                if self._closed:
                    return
                job = self._queue.popleft()
                job.state, job.started = "running", time.time()
                self._running.add(job.id)
                try:
                    job.process = subprocess.Popen(
                        job.argv,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE,
                        stdin=subprocess.DEVNULL,
                        env=_worker_environment(),
                    )
                except OSError as exc:
                    envelope = {"error": "IO", "detail": f"cannot start the worker: {exc}"}
                    self._finish(job, 5, b"", json.dumps(envelope).encode())
                    continue
            threading.Thread(target=self._wait, args=(job,), daemon=True).start()

    def _wait(self, job: Job) -> None:
        assert job.process is not None
        out, err = job.process.communicate()
        with self._lock:
            self._finish(job, job.process.returncode, out, err)

    def _finish(self, job: Job, code: int, out: bytes, err: bytes) -> None:
        """Record the outcome (the lock is held)."""
        job.exit_code, job.finished = code, time.time()
        self._running.discard(job.id)
        job.process = None
        if code == 0:
            try:
                job.result = json.loads(out)["result"]
                job.state = "succeeded"
            except (ValueError, KeyError, TypeError):
                job.state = "failed"
                job.error = {"error": "Internal", "detail": "the worker printed no result"}
        elif job.cancel_requested and code < 0 and _last_envelope(err) is None:
            # SIGTERM reached the worker before it could turn it into a clean stop (it
            # was still starting): the same outcome as a cancel a moment later
            job.state, job.exit_code = "cancelled", 130
            job.error = {"error": "Interrupted",
                         "detail": "cancelled before the worker began its run"}
        else:
            job.state = "cancelled" if job.cancel_requested else "failed"
            job.error = _last_envelope(err) or {
                "error": "Internal",
                "detail": f"the worker exited with status {code}",
            }
        self._wake.notify_all()

    def close(self) -> None:
        """Stop dispatching, stop running workers, wait for them briefly, and remove the
        jobs folder if this manager made it (a --jobs-dir given by the user stays)."""
        with self._lock:
            self._closed = True
            running = [j for j in self._jobs.values() if j.process is not None]
            for job in running:
                job.cancel_requested = True
                if job.process is not None and job.process.poll() is None:
                    job.process.send_signal(signal.SIGTERM)
            self._wake.notify_all()
        deadline = time.monotonic() + 10
        for job in running:
            process = job.process
            if process is not None:
                try:
                    process.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    process.kill()
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)


def _worker_environment() -> dict[str, str]:
    """The server's environment without ``ADHASH_*``: a job's settings are its request's
    alone (they would override its TOML file), and the server's token stays here."""
    return {k: v for k, v in os.environ.items() if not k.upper().startswith("ADHASH_")}


def _last_envelope(stderr: bytes) -> dict[str, Any] | None:
    for line in reversed(stderr.decode("utf-8", "replace").splitlines()):
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if isinstance(data, dict) and "error" in data:
            return data
    return None
