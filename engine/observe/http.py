"""The engine's HTTP serving: Starlette apps on uvicorn (h11), hardened, in a thread.

Shared by ``engine serve`` (:mod:`engine.observe.server`) and the ``run-csv
--metrics-port`` endpoint (:mod:`engine.observe.endpoint`, in the process of
:mod:`engine.observe.endpoint_worker`). Sockets are bound by
:mod:`engine.observe.listen`. On top of uvicorn:

- **Request-head timeout.** A connection must send a complete request line and headers
  within ``request_timeout`` seconds of opening, and again after each response
  (keep-alive). An idle socket, or one that sends its headers a byte at a time, gets
  a JSON 408 and is closed. Bodies are read under the same timeout by the apps.
- **Connection cap.** Past ``max_connections`` open connections, a new one gets a JSON 503
  and is closed. The asyncio loop holds no thread per connection, and the listen backlog
  is 2048, so a burst waits in the kernel's queue instead of being dropped.
- **TLS per connection.** The handshake runs in the event loop for each connection, never
  in the accept loop, so one idle TLS client delays nobody. An unfinished handshake is
  dropped after ``request_timeout`` seconds.
- **JSON errors.** Every 4xx and 5xx body is ``{"error", "detail"}``, including the 400
  that uvicorn sends for bytes that are not HTTP, and nothing prints a traceback.
- **Access log.** One structured record per request on the ``engine.access`` logger
  (client, method, path, status, bytes, milliseconds).
- **Guard.** A per-client token bucket (429), a request target of at most 8 KiB (414) and
  headers of at most 16 KiB (431), an optional bearer token compared in constant time
  (401), and no body on GET or HEAD (413).

uvicorn loads only when something is served; this module needs no web framework (the
Starlette apps use :mod:`engine.observe.web`).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import socket
import ssl
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from engine.errors import BadInputError, IOFailureError
from engine.observe.listen import BACKLOG as _BACKLOG
from engine.observe.listen import bind_listener as _bind
from engine.observe.listen import exposure_warning, is_loopback

__all__ = [
    "DEFAULT_PORT",
    "Guard",
    "HttpOptions",
    "JsonAnswer",
    "RateLimiter",
    "ServerThread",
    "is_loopback",
    "warn_if_exposed",
]

#: ``engine serve``'s default port (9090 is Prometheus's own).
DEFAULT_PORT = 9477
ACCESS_LOG = logging.getLogger("engine.access")
LOG = logging.getLogger("engine")
_MAX_HEAD_BYTES = 16 * 1024
_MAX_TARGET_BYTES = 8 * 1024

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True)
class HttpOptions:
    """How a server listens and what it tolerates."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    tls: tuple[str, str] | None = None  # (certificate, key), PEM files
    request_timeout: float = 10.0
    max_connections: int = 256
    shutdown_timeout: float = 2.0


class JsonAnswer:
    """An ASGI app that sends one JSON body (``{"error", "detail"}`` for errors). Plain
    ASGI, so the ``run-csv`` endpoint needs no web framework."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        self.status = status
        self.body = json.dumps(body).encode()
        self.headers = [(k.encode(), v.encode()) for k, v in (headers or {}).items()]

    @classmethod
    def error(cls, status: int, error: str, detail: str, **headers: str) -> JsonAnswer:
        return cls(status, {"error": error, "detail": detail}, headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": self.status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(self.body)).encode()),
                    *self.headers,
                ],
            }
        )
        body = b"" if scope.get("method") == "HEAD" else self.body
        await send({"type": "http.response.body", "body": body})


def _raw_json_response(status: int, reason: str, error: str, detail: str) -> bytes:
    """A complete HTTP/1.1 response with a JSON error body, for the protocol layer."""
    body = json.dumps({"error": error, "detail": detail}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    ).encode()
    return head + body


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a request-head timeout, a connection cap and JSON
    protocol errors (see the module docstring). Reads :class:`HttpOptions` from the
    config's ``engine_http`` attribute."""

    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        options: HttpOptions = self.config.engine_http  # type: ignore[attr-defined]
        if len(self.connections) > options.max_connections:
            transport.write(
                _raw_json_response(
                    503,
                    "Service Unavailable",
                    "TooManyConnections",
                    f"more than {options.max_connections} open connections; try again",
                )
            )
            transport.close()
            return
        self._arm()

    def _arm(self) -> None:
        self._disarm()
        options: HttpOptions = self.config.engine_http  # type: ignore[attr-defined]
        self._head_timer = self.loop.call_later(options.request_timeout, self._head_timed_out)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is None or self.cycle.response_complete:
            self.transport.write(
                _raw_json_response(
                    408,
                    "Request Timeout",
                    "RequestTimeout",
                    "no complete request head arrived in time",
                )
            )
        self.transport.close()

    def handle_events(self) -> None:
        before = self.cycle
        super().handle_events()
        if self.cycle is not before:  # a complete request head arrived
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()  # keep-alive: the next request head must come in time too

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        self.transport.write(_raw_json_response(400, "Bad Request", "BadRequest", msg))
        self.transport.close()


class RateLimiter:
    """A token bucket per client address: ``rate`` requests/s, bursts of ``burst``.
    O(1) per request; at most ``clients`` buckets (then all are forgotten)."""

    def __init__(self, rate: float, burst: int, clients: int = 4096) -> None:
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


