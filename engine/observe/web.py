"""Starlette helpers for the engine's HTTP apps: JSON error answers for every status.

``engine serve`` builds its app with :func:`json_app`; :mod:`engine.observe.http` serves
it. Starlette loads only when ``engine serve`` runs.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

__all__ = ["json_app", "json_error"]

LOG = logging.getLogger("engine")


def json_error(status: int, error: str, detail: str, **headers: str) -> JSONResponse:
    """The body every error answer has: ``{"error": ..., "detail": ...}``."""
    return JSONResponse({"error": error, "detail": detail}, status_code=status, headers=headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    names = {404: "NotFound", 405: "MethodNotAllowed", 413: "PayloadTooLarge"}
    error = names.get(exc.status_code, "HTTPError")
    detail = exc.detail if exc.status_code != 404 else f"no endpoint {request.url.path[:100]!r}"
    return json_error(exc.status_code, error, str(detail), **dict(exc.headers or {}))


async def _server_error(request: Request, exc: Exception) -> Response:
    LOG.error("internal error serving %s", request.url.path, exc_info=exc)
    return json_error(500, "Internal", "the server failed; see its log")


def json_app(routes: list[Any], **kwargs: Any) -> Starlette:
    """A Starlette app whose every error answer is JSON."""
    return Starlette(
        routes=routes,
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
        **kwargs,
    )
