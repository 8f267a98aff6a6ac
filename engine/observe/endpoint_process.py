"""``run-csv --metrics-port``: the replay's side of an endpoint served by another process.

The replay binds the listening socket itself (a busy port or a bad host fails at once,
and port 0 reports the real port), starts the endpoint process
(:mod:`engine.observe.endpoint_worker`, through the ``engine`` entry point's hidden
:data:`WORKER_FLAG`) with that socket, and does not wait for it: connections queue in
the listen backlog until it serves. It then writes each tick, with the latency counts
it keeps in a :class:`~engine.observe.buckets.LatencyCounts`, as one JSON line to the
process's stdin. So the replay never imports prometheus-client, uvicorn or asyncio, and
a scrape never takes the replay's interpreter lock.

Writes never block: the pipe is non-blocking, and while it is full the newest tick waits
for the line in progress to drain, replacing any tick that waited before it (the latest
tick wins, and a stuck endpoint costs the replay nothing). The endpoint exits when the
pipe closes: when the replay ends, fails or is killed. If it fails, it writes the reason
on its stdout and exits; the replay sees the closed pipe at the next tick (or while it
lingers) and fails with :class:`~engine.errors.IOFailureError` naming the reason.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any, NoReturn

from engine.errors import IOFailureError
from engine.observe.buckets import LatencyCounts
from engine.observe.listen import bind_listener
from engine.observe.metrics import compact_json

__all__ = ["ENDPOINT_NICE", "WORKER_FLAG", "MetricsProcess", "worker_command"]

#: The hidden first argument that makes ``engine`` (or ``python -m engine.cli``) the
#: endpoint process; its one argument is the JSON spec (socket fd, host, logging).
WORKER_FLAG = "--serve-run-metrics"
#: How much nicer than the replay the endpoint process runs (see ``nice(1)``).
ENDPOINT_NICE = 10
_HINT = "see the log above (--log-level info shows the endpoint's own records)"


def worker_command(spec: dict[str, Any]) -> list[str]:
    """How to start the endpoint process: the ``engine`` program beside a frozen build,
    else this interpreter on ``engine.cli``."""
    if getattr(sys, "frozen", False):
        program = os.path.join(os.path.dirname(sys.executable), "engine")
        return [program, WORKER_FLAG, json.dumps(spec)]
    return [sys.executable, "-m", "engine.cli", WORKER_FLAG, json.dumps(spec)]


def _environment() -> dict[str, str]:
    """This environment; when this engine runs from a source tree, that tree first on the
    path, so the endpoint process runs the same engine (an installed engine is found
    anyway, and its site-packages must not go before the standard library)."""
    env = dict(os.environ)
    if not getattr(sys, "frozen", False):
        import engine

        root = os.path.dirname(os.path.dirname(os.path.abspath(engine.__file__)))
        if os.path.basename(root) not in ("site-packages", "dist-packages"):
            rest = env.get("PYTHONPATH")
            env["PYTHONPATH"] = root if not rest else root + os.pathsep + rest
    return env


class MetricsProcess:
    """``/metrics`` on ``host:port`` from an endpoint process, fed by :meth:`publish`.

    ``log`` is the CLI's logging set-up (format, level, file, bytes, backups); the
    process logs with it (on stderr only at ``info`` or ``debug``)."""

    def __init__(
        self,
        host: str,
        port: int,
        log: Sequence[Any] | None = None,
        command: Sequence[str] | None = None,
    ) -> None:
        sock = bind_listener(host, port)
        self.host = host
        self.port: int = sock.getsockname()[1]
        spec = {"fd": sock.fileno(), "host": host, "log": list(log) if log else None}
        verbose = log is not None and str(log[1]) in ("debug", "info")
        try:
            self._child = subprocess.Popen(
                list(command) if command is not None else worker_command(spec),
                pass_fds=(sock.fileno(),),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=None if verbose else subprocess.DEVNULL,
                env=_environment(),
                process_group=0,  # a Ctrl-C reaches the replay alone; it closes the pipe
            )
        except OSError as exc:
            raise IOFailureError(
                f"cannot start the metrics endpoint: {exc.strerror or exc}", _HINT
            ) from None
        finally:
            sock.close()  # the endpoint process holds it now
        # Behind the replay for the CPU: on a busy machine the endpoint's start-up (its
        # imports) must not take the replay's core; a scrape is a few milliseconds.
        with contextlib.suppress(OSError):
            nice = min(19, os.getpriority(os.PRIO_PROCESS, 0) + ENDPOINT_NICE)
            os.setpriority(os.PRIO_PROCESS, self._child.pid, nice)
        assert self._child.stdin is not None and self._child.stdout is not None
        self._pipe = self._child.stdin.fileno()
        self._reasons = self._child.stdout
        os.set_blocking(self._pipe, False)
        self.latency = LatencyCounts()
        self.observe_latency = self.latency.observe
        self._pending = b""  # the unwritten rest of the line being written
        self._waiting: bytes | None = None  # the newest tick, behind the line in progress
        self.dropped = 0  # ticks replaced by a newer one before they could be written
        self._closed = False

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def pid(self) -> int:
        return self._child.pid

    def publish(self, tick: dict[str, Any]) -> None:
        """Hand ``tick`` (and the latency counts so far) to the endpoint without blocking.
        Raises :class:`IOFailureError` if the endpoint has stopped."""
        self.publish_encoded(compact_json(tick))

    def publish_encoded(self, tick_json: str) -> None:
        """:meth:`publish` for a tick already encoded as compact JSON
        (:func:`engine.observe.metrics.compact_json`): the line is the same bytes as
        ``json.dumps({"tick": tick, "latency": ...}, separators=(",", ":"))``."""
        latency = compact_json({"counts": self.latency.counts, "sums": self.latency.sums})
        data = ('{"tick":' + tick_json + ',"latency":' + latency + "}\n").encode()
        if self._pending:
            self.dropped += self._waiting is not None
            self._waiting = data
        else:
            self._pending = data
        self._flush()

    def _flush(self) -> None:
        while self._pending:
            try:
                written = os.write(self._pipe, self._pending)
            except BlockingIOError:
                return
            except BrokenPipeError:
                self._failed()
            self._pending = self._pending[written:]
            if not self._pending and self._waiting is not None:
                self._pending, self._waiting = self._waiting, None

    def linger(self, seconds: float) -> None:
        """Keep serving for ``seconds``: the last tick is handed over as the pipe drains.
        Raises :class:`IOFailureError` at once if the endpoint stops meanwhile."""
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            writable = [self._pipe] if self._pending else []
            readable, ready, _ = select.select([self._reasons], writable, [], remaining)
            if readable:  # the endpoint wrote why it failed, or exited
                self._failed()
            if ready:
                self._flush()

    def check(self) -> None:
        """Raise :class:`IOFailureError` if the endpoint has already failed."""
        if self._child.poll() not in (None, 0):
            self._failed()

    def _failed(self) -> NoReturn:
        try:
            code = self._child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._child.kill()
            code = self._child.wait()
        ready, _, _ = select.select([self._reasons], [], [], 0)
        reason = self._reasons.read(1000).decode(errors="replace").strip() if ready else ""
        self.close()
        raise IOFailureError(
            f"the metrics endpoint stopped (exit code {code})" + (f": {reason}" if reason else ""),
            _HINT,
        )

    def close(self) -> None:
        """Close the pipe: the endpoint process exits at once. Not waited for (a daemon
        thread reaps it), so a finished run does not wait on it."""
        if self._closed:
            return
        self._closed = True
        for stream in (self._child.stdin, self._child.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        if self._child.poll() is None:
            threading.Thread(target=self._child.wait, name="engine-reap", daemon=True).start()
