"""Charts of a live job: a real ``engine serve`` job API on 127.0.0.1, real run-csv jobs,
and the charts and the LiveCharts widget that follow them (explorer.notebook.live)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import ROOT, run_engine

pytest.importorskip("anywidget")
pytest.importorskip("httpx")

from engine.observe.http import ServerThread
from engine.observe.jobs import JobManager, WorkloadFolders
from engine.observe.server import serve
from explorer.notebook import charts, connect, live_charts
from explorer.notebook.live import (
    JobError,
    JobFailed,
    JobNotFound,
    JobRejected,
    JobServer,
    LiveCharts,
    LiveJob,
    ServerUnreachable,
    Unauthorized,
    serve_jobs,
)

NS = "{http://www.w3.org/2000/svg}"
TOKEN = "s3cret"


@pytest.fixture(scope="module")
def workloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("workloads")
    # longest.csv must outlast a few polls and a cancel even on the compiled build
    # (about 1 µs a row there): 3M rows, a few seconds
    for name, ops in (("small.csv", "20000"), ("longest.csv", "3000000")):
        code, _, err = run_engine("generate-csv", "--ops", ops, "--outfile", folder / name)
        assert code == 0, err
    (folder / "bad.csv").write_text("op,key,value\nput,a,1\nfly,b,\n")
    return folder


class Running:
    """An in-process ``engine serve`` with the job API (as tests/test_jobs_api.py)."""

    def __init__(self, workloads: Path, jobs: Path) -> None:
        self.jobs_dir = jobs
        manager = JobManager(WorkloadFolders([str(workloads)]), str(jobs), workers=1,
                             max_queued=4)
        self._running = serve(None, "127.0.0.1", 0, token=TOKEN.encode(), jobs=manager,
                              rate=1e5, burst=10**5)
        self.thread: ServerThread = next(self._running)
        self.url = self.thread.url

    def close(self) -> None:
        self._running.close()


@pytest.fixture
def running(workloads: Path, tmp_path: Path) -> Iterator[Running]:
    server = Running(workloads, tmp_path / "jobs")
    yield server
    server.close()


@pytest.fixture
def server(running: Running) -> Iterator[JobServer]:
    client = connect(running.url, TOKEN)
    yield client
    for job in client.jobs():  # nothing left running into the next test
        if job["state"] in ("queued", "running"):
            client.cancel(job["id"])
    client.close()


def polylines(svg: str) -> dict[str, list[tuple[float, float]]]:
    root = ET.fromstring(svg)
    return {
        line.get("data-name", ""): [tuple(map(float, p.split(",")))  # type: ignore[misc]
                                    for p in line.get("points", "").split()]
        for line in root.iter(f"{NS}polyline")
    }


def points(svg: str) -> dict[str, int]:
    root = ET.fromstring(svg)
    return {g.get("data-title", ""): int(g.get("data-points", "0"))
            for g in root.iter(f"{NS}g") if g.get("class") == "ahm-chart"}


def ndjson(running: Running, job: LiveJob) -> list[dict[str, Any]]:
    path = running.jobs_dir / job.id / "metrics.ndjson"
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def until(condition: Callable[[], bool], limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_charts_of_a_finished_job_are_the_charts_of_its_ticks(
    server: JobServer, running: Running
) -> None:
    job = server.submit("small.csv", backend="robinhood", every_ops=1000)
    assert job.state in ("queued", "running")
    done = job.wait(60)
    assert done["state"] == "succeeded", done
    drawn = charts(job)
    lines = ndjson(running, job)
    # the same ticks the job wrote, drawn as charts() draws its NDJSON file
    assert drawn.series.ticks_seen == len(lines)
    own = charts(running.jobs_dir / job.id / "metrics.ndjson", title=drawn.title)
    assert polylines(drawn.svg) == polylines(own.svg)
    assert drawn.svg == own.svg
    # and they add up to the job's own summary
    result = done["result"]
    assert drawn.series.ops[-1] == result["total_ops"] == 20000
    assert drawn.series.last is not None and drawn.series.last["size"] == result["final_size"]
    assert len(polylines(drawn.svg)["load"]) == len({t["ops"] for t in lines}) == 20
    assert f"job {job.id} (succeeded): 20,000 operations" in drawn.svg
    assert job.charts().svg == drawn.svg and server.job(job.id).charts().svg == drawn.svg
    late = LiveCharts(job)  # a widget on a job that has already ended
    assert late.wait(30) == "succeeded" and late.ticks == len(lines)
    assert polylines(late.svg) == polylines(drawn.svg)


def test_charts_of_a_running_job_show_what_it_has_written_so_far(server: JobServer) -> None:
    job = server.submit("longest.csv", every_ops=100000)  # still running when drawn
    until(lambda: job.refresh()["state"] == "running"
          and job.info["progress"]["ops_done"] >= 300000)
    now = charts(job)
    assert 3 <= now.series.ticks_seen < 31 and "(running)" in now.title
    assert points(now.svg)["throughput (ops/s)"] == now.series.ticks_seen
    final = job.wait(60)
    assert final["state"] == "succeeded"
    assert charts(job).series.ticks_seen == 31 > now.series.ticks_seen


def test_the_widget_redraws_while_the_job_runs_and_stops_when_it_ends(
    server: JobServer, running: Running
) -> None:
    # longest.csv: long enough for several polls while it runs, even on the compiled build
    # (long.csv was done in one poll there once Robin Hood's default load limit was 0.8)
    job = server.submit("longest.csv", every_ops=100000)
    w = LiveCharts(job, refresh_s=0.05, poll_s=0.1)
    assert w.following and w.job_id == job.id and w.state in ("queued", "running")
    drawn: list[tuple[str, int, dict[str, int]]] = []
    w.observe(lambda _: drawn.append((w.state, w.ticks, points(w.svg))), "svg")
    assert w.wait(60) == "succeeded"
    assert not w.following and w._thread is not None and not w._thread.is_alive()
    lines = ndjson(running, job)
    assert w.ticks == len(lines) == 31 and w.ops_done == 3000000 and w.message == ""
    while_running = [(ticks, p) for state, ticks, p in drawn if state == "running"]
    assert len(while_running) >= 2, drawn  # redrawn as ticks came, not only at the end
    counts = [p["throughput (ops/s)"] for _, p in while_running]
    assert counts == sorted(counts) and counts[0] < counts[-1] <= 30
    # the last picture: every tick (the final one repeats the count: one point for both),
    # the final state, the same as charts() of the job
    assert drawn[-1][0] == "succeeded"
    assert drawn[-1][2]["throughput (ops/s)"] == len({t["ops"] for t in lines}) == 30
    assert polylines(w.svg) == polylines(charts(job).svg)
    assert "(succeeded)" in w.svg
    renders = w.renders
    time.sleep(0.3)
    assert w.renders == renders  # nothing redraws after the end
    bundle = w._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert data["image/svg+xml"] == w.svg  # a static export keeps the picture
    w.close()


def test_closing_the_widget_stops_following_at_once(server: JobServer) -> None:
    job = server.submit("longest.csv", every_ops=20000, every_seconds=60)
    queued = server.submit("small.csv")  # waits behind it (one worker)
    w = job.widget(refresh_s=0.05, poll_s=0.1)
    q = LiveCharts(queued, refresh_s=0.05, poll_s=0.1)
    until(lambda: w.ticks >= 1)
    # the waiting job: shown queued, with empty charts; cancelled from its widget while
    # the first job still runs
    assert q.state == "queued" and q.following and q.ticks == 0 and "(queued)" in q.svg
    q.cancel()
    assert q.wait(10) == "cancelled" and q.ticks == 0
    assert q.message == f"job {queued.id} cancelled before it started"
    started = time.monotonic()
    w.close()
    assert time.monotonic() - started < 2.0
    assert not w.following and w._thread is not None and not w._thread.is_alive()
    ticks = w.ticks
    assert job.refresh()["state"] == "running"  # the job goes on: only the widget stopped
    job.wait(60)
    assert w.ticks == ticks


def test_a_failed_job_is_an_exception_and_a_message(server: JobServer) -> None:
    job = server.submit("bad.csv")
    w = LiveCharts(job, refresh_s=0.05, poll_s=0.1)
    assert w.wait(60) == "failed"
    assert not w.following
    assert f"job {job.id} failed (exit code 2): BadInput:" in w.message
    assert "row 2" in w.message and "(failed)" in w.svg
    with pytest.raises(JobFailed, match="row 2") as caught:
        charts(job)
    assert caught.value.job["exit_code"] == 2
    assert job.charts(failed_ok=True).series.ticks_seen == 0


def test_cancelling_from_the_widget(server: JobServer) -> None:
    job = server.submit("longest.csv", every_ops=20000)  # still running when cancelled
    w = LiveCharts(job, refresh_s=0.05, poll_s=0.1)
    until(lambda: w.ticks >= 2)
    w._message_from_view(w, {"type": "cancel"}, [])  # what the "cancel job" button sends
    assert w.wait(60) == "cancelled"
    assert "cancelled (exit code 130)" in w.message
    assert "ticks written before it stopped" in w.message
    assert 2 <= w.ticks < 151 and charts(job).series.ticks_seen == w.ticks


def test_a_server_that_goes_away_is_a_message(workloads: Path, tmp_path: Path) -> None:
    running = Running(workloads, tmp_path / "jobs")
    try:
        job = connect(running.url, TOKEN).submit("longest.csv", every_ops=20000)
        w = LiveCharts(job, refresh_s=0.05, poll_s=0.1)
        until(lambda: w.ticks >= 1)
    finally:
        running.close()
    w.wait(15)
    assert not w.following
    # the state stays the last one the server gave; the message says why nothing moves
    assert w.state == "running"
    assert w.message.startswith(f"lost the engine server at {running.url}"), w.message


def test_errors_are_one_clear_exception(server: JobServer, running: Running) -> None:
    def raised(kind: type[Exception], call: Callable[[], object], text: str) -> None:
        with pytest.raises(kind, match=text) as caught:
            call()
        error = caught.value  # no httpx error chained to it: one message, not two tracebacks
        assert error.__cause__ is None
        assert error.__context__ is None or error.__suppress_context__

    raised(Unauthorized, lambda: connect(running.url, "wrong"), "the token is not the server's")
    raised(Unauthorized, lambda: connect(running.url), "no token was sent")
    raised(JobNotFound, lambda: server.job("nope"), "job 'nope': no such job")
    raised(JobNotFound, lambda: live_charts(running.url, "nope", token=TOKEN), "no such job")
    raised(JobRejected, lambda: server.submit("../small.csv"), "outside the workload folders")
    raised(JobRejected, lambda: server.submit("small.csv", every_ops=0), "422")
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    raised(ServerUnreachable, lambda: connect(f"http://127.0.0.1:{port}"),
           f"cannot reach the engine server at http://127.0.0.1:{port}")
    raised(ServerUnreachable, lambda: connect("nothing here"), "nothing here")
    profile = LiveJob(server, server.request("POST", "/api/jobs/profile", "a profile",
                                             json={"csv": "small.csv", "sample": 100}))
    raised(JobError, lambda: charts(profile), "only run-csv jobs have ticks")
    raised(JobError, lambda: LiveCharts(profile), "only run-csv jobs have ticks")
    with pytest.raises(ValueError, match="either a job id or a csv"):
        live_charts(running.url, token=TOKEN)
    with pytest.raises(TypeError, match="cannot draw a int"):
        charts(42)


def test_a_server_without_jobs_says_so(tmp_path: Path) -> None:
    from engine.observe.server import MetricsStore

    source = tmp_path / "m.ndjson"
    source.write_text("")
    running = serve(MetricsStore(str(source)), "127.0.0.1", 0)
    try:
        with pytest.raises(JobError, match="runs no jobs: start engine serve with --workload"):
            connect(next(running).url)
    finally:
        running.close()


def test_live_charts_submits_a_workload(server: JobServer, running: Running) -> None:
    w = live_charts(running.url, csv="small.csv", token=TOKEN, every_ops=5000)
    assert w.wait(60) == "succeeded"
    assert w.ticks == len(ndjson(running, w.job)) == 5  # 4 ticks and the final one


def test_a_local_server_for_a_notebook(workloads: Path, tmp_path: Path) -> None:
    with serve_jobs(workloads, jobs_dir=tmp_path / "jobs", token=TOKEN) as local:
        assert local.url.startswith("http://127.0.0.1:")
        with pytest.raises(Unauthorized):
            connect(local.url)
        job = local.connect().submit("small.csv", every_ops=10000)
        assert job.wait(60)["state"] == "succeeded"
        assert charts(job).series.ops == [10000, 20000]
    assert local.process.poll() is not None  # stopped with the block
    assert (tmp_path / "jobs" / job.id / "metrics.ndjson").is_file()
    assert "Traceback" not in local.log.read_text("utf-8")


def test_the_live_module_imports_without_httpx() -> None:
    code = (
        "import sys; sys.modules['httpx'] = None; "
        "import explorer.notebook as nb; from explorer.notebook import live; "
        "s = live.JobServer('http://127.0.0.1:1');\n"
        "try:\n    s.jobs()\nexcept ImportError as e:\n    print(e)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    assert "charts of a live job need httpx: install the [notebook] extra" in out
