"""Charts of a live job on an ``engine serve``: static SVG now, or a widget that follows it.

``connect(url, token=...)`` talks to the job API of a running ``engine serve``
(``--workload-dir``; see docs/server.md). ``server.job(id)`` finds a job,
``server.submit("w.csv", ...)`` starts a new ``run-csv`` job; either gives a
:class:`LiveJob`. ``charts(job)`` (or ``job.charts()``) draws the ticks the job has
written so far, the same SVG as ``charts("metrics.ndjson")``. ``LiveCharts(job)`` (or
``job.widget()``) is an anywidget whose picture is redrawn as ticks arrive, with the
job's state (``queued``, ``running``, ``succeeded``, ``failed``, ``cancelled``) above it.

The widget follows the job on a thread of its own running an asyncio loop: one request
streams ``GET /api/jobs/{id}/ticks`` (the server sends each new tick line and ends the
response when the job ends), another polls ``GET /api/jobs/{id}`` for the state. It stops
when the job ends, or at once when the widget is closed (``close()``) or told to
(``stop()``). The picture is redrawn at most every ``refresh_s`` seconds.

Errors are :class:`JobError` subclasses with one-line messages: :class:`ServerUnreachable`,
:class:`Unauthorized` (no token, or the wrong one), :class:`JobNotFound`,
:class:`JobRejected` (a submission the server refused: a bad path, bad settings, a full
queue), :class:`JobFailed` (``charts`` of a failed job). Once a widget is following, what
goes wrong is shown in the widget (its ``message``), not raised.

:func:`serve_jobs` starts a local ``engine serve`` in a child process, for a notebook
that has no server of its own.

httpx (the ``[notebook]`` extra) is imported when a server is first contacted, so this
module imports without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import tempfile
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from engine.observe.jobs import engine_command
from explorer.model.run_series import RunSeries
from explorer.notebook.run_charts import RunCharts

if TYPE_CHECKING:
    import httpx

__all__ = [
    "FINISHED",
    "JobError",
    "JobFailed",
    "JobNotFound",
    "JobRejected",
    "JobServer",
    "LiveCharts",
    "LiveJob",
    "LocalServer",
    "ServerUnreachable",
    "Unauthorized",
    "connect",
    "live_charts",
    "serve_jobs",
]

#: the job states after which nothing changes
FINISHED = frozenset({"succeeded", "failed", "cancelled"})


class JobError(RuntimeError):
    """Something the job API, or the way to it, refused or could not do."""


class ServerUnreachable(JobError):
    """No answer from the server: not running, wrong address, or the connection broke."""


class Unauthorized(JobError):
    """401: the server wants a bearer token, and none or a wrong one was sent."""


class JobNotFound(JobError):
    """404: the server does not know this job (or it was forgotten: the server keeps the
    last 100 finished jobs)."""


class JobRejected(JobError):
    """A submission the server refused (400, 413, 415, 422 or 429)."""


class JobFailed(JobError):
    """The job ended as ``failed``; :attr:`job` is what the server says about it."""

    def __init__(self, message: str, job: dict[str, Any]) -> None:
        super().__init__(message)
        self.job = job


def _httpx() -> Any:
    try:
        import httpx
    except ImportError:
        raise ImportError(
            "charts of a live job need httpx: install the [notebook] extra "
            "(uv sync --extra notebook)"
        ) from None
    return httpx


def failure_text(info: dict[str, Any]) -> str:
    """One line on how a finished job ended badly (or ``""``)."""
    state = info.get("state")
    if state not in ("failed", "cancelled"):
        return ""
    error = info.get("error") or {}
    what = f"{error.get('error', '')}: {error.get('detail', '')}".strip(": ")
    code = info.get("exit_code")
    text = f"job {info.get('id')} {state}"
    if code is None:
        return text + (f": {what}" if what else " before it started")
    return text + f" (exit code {code})" + (f": {what}" if what else "")


class JobServer:
    """The job API of one ``engine serve``: ``url`` (``http://127.0.0.1:9477``) and the
    bearer token it was started with, if any (``token``, or ``token_file``)."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        token_file: str | Path | None = None,
        timeout: float = 10.0,
        verify: bool | str = True,
    ) -> None:
        if token_file is not None:
            token = Path(token_file).read_text("utf-8").strip()
        self.url = url.rstrip("/")
        self.token = token or None
        self.timeout = timeout
        self.verify = verify  # for HTTPS: False, or the path of a CA bundle
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"JobServer({self.url!r}{', token=…' if self.token else ''})"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def client(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = _httpx().Client(
                    base_url=self.url, headers=self.headers, timeout=self.timeout,
                    verify=self.verify,
                )
                # its connections close with it when nobody calls close()
                weakref.finalize(self, self._client.close)
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    # ------------------------------------------------------------------ requests
    def request(self, method: str, path: str, what: str, **kwargs: Any) -> Any:
        """``method path`` and its JSON body; errors as :class:`JobError`."""
        with self.transport_errors():
            response = self.client().request(method, path, **kwargs)
        self.check(response, what)
        return self.json_of(response, what)

    @contextlib.contextmanager
    def transport_errors(self) -> Iterator[None]:
        """httpx's transport errors as :class:`ServerUnreachable` (no httpx traceback)."""
        httpx = _httpx()
        try:
            yield
        except httpx.TransportError as exc:
            reason = str(exc) or type(exc).__name__
            raise ServerUnreachable(
                f"cannot reach the engine server at {self.url} ({reason})"
            ) from None
        except httpx.InvalidURL as exc:
            raise ServerUnreachable(f"not a server address: {self.url!r} ({exc})") from None

    def check(self, response: httpx.Response, what: str) -> None:
        """Raise the :class:`JobError` a 4xx or 5xx response means."""
        status = response.status_code
        if status < 400:
            return
        try:
            body = json.loads(response.content)
            error, detail = str(body.get("error", "")), str(body.get("detail", ""))
        except (ValueError, AttributeError):
            error, detail = "", response.text[:200]
        if status == 401:
            hint = ("no token was sent: pass token=... (the one engine serve was given)"
                    if not self.token else "the token is not the server's")
            raise Unauthorized(f"{self.url} refused {what} (401): {hint}")
        if status == 404 and error == "JobsOff":
            raise JobError(f"{self.url} runs no jobs: start engine serve with --workload-dir")
        if status == 404:
            raise JobNotFound(f"{what}: {detail or 'not found'} on {self.url}")
        if status in (400, 413, 415, 422, 429):
            raise JobRejected(f"{what} refused ({status} {error}): {detail}")
        raise JobError(f"{what}: the server answered {status} {error} {detail}".rstrip())

    def json_of(self, response: httpx.Response, what: str) -> Any:
        try:
            return response.json()
        except ValueError:
            raise JobError(
                f"{what}: {self.url} did not answer with JSON: is it an engine server?"
            ) from None

    # ------------------------------------------------------------------ jobs
    def submit(
        self,
        csv: str,
        *,
        backend: str | None = None,
        settings: dict[str, Any] | None = None,
        every_ops: int | None = None,
        every_seconds: float | None = None,
    ) -> LiveJob:
        """Start a ``run-csv`` job on ``csv`` (a path relative to one of the server's
        ``--workload-dir`` folders). Raises :class:`JobRejected` when the server refuses."""
        body: dict[str, Any] = {"csv": str(csv)}
        if backend is not None:
            body["backend"] = backend
        if settings:
            body["settings"] = settings
        if every_ops is not None:
            body["metrics_every_ops"] = every_ops
        if every_seconds is not None:
            body["metrics_every_seconds"] = every_seconds
        info = self.request("POST", "/api/jobs/run-csv", f"the job on {csv!r}", json=body)
        return LiveJob(self, info)

    def job(self, job_id: str) -> LiveJob:
        """The job ``job_id``; raises :class:`JobNotFound` if the server does not know it."""
        return LiveJob(self, self.status(job_id))

    def jobs(self) -> list[dict[str, Any]]:
        """Every job the server remembers (id, kind, state, progress)."""
        return list(self.request("GET", "/api/jobs", "the job list").get("jobs", []))

    def status(self, job_id: str) -> dict[str, Any]:
        info = self.request("GET", f"/api/jobs/{job_id}", f"job {job_id!r}")
        if not isinstance(info, dict) or "state" not in info:
            raise JobError(f"job {job_id!r}: {self.url} did not answer with a job")
        return info

    def ticks(self, job_id: str) -> list[dict[str, Any]]:
        """The ``metrics.v1`` ticks job ``job_id`` has written so far."""
        what = f"the ticks of job {job_id!r}"
        with self.transport_errors():
            response = self.client().get(f"/api/jobs/{job_id}/ticks",
                                         params={"follow": "false"})
        self.check(response, what)
        return parse_ticks(response.text.splitlines())

    def cancel(self, job_id: str) -> dict[str, Any]:
        """Cancel a waiting job or stop a running one (it ends ``cancelled``)."""
        return dict(self.request("DELETE", f"/api/jobs/{job_id}", f"cancelling job {job_id!r}"))


def parse_ticks(lines: list[str]) -> list[dict[str, Any]]:
    """The ``metrics.v1`` ticks among NDJSON lines (anything else is skipped)."""
    ticks = []
    for line in lines:
        tick = _tick(line)
        if tick is not None:
            ticks.append(tick)
    return ticks


def _tick(line: str) -> dict[str, Any] | None:
    if not line.strip():
        return None
    try:
        tick = json.loads(line)
    except ValueError:
        return None
    return tick if isinstance(tick, dict) and tick.get("schema") == "metrics.v1" else None


def connect(url: str, token: str | None = None, *, token_file: str | Path | None = None,
            timeout: float = 10.0, verify: bool | str = True) -> JobServer:
    """The job API of the ``engine serve`` at ``url``. Checks that it answers (raises
    :class:`ServerUnreachable`, or :class:`Unauthorized` for a missing or wrong token).
    ``verify``: for HTTPS, ``False`` or a CA bundle's path for a self-signed certificate."""
    server = JobServer(url, token, token_file=token_file, timeout=timeout, verify=verify)
    try:
        server.jobs()
    except BaseException:
        server.close()
        raise
    return server


class LiveJob:
    """One job on a :class:`JobServer`. :attr:`info` is what the server last said
    about it (``state``, ``progress``, ``result`` or ``error``)."""

    def __init__(self, server: JobServer, info: dict[str, Any]) -> None:
        self.server = server
        self.info = info
        self.id = str(info["id"])
        self.kind = str(info.get("kind", "run-csv"))

    def __repr__(self) -> str:
        ops = (self.info.get("progress") or {}).get("ops_done", 0)
        return f"<job {self.id} {self.kind}: {self.state}, {ops:,} operations>"

    @property
    def state(self) -> str:
        return str(self.info.get("state", "?"))

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    def refresh(self) -> dict[str, Any]:
        """Ask the server for the job's state now."""
        self.info = self.server.status(self.id)
        return self.info

    def ticks(self) -> list[dict[str, Any]]:
        self._need_ticks()
        return self.server.ticks(self.id)

    def _need_ticks(self) -> None:
        if self.kind != "run-csv":
            raise JobError(f"job {self.id} is a {self.kind} job: only run-csv jobs have ticks")

    def charts(self, title: str = "", *, failed_ok: bool = False) -> RunCharts:
        """The charts of the ticks written so far (the state is read first, so the ticks
        of a finished job are all of them). A failed job raises :class:`JobFailed`
        unless ``failed_ok``; a cancelled one is charted up to where it stopped."""
        self._need_ticks()
        info = self.refresh()
        if info["state"] == "failed" and not failed_ok:
            raise JobFailed(failure_text(info), info)
        series = RunSeries(label=self.id)
        series.add(self.server.ticks(self.id))
        return RunCharts(series, title or f"job {self.id} ({info['state']})")

    def wait(self, timeout: float | None = None, poll: float = 0.2) -> dict[str, Any]:
        """Poll until the job has finished; its last state. Raises ``TimeoutError``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.refresh()["state"] not in FINISHED:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"job {self.id} is still {self.state} after {timeout} s")
            time.sleep(poll)
        return self.info

    def cancel(self) -> dict[str, Any]:
        self.info = self.server.cancel(self.id)
        return self.info

    def widget(self, **options: Any) -> LiveCharts:
        """A :class:`LiveCharts` widget following this job."""
        return LiveCharts(self, **options)


_ESM = r"""
const COLOURS = { queued: "#8a6d00", running: "#0072b2", succeeded: "#009e73",
                  failed: "#d55e00", cancelled: "#5c5f66" };
function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "ahm-live";
  root.style.cssText = "font-family: DejaVu Sans, Verdana, sans-serif; max-width: 1100px;";
  const bar = document.createElement("div");
  bar.style.cssText = "display:flex; gap:8px; align-items:center; margin:4px 0;";
  const badge = document.createElement("span");
  badge.className = "ahm-live-state";
  badge.style.cssText = "color:#fff; border-radius:3px; padding:1px 7px; font-size:13px;";
  const where = document.createElement("span");
  where.style.cssText = "font-size:13px; color:#5c5f66;";
  const cancel = document.createElement("button");
  cancel.textContent = "cancel job";
  cancel.title = "DELETE the job on the server";
  cancel.style.cssText = "padding:2px 8px; cursor:pointer;";
  cancel.addEventListener("click", () => model.send({ type: "cancel" }));
  bar.append(badge, where, cancel);
  const message = document.createElement("div");
  message.className = "ahm-live-message";
  message.style.cssText = "font-size:13px; color:#d55e00; margin:2px 0;";
  const picture = document.createElement("div");
  picture.style.cssText = "overflow:auto;";
  root.append(bar, message, picture);
  el.appendChild(root);
  const draw = () => {
    const state = model.get("state");
    badge.textContent = state;
    badge.style.background = COLOURS[state] || "#5c5f66";
    const ops = model.get("ops_done").toLocaleString("en");
    const follow = model.get("following") ? ", following" : "";
    where.textContent = `job ${model.get("job_id")}: ${ops} operations, ` +
      `${model.get("ticks")} ticks${follow}`;
    cancel.style.display = (state === "queued" || state === "running") ? "" : "none";
    message.textContent = model.get("message");
    message.style.display = model.get("message") ? "" : "none";
    if (picture.dataset.svg !== model.get("svg")) {
      picture.innerHTML = model.get("svg");
      picture.dataset.svg = model.get("svg");
    }
  };
  model.on("change", draw);
  draw();
  return () => model.off("change", draw);
}
export default { render };
"""


class LiveCharts(anywidget.AnyWidget):
    """The charts of a job, redrawn as its ticks arrive, with its state; see the module.

    ``state`` (the job's), ``ops_done``, ``ticks`` (ticks received), ``svg``,
    ``message`` (how it ended badly, or what went wrong while following), ``following``
    (the thread runs). ``wait()`` blocks until the job has ended and the last picture is
    drawn; ``stop()`` or ``close()`` stops following; ``cancel()`` cancels the job."""

    _esm = _ESM

    job_id = traitlets.Unicode("").tag(sync=True)
    state = traitlets.Unicode("").tag(sync=True)
    ops_done = traitlets.Int(0).tag(sync=True)
    ticks = traitlets.Int(0).tag(sync=True)
    svg = traitlets.Unicode("").tag(sync=True)
    message = traitlets.Unicode("").tag(sync=True)
    following = traitlets.Bool(False).tag(sync=True)

    def __init__(
        self,
        job: LiveJob,
        *,
        title: str = "",
        refresh_s: float = 0.5,
        poll_s: float = 1.0,
        start: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        job._need_ticks()
        self.job = job
        self.title = title
        self.refresh_s = refresh_s
        self.poll_s = poll_s
        self.renders = 0
        self._series = RunSeries(label=job.id)
        self._lock = threading.RLock()
        self._dirty = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self.job_id = job.id
        self._set_info(job.info)
        self._paint()
        self.on_msg(self._message_from_view)
        if start:
            self.start()

    # ------------------------------------------------------------------ control
    def start(self) -> None:
        """Follow the job (the constructor does, unless ``start=False``)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self.following = True
        self._thread = threading.Thread(target=self._run, name=f"live-job-{self.job.id}",
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop following (the job itself goes on); returns when the thread has ended."""
        self._stop.set()
        loop, task = self._loop, self._task
        if loop is not None and task is not None:
            with contextlib.suppress(RuntimeError):  # the loop has just closed
                loop.call_soon_threadsafe(task.cancel)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def close(self) -> None:
        self.stop()
        super().close()

    def wait(self, timeout: float | None = None) -> str:
        """Block until the widget has stopped following (the job ended, or ``stop()``);
        the job's state. Raises ``TimeoutError``."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                raise TimeoutError(f"job {self.job.id} still {self.state} after {timeout} s")
        return self.state

    def cancel(self) -> None:
        """Cancel the job on the server (the widget then shows it ``cancelled``)."""
        try:
            self._set_info(self.job.cancel())
        except JobError as exc:
            self.message = str(exc)

    def charts(self) -> RunCharts:
        """The charts as drawn now."""
        with self._lock:
            return RunCharts(self._series, self._title())

    def _message_from_view(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "cancel":
            self.cancel()

    # ------------------------------------------------------------------ drawing
    def _title(self) -> str:
        return self.title or f"job {self.job.id} ({self.state})"

    def _paint(self) -> None:
        with self._lock:
            svg = RunCharts(self._series, self._title()).svg
            self._dirty = False
        self.renders += 1
        self.svg = svg

    def _set_info(self, info: dict[str, Any]) -> None:
        self.job.info = info
        progress = info.get("progress") or {}
        with self._lock:
            changed = self.state != info.get("state", "")
            self.state = str(info.get("state", ""))
            self.ops_done = int(progress.get("ops_done") or 0)
            self._dirty = self._dirty or changed  # the title names the state
        if self.state in FINISHED:
            text = failure_text(info)
            if self.state == "cancelled" and info.get("started") is not None:
                text += "; the charts show the ticks written before it stopped"
            self.message = text
        elif self.message.startswith("lost the engine server"):
            self.message = ""  # it answers again

    def _add(self, tick: dict[str, Any]) -> None:
        with self._lock:
            self._series.add([tick])
            self.ticks = self._series.ticks_seen
            self._dirty = True

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """The widget, and its current picture for a static export (no kernel there)."""
        bundle = super()._repr_mimebundle_(**kwargs)
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        if isinstance(data, dict):
            data["image/svg+xml"] = self.svg
        return bundle

    # ------------------------------------------------------------------ following
    def _run(self) -> None:
        try:
            asyncio.run(self._follow())
        except BaseException as exc:  # shown in the widget: a thread has nobody to raise to
            if not isinstance(exc, asyncio.CancelledError):
                self.message = self._describe(exc)
        finally:
            self._loop = self._task = None
            if self._dirty:
                self._paint()
            self.following = False

    def _describe(self, exc: BaseException) -> str:
        if isinstance(exc, JobError):
            return str(exc)
        httpx = _httpx()
        if isinstance(exc, httpx.TransportError):
            return f"lost the engine server at {self.job.server.url} ({exc or type(exc).__name__})"
        return f"stopped following: {type(exc).__name__}: {exc}"

    async def _follow(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        if self._stop.is_set():
            return
        httpx = _httpx()
        server = self.job.server
        async with httpx.AsyncClient(base_url=server.url, headers=server.headers,
                                     timeout=server.timeout, verify=server.verify) as client:
            helpers = [asyncio.create_task(self._painter()),
                       asyncio.create_task(self._poller(client))]
            try:
                await self._stream(client)
            finally:
                for helper in helpers:
                    helper.cancel()
                await asyncio.gather(*helpers, return_exceptions=True)
        self._paint()

    async def _stream(self, client: httpx.AsyncClient) -> None:
        """Read the streamed ticks until the job has finished. The server ends the stream
        with the job; a stream that ends early (a broken connection) is opened again, and
        the lines already read are skipped (the server sends them from the start)."""
        server = self.job.server
        seen = 0
        attempts = 0
        while True:
            lines, before = 0, seen
            async with client.stream(
                "GET", f"/api/jobs/{self.job.id}/ticks",
                timeout=_httpx().Timeout(server.timeout, read=None),  # ticks may be far apart
            ) as response:
                if response.status_code >= 400:
                    await response.aread()
                    server.check(response, f"the ticks of job {self.job.id!r}")
                async for line in response.aiter_lines():
                    lines += 1
                    if lines <= seen:
                        continue
                    seen = lines
                    tick = _tick(line)
                    if tick is not None:
                        self._add(tick)
            await self._poll(client)
            if self.state in FINISHED:
                return
            attempts = attempts + 1 if seen == before else 0
            if attempts >= 5:
                raise JobError(f"the tick stream of job {self.job.id} keeps ending early")
            await asyncio.sleep(0.5)

    async def _poll(self, client: httpx.AsyncClient) -> None:
        response = await client.get(f"/api/jobs/{self.job.id}")
        self.job.server.check(response, f"job {self.job.id!r}")
        self._set_info(self.job.server.json_of(response, f"job {self.job.id!r}"))

    async def _poller(self, client: httpx.AsyncClient) -> None:
        while True:
            await asyncio.sleep(self.poll_s)
            try:
                await self._poll(client)
            except Exception as exc:  # the stream says whether the server is gone
                self.message = self._describe(exc)

    async def _painter(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_s)
            if self._dirty:
                self._paint()


def live_charts(
    url: str,
    job_id: str | None = None,
    *,
    csv: str | None = None,
    token: str | None = None,
    token_file: str | Path | None = None,
    **submit: Any,
) -> LiveCharts:
    """A :class:`LiveCharts` for job ``job_id`` on the server at ``url``, or for a new
    ``run-csv`` job on ``csv`` (``submit`` options: ``backend``, ``settings``,
    ``every_ops``, ``every_seconds``)."""
    if (job_id is None) == (csv is None):
        raise ValueError("give either a job id or a csv to submit")
    server = JobServer(url, token, token_file=token_file)
    try:
        job = server.job(job_id) if job_id is not None else server.submit(str(csv), **submit)
    except BaseException:
        server.close()
        raise
    return LiveCharts(job)


# ---------------------------------------------------------------------- a local server
class LocalServer:
    """``engine serve --workload-dir DIR`` in a child process (see :func:`serve_jobs`).
    ``url``, ``token``; ``connect()`` gives its :class:`JobServer`; ``stop()`` (or leaving
    a ``with`` block, or the kernel's exit) ends it."""

    def __init__(self, process: subprocess.Popen[str], url: str, token: str | None,
                 jobs_dir: str, log: Path) -> None:
        self.process = process
        self.url = url
        self.token = token
        self.jobs_dir = jobs_dir
        self.log = log
        self._finalizer = weakref.finalize(self, _end, process)

    def __repr__(self) -> str:
        running = "running" if self.process.poll() is None else "stopped"
        return f"<engine serve at {self.url}, {running}>"

    def connect(self) -> JobServer:
        return connect(self.url, self.token)

    def stop(self) -> None:
        self._finalizer()

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def _end(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout is not None:
        process.stdout.close()


def serve_jobs(
    workload_dir: str | Path,
    *,
    jobs_dir: str | Path | None = None,
    token: str | None = None,
    workers: int = 1,
    timeout: float = 30.0,
) -> LocalServer:
    """Start ``engine serve`` on a free port of 127.0.0.1 with the job API over
    ``workload_dir`` (and ``token`` if given); returns when it is serving."""
    folder = Path(tempfile.mkdtemp(prefix="engine-serve-"))
    argv = [*engine_command(), "--json", "serve", "--host", "127.0.0.1", "--port", "0",
            "--workload-dir", str(workload_dir), "--job-workers", str(workers)]
    if jobs_dir is not None:
        argv += ["--jobs-dir", str(jobs_dir)]
    if token:
        secret = folder / "token.txt"
        secret.write_text(token, "utf-8")
        secret.chmod(0o600)
        argv += ["--token-file", str(secret)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADHASH_")}
    log = folder / "serve.log"
    with open(log, "w", encoding="utf-8") as err:
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, text=True,
                                   env=env, stdin=subprocess.DEVNULL)
    line = _first_line(process, timeout)
    try:
        result = json.loads(line)["result"]
    except (ValueError, KeyError, TypeError):
        _end(process)
        raise JobError(
            f"engine serve did not start: {line.strip()} {log.read_text('utf-8')[-400:]}".strip()
        ) from None
    return LocalServer(process, result["url"], token, str(result["jobs_dir"]), log)


def _first_line(process: subprocess.Popen[str], timeout: float) -> str:
    lines: list[str] = []
    stdout = process.stdout
    assert stdout is not None
    reader = threading.Thread(target=lambda: lines.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    if not lines:
        _end(process)
        raise JobError(f"engine serve printed nothing in {timeout} s")
    return lines[0]

