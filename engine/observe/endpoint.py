"""The ``run-csv --metrics-port`` endpoint: ``/metrics`` (and ``/healthz``) of a live run.

The replay hands each tick to a :class:`~engine.observe.prometheus.TickCollector`; a
scrape renders the latest one through prometheus-client's ASGI app, served by
:mod:`engine.observe.http` on its own thread (the same hardened stack as ``engine
serve``), so the replay loop never waits for a scraper.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, make_asgi_app
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from engine.observe.http import Guard, HttpOptions, RateLimiter, ServerThread, json_app
from engine.observe.prometheus import TickCollector

__all__ = ["MetricsServer"]


class _Exposition:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.app = make_asgi_app(registry)

    async def __call__(self, scope: object, receive: object, send: object) -> None:
        await self.app(scope, receive, send)


class MetricsServer:
    """``/metrics`` on ``host:port`` (0 picks a free port) until :meth:`close`."""

    def __init__(self, host: str, port: int, token: bytes | None = None) -> None:
        self.collector = TickCollector()
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self.collector)

        async def healthz(request: Request) -> Response:
            return JSONResponse({"ok": True})

        app = json_app(
            [
                Route("/metrics", _Exposition(self.registry), methods=["GET", "HEAD"]),
                Route("/healthz", healthz),
            ]
        )
        guarded = Guard(app, token=token, limiter=RateLimiter(100.0, 200))
        self._server = ServerThread(guarded, HttpOptions(host=host, port=port))
        self.host = host
        self.port = self._server.port
        self.url = self._server.url

    def close(self, wait: bool = False) -> None:
        """Stop serving. Without ``wait`` the stop runs in the background: a finished run
        need not sit out the graceful shutdown."""
        self._server.stop(wait=wait)
