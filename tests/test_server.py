"""``engine serve``: endpoints, the bearer token, bad requests, follow mode, rate limits,
TLS and a loopback load test with bounded memory."""

from __future__ import annotations

import http.client
import json
import shutil
import socket
import ssl
import subprocess
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_helpers import assert_envelope, run_engine

import engine
from engine.observe.metrics import MetricsProducer
from engine.observe.server import MetricsStore, serve

TOKEN = b"t0ken"


def _write_ticks(path: Path, count: int, start: int = 0) -> None:
    m = engine.RobinHoodMap()
    producer = MetricsProducer()
    with open(path, "a", encoding="utf-8") as handle:
        for i in range(start, start + count):
            m[f"k{i}"] = i
            handle.write(json.dumps(producer.tick(m)) + "\n")


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[tuple[int, Path, MetricsStore]]:
    source = tmp_path / "metrics.ndjson"
    _write_ticks(source, 20)
    store = MetricsStore(str(source), history_limit=50)
    running = serve(store, "127.0.0.1", 0, token=TOKEN, follow=True, rate=1000, burst=5000)
    httpd = next(running)
    yield httpd.port, source, store
    running.close()


def _get(
    port: int,
    path: str,
    token: bytes | None = TOKEN,
    method: str = "GET",
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = "Bearer " + token.decode()
    conn.request(method, path, headers=sent)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, body


def test_endpoints_with_the_token(served: tuple[int, Path, MetricsStore]) -> None:
    port, _, _ = served
    status, body = _get(port, "/api/metrics")
    assert status == 200 and json.loads(body)["ops"] == 20
    status, body = _get(port, "/api/metrics/history?limit=5")
    ticks = json.loads(body)["ticks"]
    assert status == 200 and [t["ops"] for t in ticks] == [16, 17, 18, 19, 20]
    assert _get(port, "/api/events")[0] == 200
    assert "overall" in json.loads(_get(port, "/api/metrics/histogram/latency")[1])["latency_ns"]
    assert json.loads(_get(port, "/api/metrics/histogram/probe")[1])["probe_hist"]
    status, body = _get(port, "/metrics")
    assert status == 200 and b"hashmap_ops_total 20.0" in body


def test_the_token_is_required_except_for_healthz(served: tuple[int, Path, MetricsStore]) -> None:
    port, _, _ = served
    assert _get(port, "/healthz", token=None)[0] == 200
    for path in ("/api/metrics", "/metrics", "/api/events"):
        assert _get(port, path, token=None)[0] == 401
        assert _get(port, path, token=b"wrong")[0] == 401


def test_bad_requests_get_4xx_and_the_server_keeps_going(
    served: tuple[int, Path, MetricsStore],
) -> None:
    port, _, _ = served
    assert _get(port, "/api/metrics/history?limit=abc")[0] == 400
    assert _get(port, "/api/metrics/history?limit=999999")[0] == 400
    assert _get(port, "/nope")[0] == 404
    assert _get(port, "/api/metrics", method="POST")[0] == 405
    assert _get(port, "/api/metrics", headers={"Content-Length": "10"})[0] == 413
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        raw.sendall(b"\x00\xff garbage \r\n\r\n")
        reply = raw.recv(4096)
    assert b"400" in reply  # a status line, or an HTTP/0.9-style error page
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        raw.sendall(b"GET /" + b"a" * 70_000 + b" HTTP/1.0\r\n\r\n")
        reply = raw.recv(4096)
    assert b"414" in reply or b"400" in reply
    assert _get(port, "/api/metrics")[0] == 200


def test_follow_picks_up_new_ticks(served: tuple[int, Path, MetricsStore]) -> None:
    port, source, _ = served
    _write_ticks(source, 3, start=20)
    deadline = time.monotonic() + 5
    ops = 0
    while time.monotonic() < deadline:
        ops = json.loads(_get(port, "/api/metrics")[1])["ops"]
        if ops == 3:  # a fresh map wrote these three ticks
            break
        time.sleep(0.1)
    assert ops == 3


def test_rate_limit_answers_429(tmp_path: Path) -> None:
    source = tmp_path / "m.ndjson"
    _write_ticks(source, 2)
    running = serve(MetricsStore(str(source)), "127.0.0.1", 0, rate=1, burst=5)
    port = next(running).port
    try:
        statuses = [_get(port, "/healthz", token=None)[0] for _ in range(12)]
    finally:
        running.close()
    assert statuses[:5] == [200] * 5 and 429 in statuses


@pytest.mark.slow
def test_a_few_thousand_requests_keep_memory_bounded(
    served: tuple[int, Path, MetricsStore],
) -> None:
    port, _, store = served
    tracemalloc.start()
    for _ in range(500):
        assert _get(port, "/api/metrics/history?limit=50")[0] == 200
    warm, _ = tracemalloc.get_traced_memory()
    for _ in range(2500):
        assert _get(port, "/api/metrics/history?limit=50")[0] == 200
    after, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert after - warm < 1_000_000
    assert len(store.ticks) <= 50


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_tls(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    source = tmp_path / "m.ndjson"
    _write_ticks(source, 2)
    running = serve(MetricsStore(str(source)), "127.0.0.1", 0, tls=(str(cert), str(key)))
    port = next(running).port
    try:
        context = ssl.create_default_context(cafile=str(cert))
        context.check_hostname = False
        conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=5)
        conn.request("GET", "/api/metrics")
        response = conn.getresponse()
        assert response.status == 200 and json.loads(response.read())["ops"] == 2
        conn.close()
    finally:
        running.close()


def test_cli_errors(tmp_path: Path) -> None:
    code, _, err = run_engine("serve", "--source", str(tmp_path / "missing.ndjson"), "--port", "0")
    assert code == 5
    assert_envelope(err, "IO")
    code, _, err = run_engine("serve", "--source", "x", "--port", "70000")
    assert code == 2
    assert_envelope(err, "BadInput")
    code, _, err = run_engine("serve", "--source", "x", "--tls-cert", "c.pem")
    assert code == 2
    assert_envelope(err, "BadInput")
