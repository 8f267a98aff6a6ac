"""metrics.v1 ticks: the shipped schema, the NDJSON file run-csv writes, retention, the
validator, and a killed run leaving only parseable complete lines."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_helpers import ROOT, assert_envelope, run_engine, start_replay_serving_metrics

import engine
from engine.errors import BadInputError
from engine.maps.option_models import GuardrailConfig
from engine.observe.metrics import SCHEMA_PATH, MetricsProducer, MetricsTick, schema_document
from engine.observe.metrics import validate_ndjson as validate


def _workload(path: Path, rows: int, keys: int = 300) -> Path:
    lines = ["op,key,value"]
    for i in range(rows):
        key = f"k{(i * 7919) % keys}"
        lines.append(f"put,{key},{i}" if i % 3 == 0 else f"get,{key},")
        if i % 11 == 0:
            lines.append(f"del,k{(i * 31) % keys},")
    path.write_text("\n".join(lines) + "\n")
    return path


def _ticks(folder: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (folder / "metrics.ndjson").read_text().splitlines()]


def test_shipped_schema_matches_the_model() -> None:
    assert json.loads(SCHEMA_PATH.read_text()) == json.loads(
        json.dumps(schema_document(), sort_keys=True)
    )


def test_a_tick_from_a_live_map_is_valid_and_in_range() -> None:
    guard = GuardrailConfig(min_entries=4, cooldown_ops=0, cooldown_per_entry=0)
    m = engine.AdaptiveMap(capacity=4, guardrails=guard, migration_batch=2)
    producer = MetricsProducer()
    for i in range(50):
        m[f"k{i}"] = i
    tick = producer.tick(m)
    MetricsTick.model_validate(tick)
    assert tick["ops"] == 50 and tick["puts"] == 50
    assert 0 < tick["load_factor"] <= 1.0
    assert sum(count for _, count in tick["probe_hist"]) == 50
    kinds = {e["type"] for e in tick["events"]}
    assert "migration_start" in kinds and "guardrail" in kinds
    assert producer.tick(m)["events"] == []  # events are reported once


def test_run_csv_writes_valid_monotonic_ticks(tmp_path: Path) -> None:
    csv_path = _workload(tmp_path / "w.csv", 3000)
    code, out, err = run_engine(
        "--json",
        "run-csv",
        "--csv",
        str(csv_path),
        "--metrics-out-dir",
        str(tmp_path / "m"),
        "--metrics-every-ops",
        "500",
    )
    assert code == 0, err
    total = json.loads(out)["result"]["total_ops"]
    ticks = _ticks(tmp_path / "m")
    assert len(ticks) >= total // 500
    ops = [t["ops"] for t in ticks]
    assert ops == sorted(ops) and ops[-1] == total
    assert all(t["schema"] == "metrics.v1" for t in ticks)
    assert validate(tmp_path / "m" / "metrics.ndjson") == len(ticks)


def test_retention_keeps_the_last_ticks(tmp_path: Path) -> None:
    csv_path = _workload(tmp_path / "w.csv", 4000)
    code, _, err = run_engine(
        "run-csv",
        "--csv",
        str(csv_path),
        "--metrics-out-dir",
        str(tmp_path / "m"),
        "--metrics-every-ops",
        "200",
        "--metrics-max-ticks",
        "3",
    )
    assert code == 0, err
    ticks = _ticks(tmp_path / "m")
    assert len(ticks) == 3
    assert ticks[-1]["ops"] > ticks[0]["ops"]


def test_validator_names_the_first_bad_line(tmp_path: Path) -> None:
    good = MetricsProducer().tick(engine.RobinHoodMap())
    path = tmp_path / "m.ndjson"
    bad = dict(good, load_factor=-1)
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n" + "{}\n")
    with pytest.raises(BadInputError, match="line 2"):
        validate(path)
    code, _, err = run_engine("metrics", "validate", str(path))
    assert code == 2
    assert_envelope(err, "BadInput")
    code, _, err = run_engine("metrics", "validate", str(tmp_path / "missing.ndjson"))
    assert code == 5
    assert_envelope(err, "IO")
    path.write_text("not json\n")
    with pytest.raises(BadInputError, match="line 1"):
        validate(path)


def test_a_killed_run_leaves_complete_lines_parseable(tmp_path: Path) -> None:
    csv_path = _workload(tmp_path / "w.csv", 400_000, keys=5000)
    folder = tmp_path / "m"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "engine.cli",
            "run-csv",
            "--csv",
            str(csv_path),
            "--metrics-out-dir",
            str(folder),
            "--metrics-every-ops",
            "1000",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    target = folder / "metrics.ndjson"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if target.exists() and target.read_text().count("\n") >= 5:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    text = target.read_text()
    complete = text.splitlines()[: text.count("\n")]
    assert len(complete) >= 5
    for line in complete:
        MetricsTick.model_validate_json(line)


def test_prometheus_endpoint_serves_the_run(tmp_path: Path) -> None:
    """--metrics-port 0 picks a free port, logs it, and /metrics shows the replay."""
    import re
    import urllib.request

    csv_path = _workload(tmp_path / "w.csv", 400_000, keys=5000)
    # The endpoint lingers after the run so a fast machine that finishes the replay
    # before the first poll still gets its counters read.
    proc, port = start_replay_serving_metrics(
        csv_path, "--metrics-every-ops", "2000", "--metrics-linger", "60"
    )
    seen = 0.0
    body = ""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                body = r.read().decode()
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.05)
            continue
        values = re.findall(r"^hashmap_ops_total (\S+)$", body, re.M)
        if values and float(values[0]) > 0:
            seen = float(values[0])
            break
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    assert seen > 0
    for name in (
        "hashmap_puts_total",
        "hashmap_load_factor",
        "hashmap_backend_info",
        "hashmap_avg_probe_estimate",
        "hashmap_op_latency_seconds_bucket",
        "hashmap_probe_length_bucket",
        "hashmap_migrations_total",
    ):
        assert name in body, name


def test_a_written_line_is_the_compact_json_of_the_tick(tmp_path: Path) -> None:
    """``write`` and ``write_encoded(compact_json(..))`` append ``json.dumps`` of the tick,
    compact, then a newline."""
    from engine.observe.metrics import NdjsonSink, compact_json

    m = engine.RobinHoodMap()
    for i in range(100):
        m[i] = i
    tick = MetricsProducer().tick(m)
    tick["events"] = [{"type": "compact", "note": 'é \u2028 "q"', "value": float("inf")}]
    sink = NdjsonSink(tmp_path / "m")
    sink.write(tick)
    sink.write_encoded(compact_json(tick))
    sink.close()
    line = json.dumps(tick, separators=(",", ":")) + "\n"
    assert (tmp_path / "m" / "metrics.ndjson").read_text(encoding="utf-8") == line + line
