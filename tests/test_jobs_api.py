"""The job API of ``engine serve`` (#12, item 7): submit, poll, stream ticks, cancel, bad
bodies, the token, path traversal, a full queue, and the OpenAPI document."""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cli_helpers import ROOT, assert_ok, run_engine

from engine.observe.jobs import JobManager, WorkloadFolders
from engine.observe.openapi import JobList, JobView, openapi_document
from engine.observe.schema import MetricsTick
from engine.observe.server import serve

TOKEN = "s3cret"


@pytest.fixture(scope="module")
def workloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("workloads")
    for name, ops in (("small.csv", "20000"), ("long.csv", "3000000")):
        code, _, err = run_engine("generate-csv", "--ops", ops, "--outfile", folder / name)
        assert code == 0, err
    (folder / "sub").mkdir()
    (folder / "sub" / "bad.csv").write_text("op,key,value\nput,a,1\nfly,b,\n")
    secret = tmp_path_factory.mktemp("outside") / "secret.csv"
    secret.write_text("op,key,value\nput,secret,1\n")
    (folder / "escape.csv").symlink_to(secret)
    return folder


@pytest.fixture
def api(workloads: Path, tmp_path: Path) -> Iterator[httpx.Client]:
    manager = JobManager(
        WorkloadFolders([str(workloads)]), str(tmp_path / "jobs"), workers=1, max_queued=3
    )
    running = serve(None, "127.0.0.1", 0, token=TOKEN.encode(), jobs=manager, rate=1e5,
                    burst=10**5, request_timeout=1.0)
    server = next(running)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
        yield client
    running.close()


