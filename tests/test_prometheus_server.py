"""A real Prometheus server scrapes a running replay on loopback and answers a query for
``hashmap_ops_total`` through its HTTP API."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from cli_helpers import prometheus_tool, start_replay_serving_metrics

PROMETHEUS = prometheus_tool("prometheus")
pytestmark = pytest.mark.skipif(
    PROMETHEUS is None,
    reason="no prometheus binary (tests/run.sh unpacks Debian's package into .cache/)",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _query(port: int, expr: str) -> list[dict[str, object]]:
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=5) as response:
        body = json.load(response)
    assert body["status"] == "success"
    return list(body["data"]["result"])


@pytest.mark.slow
def test_prometheus_scrapes_a_replay(tmp_path: Path) -> None:
    rows = ["op,key,value"] + [f"put,k{i % 500},{i}" for i in range(20_000)]
    (tmp_path / "w.csv").write_text("\n".join(rows) + "\n")
    replay, metrics_port = start_replay_serving_metrics(
        tmp_path / "w.csv", "--metrics-linger", "60"
    )
    server = None
    try:
        target = f"127.0.0.1:{metrics_port}"
        api_port = _free_port()
        config = tmp_path / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 1s\n"
            "scrape_configs:\n  - job_name: engine\n"
            f"    static_configs:\n      - targets: ['{target}']\n"
        )
        server = subprocess.Popen(
            [
                str(PROMETHEUS),
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{api_port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        value = None
        deadline = time.monotonic() + 45  # the first scrape lands ~5-6 s after start
        while time.monotonic() < deadline:
            try:
                result = _query(api_port, 'hashmap_ops_total{job="engine"}')
            except OSError:
                result = []
            if result:
                value = float(result[0]["value"][1])  # type: ignore[index]
                if value == 20_000:
                    break
            time.sleep(0.5)
        assert value == 20_000
    finally:
        for proc in (server, replay):
            if proc is not None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
