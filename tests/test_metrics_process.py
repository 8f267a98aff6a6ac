"""``run-csv --metrics-port`` served by an endpoint process: the exposition it renders is
the in-process one, it ends with the replay (even a SIGKILLed one), a busy port or a
failing endpoint is an error of the contract, and a stuck endpoint never stalls a run."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from cli_helpers import ROOT, assert_envelope, run_engine, start_replay_serving_metrics
from prometheus_client import CollectorRegistry, generate_latest

import engine
from engine.errors import IOFailureError
from engine.observe import endpoint_process
from engine.observe.buckets import LATENCY_BUCKETS, LatencyCounts
from engine.observe.endpoint_process import WORKER_FLAG, MetricsProcess
from engine.observe.metrics import MetricsProducer
from engine.observe.prometheus import TickCollector

SMALL = ROOT / "resources" / "workloads" / "mixed-small.csv"


def _scrape(port: int, path: str = "/metrics") -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
        return str(response.read().decode())


def _scrape_until(port: int, wanted: str, seconds: float = 30) -> str:
    """The first body that contains ``wanted`` (the endpoint may still be starting)."""
    body = ""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            body = _scrape(port)
        except OSError:
            body = ""
        if wanted in body:
            return body
        time.sleep(0.05)
    raise AssertionError(f"no {wanted!r} in time; last body:\n{body}")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _gone(pid: int) -> bool:
    """Exited: no such process, or a zombie waiting for its new parent to reap it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError:
        return True
    return False


