"""``engine serve``: the metrics of a run (live or finished) over a small JSON API.

Reads ``metrics.v1`` ticks from an NDJSON file (``--follow`` keeps reading as a run
appends) into bounded memory, and serves:

``/api/metrics`` latest tick · ``/api/metrics/history?limit=N`` last N ticks ·
``/api/events`` structural events · ``/api/metrics/histogram/latency`` and
``/api/metrics/histogram/probe`` · ``/metrics`` Prometheus exposition (prometheus-client's
ASGI app) · ``/healthz`` and ``/readyz``.

Served by :mod:`engine.observe.http` (Starlette on uvicorn: timeouts, a connection cap,
JSON errors, per-connection TLS, access logs). Binds 127.0.0.1 unless told otherwise;
with a token (``ADHASH_TOKEN`` or ``--token-file``) every endpoint but ``/healthz`` and
``/readyz`` needs ``Authorization: Bearer <token>``; a per-client token bucket limits the
request rate (429); history and events are bounded deques. See ``docs/server.md``.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Generator
from typing import Any

from prometheus_client import CollectorRegistry, make_asgi_app
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from engine.errors import IOFailureError
from engine.observe.http import Guard, HttpOptions, RateLimiter, ServerThread
from engine.observe.jobs import JobManager
from engine.observe.jobs_api import job_routes
from engine.observe.openapi import openapi_document
from engine.observe.prometheus import TickCollector
from engine.observe.schema import MetricsTick
from engine.observe.web import json_app, json_error

__all__ = ["MetricsStore", "metrics_app", "serve"]

MAX_LIMIT = 10_000


class MetricsStore:
    """Ticks and events from an NDJSON file, in bounded memory. Thread-safe."""

    def __init__(self, path: str, history_limit: int = 1000, event_limit: int = 1000) -> None:
        self.path = path
        self.ticks: deque[dict[str, Any]] = deque(maxlen=history_limit)
        self.events: deque[dict[str, Any]] = deque(maxlen=event_limit)
        self.collector = TickCollector()
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self.collector)
        self.skipped = 0
        self._offset = 0
        self._partial = b""
        self._lock = threading.Lock()

    def read_new(self) -> int:
        """Read complete lines appended since the last call; returns how many ticks."""
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self._offset)
                data = handle.read()
        except FileNotFoundError:
            raise IOFailureError(f"{self.path}: no such file", "check --source") from None
        except OSError as exc:
            raise IOFailureError(f"{self.path}: {exc.strerror or exc}") from None
        self._offset += len(data)
        data = self._partial + data
        *lines, self._partial = data.split(b"\n")
        added = 0
        for line in lines:
            if not line.strip():
                continue
            try:
                tick = json.loads(line)  # kept as written: fields later versions add stay
                MetricsTick.model_validate(tick)
            except (ValidationError, ValueError):
                self.skipped += 1
                continue
            with self._lock:
                self.ticks.append(tick)
                self.events.extend(tick.get("events", []))
            self.collector.update(tick)
            added += 1
        return added

    def latest(self) -> dict[str, Any] | None:
        with self._lock:
            return self.ticks[-1] if self.ticks else None

    def history(self, limit: int) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.ticks)[-limit:] if limit else []

    def event_list(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.events)


class _Prometheus:
    """prometheus-client's ASGI app for ``/metrics`` (an object, so the router treats it
    as an ASGI app rather than a request handler)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.app = make_asgi_app(registry)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def metrics_app(
    store: MetricsStore | None,
    *,
    token: bytes | None = None,
    limiter: RateLimiter | None = None,
    jobs: JobManager | None = None,
    request_timeout: float = 10.0,
) -> Guard:
    """The server as an ASGI app: the metrics API over ``store`` (when given), the job
    API over ``jobs`` (when given), health, readiness and the OpenAPI document."""

    def current() -> dict[str, Any]:
        return (store.latest() if store is not None else None) or {}

    async def latest(request: Request) -> Response:
        return JSONResponse(current())

    async def history(request: Request) -> Response:
        raw = request.query_params.get("limit", "100")
        if not raw.isdigit() or not 0 <= int(raw) <= MAX_LIMIT:
            return json_error(400, "BadRequest", f"limit must be an int 0..{MAX_LIMIT}")
        return JSONResponse({"ticks": store.history(int(raw)) if store is not None else []})

    async def events(request: Request) -> Response:
        return JSONResponse({"events": store.event_list() if store is not None else []})

    async def latency(request: Request) -> Response:
        return JSONResponse({"latency_ns": current().get("latency_ns", {})})

    async def probe(request: Request) -> Response:
        return JSONResponse({"probe_hist": current().get("probe_hist", [])})

    async def healthz(request: Request) -> Response:
        return JSONResponse({"ok": True, "ticks": len(store.ticks) if store is not None else 0})

    async def readyz(request: Request) -> Response:
        ready = jobs is None or jobs.ready
        body = {"ready": ready, "metrics": store is not None, "jobs": jobs is not None}
        return JSONResponse(body, status_code=200 if ready else 503)

    async def openapi(request: Request) -> Response:
        return JSONResponse(openapi_document())

    async def jobs_off(request: Request) -> Response:
        return json_error(
            404, "JobsOff", "this server runs no jobs: start engine serve with --workload-dir"
        )

    routes: list[Route] = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/api/openapi.json", openapi),
    ]
    if store is not None:
        routes += [
            Route("/api/metrics", latest),
            Route("/api/metrics/history", history),
            Route("/api/events", events),
            Route("/api/metrics/histogram/latency", latency),
            Route("/api/metrics/histogram/probe", probe),
            Route("/metrics", _Prometheus(store.registry), methods=["GET", "HEAD"]),
        ]
    if jobs is not None:
        routes += job_routes(jobs, request_timeout)
    else:
        routes.append(Route("/api/jobs{rest:path}", jobs_off, methods=["GET", "POST", "DELETE"]))
    return Guard(json_app(routes), token=token, limiter=limiter or RateLimiter(200.0, 400))


def serve(
    store: MetricsStore | None,
    host: str,
    port: int,
    *,
    token: bytes | None = None,
    follow: bool = False,
    tls: tuple[str, str] | None = None,
    rate: float = 200.0,
    burst: int = 400,
    request_timeout: float = 10.0,
    max_connections: int = 256,
    jobs: JobManager | None = None,
) -> Generator[ServerThread, None, None]:
    """Start serving in a thread; yields the server (its ``port`` is bound) and stops it,
    and the job manager, when the generator is closed."""
    if store is not None:
        store.read_new()
    app = metrics_app(
        store,
        token=token,
        limiter=RateLimiter(rate, burst),
        jobs=jobs,
        request_timeout=request_timeout,
    )
    options = HttpOptions(
        host=host,
        port=port,
        tls=tls,
        request_timeout=request_timeout,
        max_connections=max_connections,
    )
    server = ServerThread(app, options)
    stop = threading.Event()

    def follower() -> None:
        assert store is not None
        while not stop.wait(0.2):
            try:
                store.read_new()
            except IOFailureError:
                continue

    if follow and store is not None:
        threading.Thread(target=follower, daemon=True).start()
    try:
        yield server
    finally:
        stop.set()
        server.stop()
        if jobs is not None:
            jobs.close()
