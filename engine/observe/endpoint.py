"""The ``run-csv --metrics-port`` endpoint: ``/metrics`` (and ``/healthz``) of a live run.

Each tick reaches a :class:`~engine.observe.prometheus.TickCollector`; a scrape renders
the latest one through prometheus-client's ASGI app, served by :mod:`engine.observe.http`
on its own thread (the same hardened uvicorn stack as ``engine serve``). ``run-csv``
runs this server in a process of its own (:mod:`engine.observe.endpoint_process`), so
the replay neither imports it nor shares its interpreter lock with a scraper. The app is
plain ASGI, with no web framework to import.
"""

from __future__ import annotations

import socket

from prometheus_client import CollectorRegistry, make_asgi_app

from engine.observe.http import (
    Guard,
    HttpOptions,
    JsonAnswer,
    RateLimiter,
    Receive,
    Scope,
    Send,
    ServerThread,
)
from engine.observe.prometheus import TickCollector

__all__ = ["MetricsServer"]

_HEALTHY = JsonAnswer(200, {"ok": True})


class _Endpoint:
    """``/metrics`` (GET, HEAD) and ``/healthz``; JSON errors for anything else."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.metrics = make_asgi_app(registry)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if path not in ("/metrics", "/healthz"):
            answer = JsonAnswer.error(404, "NotFound", f"no endpoint {path[:100]!r}")
        elif method not in ("GET", "HEAD"):
            answer = JsonAnswer.error(405, "MethodNotAllowed", "only GET and HEAD")
        elif path == "/healthz":
            answer = _HEALTHY
        else:
            await self.metrics(scope, receive, send)
            return
        await answer(scope, receive, send)


class MetricsServer:
    """``/metrics`` on ``host:port`` (0 picks a free port) until :meth:`close`.

    ``sock`` serves on a socket already listening (``port`` is then ignored), and
    ``collector`` replaces the plain :class:`TickCollector`. With ``wait`` False this
    returns before uvicorn has started (connections queue in the listen backlog)."""

    def __init__(
        self,
        host: str,
        port: int,
        token: bytes | None = None,
        *,
        sock: socket.socket | None = None,
        collector: TickCollector | None = None,
        wait: bool = True,
    ) -> None:
        self.collector = TickCollector() if collector is None else collector
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self.collector)
        guarded = Guard(_Endpoint(self.registry), token=token, limiter=RateLimiter(100.0, 200))
        self._server = ServerThread(
            guarded, HttpOptions(host=host, port=port), sock=sock, wait=wait
        )
        self.host = host
        self.port = self._server.port
        self.url = self._server.url

    def join(self) -> BaseException | None:
        """Wait until the server stops; returns what made it fail, if anything."""
        return self._server.join()

    def close(self, wait: bool = False) -> None:
        """Stop serving. Without ``wait`` the stop runs in the background: a finished run
        need not sit out the graceful shutdown."""
        self._server.stop(wait=wait)
