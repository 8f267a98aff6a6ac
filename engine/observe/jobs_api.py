"""The job API's routes: ``/api/jobs…`` over a :class:`~engine.observe.jobs.JobManager`.

``POST /api/jobs/run-csv`` and ``POST /api/jobs/profile`` (202 with the job),
``GET /api/jobs``, ``GET /api/jobs/{id}``, ``GET /api/jobs/{id}/ticks`` (the run's
``metrics.v1`` ticks as NDJSON, streamed while it runs), ``DELETE /api/jobs/{id}``.
Bodies are JSON objects of at most 64 KiB, read within the request timeout.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from engine.errors import BadInputError, PolicyError
from engine.observe.jobs import FINISHED, Job, JobManager
from engine.observe.web import json_error

__all__ = ["MAX_BODY_BYTES", "job_routes"]

MAX_BODY_BYTES = 64 * 1024
_POLL = 0.2
_CHUNK = 1 << 16


def job_routes(manager: JobManager, request_timeout: float = 10.0) -> list[Route]:
    """The routes of the job API, bound to ``manager``."""

    async def read_body(request: Request) -> bytes:
        declared = request.headers.get("content-length", "0")
        if not declared.isdigit() or int(declared) > MAX_BODY_BYTES:
            raise _Refused(413, "PayloadTooLarge", f"the body is over {MAX_BODY_BYTES} bytes")
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY_BYTES:  # a chunked body that declared no length
                raise _Refused(413, "PayloadTooLarge", f"the body is over {MAX_BODY_BYTES} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    async def read_json(request: Request) -> Any:
        try:
            raw = await asyncio.wait_for(read_body(request), request_timeout)
        except TimeoutError:
            raise _Refused(408, "RequestTimeout", "the body did not arrive in time") from None
        except ClientDisconnect:
            raise _Refused(400, "BadRequest", "the client went away") from None
        kind = request.headers.get("content-type", "")
        if not kind.startswith("application/json"):
            raise _Refused(415, "UnsupportedMediaType", "send Content-Type: application/json")
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            raise _Refused(400, "BadRequest", "the body is not JSON") from None
        if not isinstance(body, dict):
            raise _Refused(400, "BadRequest", "the body must be a JSON object")
        return body

    def submitter(kind: str) -> Any:
        async def submit(request: Request) -> Response:
            try:
                body = await read_json(request)
                job = manager.submit(kind, body)  # type: ignore[arg-type]
            except _Refused as refused:
                return refused.response()
            except BadInputError as exc:
                return json_error(422, "BadInput", exc.detail)
            except PolicyError as exc:
                return json_error(429, "QueueFull", exc.detail, **{"retry-after": "5"})
            return JSONResponse(
                job.to_dict(), status_code=202, headers={"location": f"/api/jobs/{job.id}"}
            )

        return submit

    def found(request: Request) -> Job | Response:
        job = manager.get(request.path_params["job_id"])
        if job is None:
            return json_error(404, "NotFound", "no such job")
        return job

    async def list_jobs(request: Request) -> Response:
        return JSONResponse({"jobs": [job.to_dict(detail=False) for job in manager.list()]})

    async def show(request: Request) -> Response:
        job = found(request)
        return job if isinstance(job, Response) else JSONResponse(job.to_dict())

    async def cancel(request: Request) -> Response:
        job = found(request)
        if isinstance(job, Response):
            return job
        manager.cancel(job.id)
        return JSONResponse(job.to_dict())

    async def ticks(request: Request) -> Response:
        job = found(request)
        if isinstance(job, Response):
            return job
        if job.kind != "run-csv":
            return json_error(404, "NotFound", "only run-csv jobs have ticks")
        follow = request.query_params.get("follow", "true") != "false"
        return StreamingResponse(_stream(job, follow), media_type="application/x-ndjson")

    return [
        Route("/api/jobs/run-csv", submitter("run-csv"), methods=["POST"]),
        Route("/api/jobs/profile", submitter("profile"), methods=["POST"]),
        Route("/api/jobs", list_jobs),
        Route("/api/jobs/{job_id:str}", show),
        Route("/api/jobs/{job_id:str}", cancel, methods=["DELETE"]),
        Route("/api/jobs/{job_id:str}/ticks", ticks),
    ]


async def _stream(job: Job, follow: bool) -> AsyncIterator[bytes]:
    """The job's complete tick lines; while it runs (and ``follow``), new ones as they
    are written; ends once the job has finished and every line was sent."""
    offset = 0
    partial = b""
    while True:
        finished = job.state in FINISHED  # before reading: a finished job writes no more
        try:
            with open(job.ticks_path, "rb") as handle:
                handle.seek(offset)
                data = handle.read(_CHUNK)
        except FileNotFoundError:
            data = b""
        offset += len(data)
        buffer = partial + data
        cut = buffer.rfind(b"\n") + 1
        if cut:
            yield buffer[:cut]
        partial = buffer[cut:]
        if len(data) == _CHUNK:
            continue  # more to read right away
        if finished or not follow:
            return
        await asyncio.sleep(_POLL)


class _Refused(Exception):
    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail = status, error, detail

    def response(self) -> Response:
        return json_error(self.status, self.error, self.detail)