def _submit(api: httpx.Client, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    response = api.post(f"/api/jobs/{kind}", json=body)
    assert response.status_code == 202, response.text
    assert response.headers["location"] == f"/api/jobs/{response.json()['id']}"
    return response.json()  # type: ignore[no-any-return]


def _wait(api: httpx.Client, job_id: str, states: set[str], limit: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        job = api.get(f"/api/jobs/{job_id}").json()
        if job["state"] in states:
            JobView.model_validate(job)
            return job  # type: ignore[no-any-return]
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} never reached {states}")


def test_a_run_csv_job_gives_what_the_command_gives(api: httpx.Client, workloads: Path) -> None:
    settings = {"robinhood": {"capacity": 4096, "max_load_factor": 0.8}}
    job = _submit(api, "run-csv", {"csv": "small.csv", "backend": "robinhood",
                                   "settings": settings})
    assert job["state"] in ("queued", "running")
    done = _wait(api, job["id"], {"succeeded", "failed"})
    assert done["state"] == "succeeded" and done["exit_code"] == 0, done
    toml = workloads.parent / "cli-settings.toml"  # the same settings through the CLI
    toml.write_text('[robinhood]\ncapacity = 4096\nmax_load_factor = 0.8\n')
    code, out, err = run_engine("--json", "--config", toml, "--backend", "robinhood",
                                "run-csv", "--csv", workloads / "small.csv")
    assert code == 0, err
    cli = assert_ok(out, "run-csv")
    for key in ("total_ops", "ops", "final_size", "get_hits", "final_backend", "final_stats"):
        assert done["result"][key] == cli[key], key
    assert done["progress"]["ops_done"] == 20000
    ticks = api.get(f"/api/jobs/{job['id']}/ticks")
    assert ticks.headers["content-type"].startswith("application/x-ndjson")
    lines = ticks.text.splitlines()
    assert lines and all(MetricsTick.model_validate(json.loads(line)) for line in lines)
    assert json.loads(lines[-1])["ops"] == 20000
    JobList.model_validate(api.get("/api/jobs").json())


def test_a_profile_job(api: httpx.Client) -> None:
    job = _submit(api, "profile", {"csv": "small.csv", "sample": 2000})
    done = _wait(api, job["id"], {"succeeded", "failed"})
    assert done["state"] == "succeeded", done
    assert done["result"]["recommended_mode"] in ("adaptive", "fast-insert", "fast-lookup",
                                                   "memory-tight")
    assert done["ticks_url"] is None
    assert api.get(f"/api/jobs/{job['id']}/ticks").status_code == 404


def test_ticks_stream_while_the_job_runs_and_end_with_it(api: httpx.Client) -> None:
    job = _submit(api, "run-csv", {"csv": "long.csv", "metrics_every_ops": 50000})
    _wait(api, job["id"], {"running"})
    seen_while_running = 0
    last_ops = 0
    with api.stream("GET", f"/api/jobs/{job['id']}/ticks") as stream:
        for line in stream.iter_lines():
            tick = json.loads(line)
            assert tick["ops"] >= last_ops
            last_ops = tick["ops"]
            if api.get(f"/api/jobs/{job['id']}").json()["state"] == "running":
                seen_while_running += 1
    done = _wait(api, job["id"], {"succeeded"})
    assert seen_while_running >= 2
    assert last_ops == done["result"]["total_ops"] == 3_000_000


def test_cancel_a_queued_and_a_running_job(api: httpx.Client) -> None:
    running = _submit(api, "run-csv", {"csv": "long.csv"})
    queued = _submit(api, "run-csv", {"csv": "small.csv"})
    _wait(api, running["id"], {"running"})
    assert api.get(f"/api/jobs/{queued['id']}").json()["state"] == "queued"  # one worker
    assert api.delete(f"/api/jobs/{queued['id']}").json()["state"] == "cancelled"
    time.sleep(0.5)
    stopped = api.delete(f"/api/jobs/{running['id']}")
    assert stopped.status_code == 200
    done = _wait(api, running["id"], {"cancelled", "failed", "succeeded"})
    assert done["state"] == "cancelled" and done["exit_code"] == 130, done
    assert done["error"]["error"] == "Interrupted"
    assert api.get(f"/api/jobs/{queued['id']}").json()["started"] is None
    assert api.delete("/api/jobs/nope").status_code == 404


def test_a_full_queue_is_429(api: httpx.Client) -> None:
    first = _submit(api, "run-csv", {"csv": "long.csv"})
    _wait(api, first["id"], {"running"})
    for _ in range(3):
        _submit(api, "run-csv", {"csv": "small.csv"})
    refused = api.post("/api/jobs/run-csv", json={"csv": "small.csv"})
    assert refused.status_code == 429 and refused.json()["error"] == "QueueFull"
    for job in api.get("/api/jobs").json()["jobs"]:
        api.delete(f"/api/jobs/{job['id']}")


def test_a_failing_workload_is_a_failed_job_with_the_envelope(api: httpx.Client) -> None:
    job = _submit(api, "run-csv", {"csv": "sub/bad.csv"})
    done = _wait(api, job["id"], {"succeeded", "failed"})
    assert done["state"] == "failed" and done["exit_code"] == 2
    assert done["error"]["error"] == "BadInput" and "row 2" in done["error"]["detail"]


@pytest.mark.parametrize(
    "csv",
    ["../small.csv", "/etc/passwd", "escape.csv", "sub/../../small.csv", "~/x.csv",
     "missing.csv", "sub", "a\x00b"],
)
def test_workload_paths_stay_inside_the_folders(api: httpx.Client, csv: str) -> None:
    response = api.post("/api/jobs/run-csv", json={"csv": csv})
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "BadInput"


def test_a_path_through_a_subfolder_inside_is_fine(api: httpx.Client) -> None:
    job = _submit(api, "run-csv", {"csv": "sub/../small.csv"})
    assert _wait(api, job["id"], {"succeeded", "failed"})["state"] == "succeeded"


@pytest.mark.parametrize(
    ("content", "kind", "status", "error"),
    [
        (b"not json", "application/json", 400, "BadRequest"),
        (b"[1, 2]", "application/json", 400, "BadRequest"),
        (b'{"csv": "small.csv"}', "text/plain", 415, "UnsupportedMediaType"),
        (b'{"csv": "small.csv", "rogue": 1}', "application/json", 422, "BadInput"),
        (b'{"csv": "small.csv", "metrics_every_ops": 0}', "application/json", 422, "BadInput"),
        (b'{"csv": "small.csv", "metrics_every_seconds": NaN}', "application/json", 422,
         "BadInput"),
        (b'{"csv": "small.csv", "settings": {"robinhood": {"capacity": "x"}}}',
         "application/json", 422, "BadInput"),
        (b'{"csv": "small.csv", "settings": {"nope": 1}}', "application/json", 422, "BadInput"),
        (b'{"csv": "' + b"a" * 70_000 + b'"}', "application/json", 413, "PayloadTooLarge"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", 413, "PayloadTooLarge"),
    ],
)
def test_bad_bodies_are_4xx_json(
    api: httpx.Client, content: bytes, kind: str, status: int, error: str
) -> None:
    response = api.post("/api/jobs/run-csv", content=content, headers={"content-type": kind})
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert set(response.json()) == {"error", "detail"}


def test_deeply_nested_json_is_bad_input(api: httpx.Client) -> None:
    content = b"[" * 30_000 + b"]" * 30_000
    response = api.post("/api/jobs/run-csv", content=content,
                        headers={"content-type": "application/json"})
    assert response.status_code == 400 and response.json()["error"] == "BadRequest"


def test_a_body_that_never_arrives_times_out(api: httpx.Client) -> None:
    host, port = api.base_url.host, api.base_url.port
    assert port is not None
    with socket.create_connection((host, port)) as s:
        s.sendall(
            b"POST /api/jobs/run-csv HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Authorization: Bearer " + TOKEN.encode() + b"\r\nContent-Length: 100\r\n\r\n{"
        )
        s.settimeout(5)
        reply = s.recv(4096)
    assert reply.startswith(b"HTTP/1.1 408")


def test_the_token_guards_every_api_route(api: httpx.Client) -> None:
    bare = httpx.Client(base_url=str(api.base_url), timeout=10)
    with bare:
        for method, path in (("GET", "/api/jobs"), ("POST", "/api/jobs/run-csv"),
                             ("GET", "/api/jobs/x"), ("DELETE", "/api/jobs/x"),
                             ("GET", "/api/openapi.json")):
            body = {"csv": "small.csv"} if method == "POST" else None
            response = bare.request(method, path, json=body)
            assert response.status_code == 401, (method, path)
            assert response.json()["error"] == "Unauthorized"
        assert bare.get("/healthz").status_code == 200
        assert bare.get("/readyz").json() == {"ready": True, "metrics": False, "jobs": True}


def test_jobs_are_off_without_workload_folders(tmp_path: Path) -> None:
    source = tmp_path / "m.ndjson"
    source.write_text("")
    from engine.observe.server import MetricsStore

    running = serve(MetricsStore(str(source)), "127.0.0.1", 0)
    server = next(running)
    try:
        response = httpx.post(f"{server.url}/api/jobs/run-csv", json={"csv": "x"})
        assert response.status_code == 404 and response.json()["error"] == "JobsOff"
    finally:
        running.close()


def test_the_committed_openapi_document_is_the_served_one(api: httpx.Client) -> None:
    served = api.get("/api/openapi.json").json()
    committed = json.loads((ROOT / "docs" / "openapi.json").read_text())
    assert served == committed == json.loads(json.dumps(openapi_document()))
    assert set(served["paths"]) >= {
        "/api/jobs/run-csv", "/api/jobs/profile", "/api/jobs", "/api/jobs/{job_id}",
        "/api/jobs/{job_id}/ticks", "/healthz", "/readyz", "/metrics",
    }


def test_the_job_folder_made_by_the_server_goes_with_it(workloads: Path) -> None:
    manager = JobManager(WorkloadFolders([str(workloads)]))
    assert manager.root.is_dir()
    manager.close()
    assert not manager.root.exists()


def test_the_command_serves_jobs(workloads: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("ADHASH_")}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "--json", "serve", "--workload-dir",
         str(workloads), "--jobs-dir", str(tmp_path / "jobs"), "--port", "0"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        started = json.loads(proc.stdout.readline())["result"]
        assert started["jobs_dir"] == str(tmp_path / "jobs")
        job = httpx.post(f"{started['url']}/api/jobs/run-csv", json={"csv": "small.csv"}).json()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            state = httpx.get(f"{started['url']}/api/jobs/{job['id']}").json()["state"]
            if state == "succeeded":
                break
            time.sleep(0.1)
        assert state == "succeeded"
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    assert "Traceback" not in err
    assert (tmp_path / "jobs" / job["id"] / "metrics.ndjson").exists()  # --jobs-dir stays


def test_a_cancel_that_beats_the_workers_start_is_a_clean_cancel(tmp_path: Path) -> None:
    """SIGTERM can reach a worker before it has set up its clean stop (it is still
    importing): the process dies of the signal. That job is cancelled with exit 130 and
    an Interrupted envelope, as a cancel a moment later would be, not a failed job with
    an Internal error."""
    import sys

    from engine.observe.jobs import Job

    manager = JobManager(WorkloadFolders([str(tmp_path)]), str(tmp_path / "jobs"))
    try:
        folder = tmp_path / "jobs" / "early"
        folder.mkdir(parents=True)
        # a worker with no SIGTERM handler yet: the default action kills it
        job = Job(id="early", kind="run-csv", request={}, folder=folder,
                  argv=[sys.executable, "-c", "import time; time.sleep(60)"])
        with manager._lock:
            manager._jobs[job.id] = job
            manager._queue.append(job)
            manager._wake.notify_all()
        deadline = time.monotonic() + 10
        while job.process is None and time.monotonic() < deadline:
            time.sleep(0.01)
        manager.cancel(job.id)
        while job.state not in ("cancelled", "failed") and time.monotonic() < deadline:
            time.sleep(0.01)
        assert job.state == "cancelled" and job.exit_code == 130
        assert job.error is not None and job.error["error"] == "Interrupted"
    finally:
        manager.close()
