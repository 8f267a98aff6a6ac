"""The OpenAPI 3.1 document of ``engine serve``, built from the pydantic models.

Served at ``/api/openapi.json`` and committed as ``docs/openapi.json`` (a test keeps the
two equal; ``python -m engine.observe.openapi > docs/openapi.json`` writes it anew). The
request bodies are the job API's own validation models; the response models below
describe what the handlers return, and tests validate real responses against them.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from engine import __version__
from engine.observe.jobs import ProfileRequest, RunCsvRequest

__all__ = ["ErrorBody", "JobList", "JobView", "openapi_document"]


class ErrorBody(BaseModel):
    """Every 4xx and 5xx answer."""

    error: str = Field(description="a stable code: BadInput, NotFound, Unauthorized, …")
    detail: str = Field(description="what went wrong, for a person")


class JobProgress(BaseModel):
    ops_done: int
    elapsed_seconds: float


class JobSummary(BaseModel):
    """A job as listed."""

    model_config = ConfigDict(extra="allow")

    id: str
    kind: Literal["run-csv", "profile"]
    state: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    submitted: float
    started: float | None
    finished: float | None
    progress: JobProgress


class JobView(JobSummary):
    """One job in full: its request, and its result or error envelope once finished."""

    request: dict[str, Any]
    exit_code: int | None = Field(description="the worker's exit code (docs/error_envelope.md)")
    result: Any = Field(description="the command's --json result: run-csv summary or profile")
    error: dict[str, Any] | None = Field(description="the command's error envelope")
    ticks_url: str | None


class JobList(BaseModel):
    jobs: list[JobSummary]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERRORS = {
    "401": _json(_ref("ErrorBody"), "a token is required (Authorization: Bearer …)"),
    "429": _json(_ref("ErrorBody"), "too many requests, or the job queue is full"),
}


def _job_submission(model: str, summary: str) -> dict[str, Any]:
    return {
        "post": {
            "summary": summary,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref(model)}},
            },
            "responses": {
                "202": _json(_ref("JobView"), "queued; Location names the job"),
                "400": _json(_ref("ErrorBody"), "the body is not a JSON object"),
                "408": _json(_ref("ErrorBody"), "the body did not arrive in time"),
                "413": _json(_ref("ErrorBody"), "the body is over 64 KiB"),
                "415": _json(_ref("ErrorBody"), "the body is not application/json"),
                "422": _json(_ref("ErrorBody"), "invalid fields, settings or workload path"),
                **_ERRORS,
            },
        }
    }


def openapi_document() -> dict[str, Any]:
    """The whole document. Deterministic (sorted when serialised)."""
    models: list[type[BaseModel]] = [
        RunCsvRequest, ProfileRequest, ErrorBody, JobProgress, JobSummary, JobView, JobList
    ]
    schemas: dict[str, Any] = {}
    for model in models:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    job_id = {"name": "job_id", "in": "path", "required": True, "schema": {"type": "string"}}
    plain = {"200": _json({"type": "object"}, "JSON"), **_ERRORS}
    paths: dict[str, Any] = {
        "/healthz": {"get": {"summary": "alive", "security": [], "responses": plain}},
        "/readyz": {
            "get": {
                "summary": "ready to serve and to run jobs",
                "security": [],
                "responses": {**plain, "503": _json({"type": "object"}, "not ready")},
            }
        },
        "/api/openapi.json": {"get": {"summary": "this document", "responses": plain}},
        "/api/metrics": {"get": {"summary": "the latest metrics.v1 tick", "responses": plain}},
        "/api/metrics/history": {
            "get": {
                "summary": "the last ticks",
                "parameters": [
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 0, "maximum": 10_000},
                    }
                ],
                "responses": {**plain, "400": _json(_ref("ErrorBody"), "bad limit")},
            }
        },
        "/api/events": {"get": {"summary": "structural events", "responses": plain}},
        "/api/metrics/histogram/latency": {"get": {"summary": "latency", "responses": plain}},
        "/api/metrics/histogram/probe": {"get": {"summary": "probe lengths", "responses": plain}},
        "/metrics": {
            "get": {
                "summary": "Prometheus exposition",
                "responses": {
                    "200": {
                        "description": "text exposition format",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    },
                    **_ERRORS,
                },
            }
        },
        "/api/jobs/run-csv": _job_submission("RunCsvRequest", "replay a workload"),
        "/api/jobs/profile": _job_submission("ProfileRequest", "profile a workload"),
        "/api/jobs": {
            "get": {"summary": "every job", "responses": {"200": _json(_ref("JobList"), "jobs")}}
        },
        "/api/jobs/{job_id}": {
            "get": {
                "summary": "one job",
                "parameters": [job_id],
                "responses": {
                    "200": _json(_ref("JobView"), "the job"),
                    "404": _json(_ref("ErrorBody"), "no such job"),
                    **_ERRORS,
                },
            },
            "delete": {
                "summary": "cancel a queued job or stop a running one",
                "parameters": [job_id],
                "responses": {
                    "200": _json(_ref("JobView"), "the job, cancelled or stopping"),
                    "404": _json(_ref("ErrorBody"), "no such job"),
                    **_ERRORS,
                },
            },
        },
        "/api/jobs/{job_id}/ticks": {
            "get": {
                "summary": "the run's metrics.v1 ticks, streamed while it runs",
                "parameters": [
                    job_id,
                    {"name": "follow", "in": "query", "schema": {"type": "boolean"}},
                ],
                "responses": {
                    "200": {
                        "description": "one metrics.v1 tick per line",
                        "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
                    },
                    "404": _json(_ref("ErrorBody"), "no such job, or not a run-csv job"),
                    **_ERRORS,
                },
            }
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "engine serve",
            "version": __version__,
            "description": "Metrics of runs and a job API (docs/server.md).",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }


if __name__ == "__main__":
    print(json.dumps(openapi_document(), indent=2, sort_keys=True))