class Guard:
    """ASGI middleware: rate limit, bearer token (except on ``public`` paths), no body on
    GET and HEAD, and one access-log record per request."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        token: bytes | None,
        limiter: RateLimiter,
        public: Iterable[str] = ("/healthz", "/readyz"),
    ) -> None:
        self.app = app
        self.expected = None if token is None else b"Bearer " + token
        self.limiter = limiter
        self.public = frozenset(public)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        client = (scope.get("client") or ("-", 0))[0]
        status = 0
        sent = 0

        async def record(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        refusal = self._refusal(scope, client)
        try:
            if refusal is not None:
                await refusal(scope, receive, record)
            else:
                await self.app(scope, receive, record)
        finally:
            ACCESS_LOG.info(
                "%s %s %s",
                scope["method"],
                scope["path"],
                status,
                extra={
                    "access": {
                        "client": client,
                        "method": scope["method"],
                        "path": scope["path"][:200],
                        "status": status,
                        "bytes": sent,
                        "ms": round((time.perf_counter() - started) * 1000, 3),
                    }
                },
            )

    def _refusal(self, scope: Scope, client: str) -> JsonAnswer | None:
        if not self.limiter.allow(client):
            return JsonAnswer.error(429, "TooManyRequests", "slow down", **{"retry-after": "1"})
        target = len(scope.get("raw_path", b"")) + len(scope.get("query_string", b""))
        if target > _MAX_TARGET_BYTES:
            return JsonAnswer.error(
                414, "URITooLong", f"the target is over {_MAX_TARGET_BYTES} bytes"
            )
        if sum(len(k) + len(v) for k, v in scope["headers"]) > _MAX_HEAD_BYTES:
            return JsonAnswer.error(
                431, "HeadersTooLarge", f"the headers are over {_MAX_HEAD_BYTES} bytes"
            )
        headers = dict(scope["headers"])
        if scope["method"] in ("GET", "HEAD") and headers.get(b"content-length", b"0") not in (
            b"",
            b"0",
        ):
            return JsonAnswer.error(413, "PayloadTooLarge", "GET and HEAD requests take no body")
        if self.expected is not None and scope["path"] not in self.public:
            given = headers.get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                return JsonAnswer.error(
                    401,
                    "Unauthorized",
                    "send Authorization: Bearer <token>",
                    **{"www-authenticate": "Bearer"},
                )
        return None


class ServerThread:
    """Serve ``app`` with ``options`` on a thread of its own until :meth:`stop`.

    The socket is bound before the thread starts, so a busy port or a bad address is an
    error here, and :attr:`port` is the real port when 0 was asked for. ``sock`` serves
    on a socket already listening instead (``options.port`` is then ignored). With
    ``wait`` False the constructor returns without waiting for uvicorn to start:
    connections wait in the listen backlog meanwhile, and :meth:`join` returns if the
    server stops or fails."""

    def __init__(
        self,
        app: ASGIApp,
        options: HttpOptions,
        *,
        sock: socket.socket | None = None,
        wait: bool = True,
    ) -> None:
        if options.tls is not None:
            try:
                ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(*options.tls)
            except (OSError, ssl.SSLError) as exc:
                raise BadInputError(f"cannot use the TLS certificate or key: {exc}") from None
        config = uvicorn.Config(
            app,
            http=GuardedH11Protocol,
            lifespan="off",
            log_config=None,
            access_log=False,
            server_header=False,
            proxy_headers=False,
            timeout_keep_alive=max(1, round(options.request_timeout)),
            timeout_graceful_shutdown=max(1, round(options.shutdown_timeout)),
            h11_max_incomplete_event_size=_MAX_HEAD_BYTES,
            backlog=_BACKLOG,
            ssl_certfile=options.tls[0] if options.tls else None,
            ssl_keyfile=options.tls[1] if options.tls else None,
        )
        config.engine_http = options  # type: ignore[attr-defined]
        logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)  # we log ourselves
        self.options = options
        self._socket = _bind(options.host, options.port) if sock is None else sock
        self.host = options.host
        self.port: int = self._socket.getsockname()[1]
        self.scheme = "https" if options.tls else "http"
        self._server = uvicorn.Server(config)
        self._failed: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="engine-http", daemon=True)
        self._thread.start()
        if not wait:
            return
        deadline = time.monotonic() + 10
        while not self._server.started and self._thread.is_alive():
            if time.monotonic() > deadline:
                raise IOFailureError("the HTTP server did not start within 10 s")
            time.sleep(0.005)
        if self._failed is not None or not self._server.started:
            raise IOFailureError(f"the HTTP server failed to start: {self._failed}")

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        if self.options.tls is not None:
            # uvicorn does not pass a handshake timeout; asyncio's default is 60 s
            plain = loop.create_server
            loop.create_server = partial(  # type: ignore[method-assign]
                plain, ssl_handshake_timeout=self.options.request_timeout
            )
        try:
            loop.run_until_complete(self._server.serve(sockets=[self._socket]))
        except BaseException as exc:  # reported to the starting thread
            self._failed = exc
        finally:
            loop.close()

    def join(self) -> BaseException | None:
        """Wait until the server thread ends; returns what made it fail, if anything."""
        self._thread.join()
        return self._failed

    def stop(self, wait: bool = True) -> None:
        """Stop serving: open requests get ``shutdown_timeout`` seconds to finish. Without
        ``wait`` the stop runs on a thread of its own and this returns at once."""
        if not wait:
            threading.Thread(target=self.stop, daemon=True).start()
            return
        self._server.should_exit = True
        self._thread.join(self.options.shutdown_timeout + 5)
        self._socket.close()


def warn_if_exposed(host: str, token: bytes | None, what: str) -> None:
    """Log a warning when ``what`` listens beyond this machine with no token."""
    warning = exposure_warning(host, token, what)
    if warning is not None:
        LOG.warning("%s", warning)
