"""``engine serve``: the metrics of a run (live or finished) over a small JSON API.

Reads ``metrics.v1`` ticks from an NDJSON file (``--follow`` keeps reading as a run
appends) into bounded memory, and serves:

``/api/metrics`` latest tick · ``/api/metrics/history?limit=N`` last N ticks ·
``/api/events`` structural events · ``/api/metrics/histogram/latency`` and
``/api/metrics/histogram/probe`` · ``/metrics`` Prometheus exposition · ``/healthz``.

Security: binds 127.0.0.1 unless told otherwise; with a token (``ADHASH_TOKEN`` or
``--token-file``) every endpoint but ``/healthz`` needs ``Authorization: Bearer <token>``
(compared in constant time); only GET and HEAD; no request bodies; request lines and
headers are bounded by the standard library's limits; a per-client token bucket limits
the request rate (429); history and events are bounded deques. Optional TLS.
"""

from __future__ import annotations

import hmac
import json
import ssl
import threading
import time
from collections import deque
from collections.abc import Generator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from prometheus_client import CollectorRegistry, generate_latest
from pydantic import ValidationError

from engine.errors import BadInputError, IOFailureError
from engine.observe.prometheus import TickCollector
from engine.observe.schema import MetricsTick

__all__ = ["MetricsStore", "serve"]

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


class _RateLimiter:
    """A token bucket per client address: ``rate`` requests/s, bursts of ``burst``."""

    def __init__(self, rate: float, burst: int, clients: int = 1024) -> None:
        self.rate, self.burst = rate, burst
        self._buckets: dict[str, tuple[float, float]] = {}
        self._clients = clients
        self._lock = threading.Lock()

    def allow(self, client: str) -> bool:
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(client, (float(self.burst), now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if len(self._buckets) >= self._clients and client not in self._buckets:
                self._buckets.clear()  # bounded memory: forget everyone rather than grow
            if tokens < 1:
                self._buckets[client] = (tokens, now)
                return False
            self._buckets[client] = (tokens - 1, now)
            return True


def _make_handler(store: MetricsStore, token: bytes | None, limiter: _RateLimiter) -> type:
    class Handler(BaseHTTPRequestHandler):
        server_version = "engine-serve"
        sys_version = ""

        def log_message(self, format: str, *args: Any) -> None:
            return  # quiet: requests are not logged to stderr

        def _send(self, status: int, body: bytes, kind: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _json(self, status: int, data: Any) -> None:
            self._send(status, json.dumps(data).encode())

        def _error(self, status: int, error: str, detail: str) -> None:
            self._json(status, {"error": error, "detail": detail})

        def do_POST(self) -> None:
            self._error(405, "MethodNotAllowed", "only GET and HEAD are served")

        do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_POST

        def do_HEAD(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            if not limiter.allow(self.client_address[0]):
                self._error(429, "TooManyRequests", "slow down")
                return
            if self.headers.get("Content-Length", "0") not in ("", "0"):
                self._error(413, "PayloadTooLarge", "requests take no body")
                return
            try:
                url = urlsplit(self.path)
                query = parse_qs(url.query, max_num_fields=8, strict_parsing=False)
            except ValueError:
                self._error(400, "BadRequest", "malformed query")
                return
            if url.path == "/healthz":
                self._json(200, {"ok": True, "ticks": len(store.ticks)})
                return
            if token is not None:
                given = self.headers.get("Authorization", "")
                expected = b"Bearer " + token
                if not hmac.compare_digest(given.encode("latin-1", "replace"), expected):
                    self._error(401, "Unauthorized", "send Authorization: Bearer <token>")
                    return
            self._route(url.path, query)

        def _route(self, path: str, query: dict[str, list[str]]) -> None:
            latest = store.latest()
            if path == "/api/metrics":
                self._json(200, latest or {})
            elif path == "/api/metrics/history":
                raw = query.get("limit", ["100"])[-1]
                if not raw.isdigit() or not 0 <= int(raw) <= MAX_LIMIT:
                    self._error(400, "BadRequest", f"limit must be an int 0..{MAX_LIMIT}")
                    return
                self._json(200, {"ticks": store.history(int(raw))})
            elif path == "/api/events":
                self._json(200, {"events": store.event_list()})
            elif path == "/api/metrics/histogram/latency":
                self._json(200, {"latency_ns": (latest or {}).get("latency_ns", {})})
            elif path == "/api/metrics/histogram/probe":
                self._json(200, {"probe_hist": (latest or {}).get("probe_hist", [])})
            elif path == "/metrics":
                self._send(200, generate_latest(store.registry), "text/plain; version=0.0.4")
            else:
                self._error(404, "NotFound", f"no endpoint {path[:100]!r}")

    return Handler


def serve(
    store: MetricsStore,
    host: str,
    port: int,
    *,
    token: bytes | None = None,
    follow: bool = False,
    tls: tuple[str, str] | None = None,
    rate: float = 200.0,
    burst: int = 400,
) -> Generator[ThreadingHTTPServer, None, None]:
    """Start serving in a thread; yields the server (its ``server_port`` is bound) and
    stops it when the generator is closed."""
    store.read_new()
    handler = _make_handler(store, token, _RateLimiter(rate, burst))
    try:
        httpd = ThreadingHTTPServer((host, port), handler)
    except OSError as exc:
        raise IOFailureError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    httpd.daemon_threads = True
    if tls is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            context.load_cert_chain(certfile=tls[0], keyfile=tls[1])
        except (OSError, ssl.SSLError) as exc:
            httpd.server_close()
            raise BadInputError(f"cannot use the TLS certificate or key: {exc}") from None
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    stop = threading.Event()

    def follower() -> None:
        while not stop.wait(0.2):
            try:
                store.read_new()
            except IOFailureError:
                continue

    threads = [threading.Thread(target=httpd.serve_forever, daemon=True)]
    if follow:
        threads.append(threading.Thread(target=follower, daemon=True))
    for thread in threads:
        thread.start()
    try:
        yield httpd
    finally:
        stop.set()
        httpd.shutdown()
        httpd.server_close()