def test_the_hidden_entry_is_the_worker_flag() -> None:
    """``python -m engine.cli WORKER_FLAG SPEC`` enters the endpoint process: a bad spec
    is one line on stdout and exit 1, never the CLI's parser."""
    proc = subprocess.run(
        [sys.executable, "-m", "engine.cli", WORKER_FLAG, "not json"],
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stdout.startswith("bad endpoint spec:")


def test_a_worker_that_cannot_serve_reports_why(tmp_path: Path) -> None:
    spec = '{"fd": 987, "host": "127.0.0.1", "log": null}'
    proc = subprocess.run(
        [sys.executable, "-m", "engine.cli", WORKER_FLAG, spec],
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        input="",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # stdin ended at once, so the worker may exit 0 before it tries the socket; if it
    # got that far, it says what failed
    assert proc.returncode in (0, 1)
    if proc.returncode == 1:
        assert "OSError" in proc.stdout or "Bad file descriptor" in proc.stdout


def test_the_exposition_is_the_in_process_one() -> None:
    """The same tick and sampled latencies render byte for byte as the replay process
    rendered them itself before (a TickCollector fed in-process)."""
    m = engine.AdaptiveMap()
    for i in range(3000):
        m[f"k{i}"] = i
        if i % 5 == 0:
            del m[f"k{i // 2}"]
    tick = MetricsProducer().tick(m)
    samples = [("put", 3e-7), ("get", 1.5e-6), ("get", 2e-6), ("del", 0.02), ("put", 4.4e-5)]
    samples += [("get", (i % 97) * 1.3e-6) for i in range(500)]
    local = TickCollector()
    for op, seconds in samples:
        local.observe_latency(op, seconds)
    local.update(tick)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(local)
    expected = generate_latest(registry).decode()

    served = MetricsProcess("127.0.0.1", 0, log=None)
    try:
        for op, seconds in samples:
            served.observe_latency(op, seconds)
        served.publish(tick)
        body = _scrape_until(served.port, "hashmap_ops_total")
    finally:
        served.close()
    assert body == expected
    assert 'hashmap_op_latency_seconds_bucket{le="1e-06",op="put"} 1.0' in body


def test_latency_counts_use_the_first_bucket_at_or_above() -> None:
    counts = LatencyCounts()
    for seconds in (*LATENCY_BUCKETS, 0.0, 5.0):
        counts.observe("get", seconds)
    assert counts.counts["get"] == [2] + [1] * (len(LATENCY_BUCKETS) - 1) + [1]
    assert counts.counts["put"] == [0] * (len(LATENCY_BUCKETS) + 1)
    assert counts.sums["get"] == pytest.approx(sum(LATENCY_BUCKETS) + 5.0)


def test_the_endpoint_ends_with_a_killed_replay(tmp_path: Path) -> None:
    """SIGKILL leaves the replay no chance to clean up: its endpoint process sees the
    pipe close, exits, and the port stops answering."""
    rows = ["op,key,value"] + [f"put,k{i % 700},{i}" for i in range(5000)]
    (tmp_path / "w.csv").write_text("\n".join(rows) + "\n")
    replay, port = start_replay_serving_metrics(tmp_path / "w.csv", "--metrics-linger", "120")
    try:
        assert "hashmap_ops_total 5000.0" in _scrape_until(port, "hashmap_ops_total 5000.0")
        workers = _children(replay.pid)
        assert len(workers) == 1
    finally:
        replay.kill()
        replay.wait()
    # (a zombie's other threads may still be closing its files: wait for both)
    deadline = time.monotonic() + 10
    while not (_gone(workers[0]) and _refused(port)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(workers[0])
    assert _refused(port)


def test_a_finished_replay_leaves_no_endpoint_behind(tmp_path: Path) -> None:
    code, out, err = run_engine(
        "--json", "run-csv", "--csv", SMALL, "--metrics-port", "0", "--metrics-linger", "0.5"
    )
    assert code == 0, err
    port = json.loads(out)["result"]["metrics_port"]
    deadline = time.monotonic() + 10
    while not _refused(port) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _refused(port)


def test_lingering_serves_the_final_tick(tmp_path: Path) -> None:
    """With ticks far apart, only the final tick carries the whole run: the linger must
    hand it over (and /healthz answers meanwhile)."""
    rows = ["op,key,value"] + [f"put,k{i},{i}" for i in range(777)]
    (tmp_path / "w.csv").write_text("\n".join(rows) + "\n")
    replay, port = start_replay_serving_metrics(
        tmp_path / "w.csv", "--metrics-every-ops", "1000000", "--metrics-linger", "60"
    )
    try:
        body = _scrape_until(port, "hashmap_ops_total 777.0")
        assert "hashmap_puts_total 777.0" in body
        assert _scrape(port, "/healthz") == '{"ok": true}'
        for method, path, status, error in (
            ("GET", "/nope", 404, "NotFound"),
            ("POST", "/metrics", 405, "MethodNotAllowed"),
        ):  # the hardened stack's JSON errors, from the endpoint process
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request(method, path)
            response = conn.getresponse()
            assert (response.status, json.loads(response.read())["error"]) == (status, error)
            conn.close()
        assert replay.poll() is None  # still lingering
    finally:
        replay.kill()
        replay.wait()


def test_a_busy_port_fails_at_once_as_before(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        code, out, err = run_engine("run-csv", "--csv", SMALL, "--metrics-port", str(port))
    assert code == IOFailureError.exit_code
    assert out == ""
    envelope = assert_envelope(err, "IO")
    assert envelope["detail"] == f"cannot listen on 127.0.0.1:{port}: Address already in use"
    assert envelope["hint"] == "pick a free port, or 0 for any"
    assert time.monotonic() - started < 30


def test_a_failing_endpoint_fails_the_lingering_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An endpoint process that dies (here: at once, saying why) is an IO error of the
    run, reported while it lingers instead of after the whole linger."""
    script = "import sys; print('cannot import the HTTP stack'); sys.exit(1)"
    monkeypatch.setattr(
        endpoint_process, "worker_command", lambda spec: [sys.executable, "-c", script]
    )
    from engine.cli import main

    started = time.monotonic()
    code = main(["run-csv", "--csv", str(SMALL), "--metrics-port", "0", "--metrics-linger", "60"])
    assert time.monotonic() - started < 30
    assert code == IOFailureError.exit_code
    envelope = assert_envelope(capsys.readouterr().err, "IO")
    assert envelope["detail"] == (
        "the metrics endpoint stopped (exit code 1): cannot import the HTTP stack"
    )


def test_an_endpoint_that_cannot_be_started_is_an_io_error() -> None:
    with pytest.raises(IOFailureError, match="cannot start the metrics endpoint"):
        MetricsProcess("127.0.0.1", 0, log=None, command=["/nonexistent/engine"])


def test_an_endpoint_that_dies_mid_run_fails_the_next_tick() -> None:
    served = MetricsProcess("127.0.0.1", 0, log=None)
    try:
        served.publish({"ops": 1})
        os.kill(served.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        with pytest.raises(IOFailureError, match=r"exit code -9"):
            while time.monotonic() < deadline:
                served.publish({"ops": 2})
                time.sleep(0.01)
    finally:
        served.close()


def test_a_stuck_endpoint_never_stalls_the_replay() -> None:
    """An endpoint that never reads: the pipe fills, the newest tick waits (replacing
    older ones), and publishing stays non-blocking."""
    stuck = [sys.executable, "-c", "import time; time.sleep(120)"]
    served = MetricsProcess("127.0.0.1", 0, log=None, command=stuck)
    try:
        tick = {"events": ["x" * 200] * 50}  # about 10 KB a line: the pipe fills quickly
        started = time.monotonic()
        for _ in range(2000):
            served.publish(tick)
        assert time.monotonic() - started < 5
        assert served.dropped > 1900
        served.linger(0.2)  # bounded too
        assert time.monotonic() - started < 6
    finally:
        served.close()
        os.kill(served.pid, signal.SIGKILL)


def test_a_replay_with_metrics_on_loads_no_http_stack(tmp_path: Path) -> None:
    """The replay process itself: no prometheus-client, uvicorn, asyncio or logging."""
    code = (
        "import sys; from engine.cli import main; "
        f"main(['run-csv', '--csv', {str(SMALL)!r}, '--metrics-port', '0']); "
        "print(' '.join(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    loaded = set(out.split())
    assert {"engine.observe.endpoint_process", "subprocess"} <= loaded
    assert not {"prometheus_client", "uvicorn", "asyncio", "h11", "ssl", "logging"} & loaded


def test_a_published_line_is_the_json_of_tick_and_latency(tmp_path: Path) -> None:
    """``publish`` and ``publish_encoded`` (the tick encoded once, for the file as well)
    write the bytes of ``json.dumps({"tick": .., "latency": ..})``, compact, a line each."""
    out = tmp_path / "pipe.bin"
    copy = f"import shutil, sys; shutil.copyfileobj(sys.stdin.buffer, open({str(out)!r}, 'wb'))"
    served = MetricsProcess("127.0.0.1", 0, log=None, command=[sys.executable, "-c", copy])
    m = engine.AdaptiveMap()
    for i in range(300):
        m[f"k{i}"] = i
    tick = MetricsProducer().tick(m)
    tick["events"] = [{"type": "resize", "note": 'é \u2028 "q"', "t": 0.5}]
    expected = []
    try:
        for op, seconds in (("put", 3e-6), ("get", 0.02), ("del", 1e-7)):
            served.observe_latency(op, seconds)
            latency = {"counts": served.latency.counts, "sums": served.latency.sums}
            line = json.dumps({"tick": tick, "latency": latency}, separators=(",", ":"))
            expected.append(line + "\n")
            if op == "get":
                served.publish(tick)
            else:
                served.publish_encoded(json.dumps(tick, separators=(",", ":")))
    finally:
        served.close()
    wanted = "".join(expected).encode()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (not out.exists() or out.stat().st_size < len(wanted)):
        time.sleep(0.02)
    assert out.read_bytes() == wanted
