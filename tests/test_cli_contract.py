"""The ``engine`` command line, happy paths: every command in a subprocess, text and
``--json`` output, global flags on either side of the command, and the upstream command
lines that must keep working unchanged.

Interpreter start-up dominates each call, so the calls of a topic run together in a
module-scoped fixture (several processes at a time) and the tests check their results.
"""

from __future__ import annotations

import csv
import json
import math
import re
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import (
    ROOT,
    assert_envelope,
    assert_ok,
    replay_on_dict,
    run_engine,
    run_engine_many,
)

from engine import cli

Result = tuple[int, str, str]

MODES = {"adaptive", "fast-insert", "fast-lookup", "memory-tight"}
STRUCTURAL = {"resize", "compact", "migrate", "guardrail"}
PRESETS = ("ycsb-a", "ycsb-b", "ycsb-c", "ycsb-d", "ycsb-e", "ycsb-f")
UPSTREAM_SUMMARY_FIELDS = {
    "elapsed_seconds",
    "total_ops",
    "ops_per_second",
    "final_backend",
    "migrations_triggered",
    "compactions_triggered",
    "latency_ms",
}
ADDED_SUMMARY_FIELDS = {"final_stats", "probe_histogram", "events", "migration_history"}


def read_rows(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def model_counts(rows: list[list[str]]) -> dict[str, Any]:
    """Replay data rows (no header) on a dict: op counts, hits and the final size."""
    model, ops, get_hits, del_hits = replay_on_dict(rows)
    return {"ops": ops, "get_hits": get_hits, "del_hits": del_hits, "final_size": len(model)}


def ok(result: Result) -> tuple[str, str]:
    code, out, err = result
    assert code == 0, err
    assert "Traceback" not in err
    return out, err


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli_contract")


@pytest.fixture(scope="module")
def upstream_csv(workdir: Path) -> Path:
    """The workload written by the upstream generate-csv command line, unchanged."""
    path = workdir / "upstream.csv"
    out, err = ok(
        run_engine(
            "generate-csv", "--outfile", path, "--ops", "1000", "--read-ratio", "0.6",
            "--key-skew", "1.2", "--key-space", "200", "--seed", "1337",
            "--adversarial-ratio", "0.10", "--adversarial-lowbits", "8",
        )
    )  # fmt: skip
    assert err == ""
    assert out.strip() == f"wrote 1000 rows to {path}"
    return path


@pytest.fixture(scope="module")
def upstream_rows(upstream_csv: Path) -> list[list[str]]:
    return read_rows(upstream_csv)


# --------------------------------------------------------------------------- generate-csv
def test_generate_csv_writes_header_and_exactly_ops_rows(upstream_rows: list[list[str]]) -> None:
    assert upstream_rows[0] == ["op", "key", "value"]
    data = upstream_rows[1:]
    assert len(data) == 1000
    for op, key, value in data:
        assert op in ("put", "get", "del")
        assert key
        assert (value != "") == (op == "put")
    # --adversarial-ratio 0.10 mixes crafted keys (prefix A) into the K0.. key space
    keys = {key for _, key, _ in data}
    assert any(k.startswith("A") for k in keys)
    assert any(k.startswith("K") for k in keys)


def test_generate_csv_is_deterministic_for_a_seed_and_json(
    workdir: Path, upstream_csv: Path
) -> None:
    same, other, small = workdir / "same.csv", workdir / "other.csv", workdir / "small.csv"
    base = ["--ops", "1000", "--read-ratio", "0.6", "--key-skew", "1.2", "--key-space", "200",
            "--adversarial-ratio", "0.10", "--adversarial-lowbits", "8"]  # fmt: skip
    same_run, other_run, json_run = run_engine_many(
        [
            ["generate-csv", "--outfile", same, *base, "--seed", "1337"],
            ["generate-csv", "--outfile", other, *base, "--seed", "1338"],
            ["generate-csv", "--outfile", small, "--ops", "50", "--seed", "3", "--json"],
        ]
    )
    ok(same_run)
    ok(other_run)
    assert same.read_bytes() == upstream_csv.read_bytes()
    assert other.read_bytes() != upstream_csv.read_bytes()
    assert len(read_rows(other)) == 1001

    result = assert_ok(ok(json_run)[0], "generate-csv")
    assert result["rows"] == 50
    assert result["outfile"] == str(small)
    assert result["spec"]["ops"] == 50 and result["spec"]["seed"] == 3
    assert len(read_rows(small)) == 51


@pytest.fixture(scope="module")
def preset_files(workdir: Path) -> dict[str, tuple[Path, Result]]:
    paths = {p: workdir / f"{p}.csv" for p in PRESETS}
    generated = run_engine_many(
        ["generate-csv", "--preset", p, "--ops", "300", "--key-space", "100",
         "--outfile", paths[p]]
        for p in PRESETS
    )  # fmt: skip
    return {p: (paths[p], g) for p, g in zip(PRESETS, generated, strict=True)}


@pytest.mark.parametrize("preset", PRESETS)
def test_generate_csv_presets_pass_dry_run(
    preset: str, preset_files: dict[str, tuple[Path, Result]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, generated = preset_files[preset]
    out, _ = ok(generated)
    assert out.strip() == f"wrote 300 rows to {path}"
    rows = read_rows(path)
    assert rows[0] == ["op", "key", "value"]
    assert len(rows) == 301
    # `run-csv --dry-run` accepts it (in-process: the subprocess path is covered below)
    assert cli.main(["--json", "run-csv", "--csv", str(path), "--dry-run"]) == 0
    result = assert_ok(capsys.readouterr().out, "run-csv")
    assert result["valid"] is True
    assert result["rows"] == 300
    counted = Counter(op for op, _, _ in rows[1:])
    assert result["ops"] == {op: counted.get(op, 0) for op in ("put", "get", "del")}
    assert counted["del"] == 0  # no YCSB core workload deletes
    if preset == "ycsb-c":
        assert counted == {"get": 300}
    elif preset == "ycsb-f":
        # read-modify-write: every put follows a get of the same key
        for i, (op, key, _) in enumerate(rows[1:], start=1):
            if op == "put":
                assert rows[i - 1][:2] == ["get", key]


DISTRIBUTIONS = ("hotspot", "zipf", "latest")


@pytest.fixture(scope="module")
def distribution_runs(workdir: Path) -> dict[str, tuple[Path, Result]]:
    paths = {d: workdir / f"dist_{d}.csv" for d in DISTRIBUTIONS}
    runs = run_engine_many(
        ["generate-csv", "--outfile", paths[d], "--distribution", d,
         "--ops", "2000", "--key-space", "100", "--seed", "7", "--json"]
        for d in DISTRIBUTIONS
    )  # fmt: skip
    return {d: (paths[d], r) for d, r in zip(DISTRIBUTIONS, runs, strict=True)}


@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_generate_csv_distributions(
    distribution: str, distribution_runs: dict[str, tuple[Path, Result]]
) -> None:
    path, run = distribution_runs[distribution]
    result = assert_ok(ok(run)[0], "generate-csv")
    assert result["rows"] == 2000
    assert result["spec"]["distribution"] == distribution
    rows = read_rows(path)
    assert rows[0] == ["op", "key", "value"] and len(rows) == 2001
    keys = Counter(key for _, key, _ in rows[1:])
    if distribution == "hotspot":
        # 80% of the operations go to the hottest 20% of the keys (K0..K19)
        hot = sum(n for k, n in keys.items() if int(k[1:]) < 20)
        assert 0.7 < hot / 2000 < 0.9
    elif distribution == "zipf":
        assert keys.most_common(1)[0][0] == "K0"
    else:
        # "latest": writes insert fresh keys (K100, K101, ...) and reads favour the most
        # recently inserted ones, so the hottest key is at or past the initial key space
        puts = [int(key[1:]) for op, key, _ in rows[1:] if op == "put"]
        assert puts and puts == list(range(100, 100 + len(puts)))
        assert int(keys.most_common(1)[0][0][1:]) >= 99


# --------------------------------------------------------------------------- run-csv
@pytest.fixture(scope="module")
def runs(workdir: Path, upstream_csv: Path) -> dict[str, Any]:
    """Every run-csv call of this module, run together."""
    csv_path = str(upstream_csv)
    summary, log = workdir / "summary.json", workdir / "run.log"
    calls = {
        # the upstream command line, unchanged
        "summary": ["--mode", "adaptive", "run-csv", "--csv", csv_path, "--json-summary-out",
                    summary, "--latency-sample-k", "2000", "--latency-sample-every", "64"],
        "adaptive": ["run-csv", "--csv", csv_path, "--json"],
        # global flags after the command name
        "chaining": ["run-csv", "--csv", csv_path, "--json", "--backend", "chaining",
                     "--log-format", "json", "--log-level", "info", "--log-file", log],
        "robinhood": ["--mode", "fast-lookup", "run-csv", "--csv", csv_path, "--json"],
        "backend_wins": ["--mode", "fast-insert", "--backend", "robinhood", "run-csv",
                         "--csv", csv_path, "--json"],
        "dry_text": ["run-csv", "--csv", csv_path, "--dry-run"],
        "dry_json": ["run-csv", "--dry-run", "--csv", csv_path, "--json"],
        "compact": ["run-csv", "--csv", csv_path, "--compact-interval", "0.01"],
    }  # fmt: skip
    results = run_engine_many(calls.values())
    out: dict[str, Any] = dict(zip(calls, results, strict=True))
    out["summary_path"], out["log_path"] = summary, log
    return out


def test_run_csv_upstream_command_line_writes_summary(
    runs: dict[str, Any], upstream_rows: list[list[str]]
) -> None:
    out, err = ok(runs["summary"])
    assert err == ""
    assert re.match(
        r"^1000 ops in [\d.]+ s \(.*ops/s\) on adaptive; final backend (chaining|robinhood), ",
        out,
    ), out
    summary = json.loads(runs["summary_path"].read_text(encoding="utf-8"))
    assert set(summary) >= UPSTREAM_SUMMARY_FIELDS | ADDED_SUMMARY_FIELDS
    assert summary["total_ops"] == 1000
    assert summary["elapsed_seconds"] > 0
    assert summary["ops_per_second"] == pytest.approx(1000 / summary["elapsed_seconds"])
    assert summary["final_backend"] in ("chaining", "robinhood")
    assert isinstance(summary["migrations_triggered"], int)
    assert isinstance(summary["compactions_triggered"], int)
    assert set(summary["latency_ms"]) == {"overall", "put", "get", "del"}
    for name, pct in summary["latency_ms"].items():
        assert set(pct) == {"p50", "p90", "p99"}, name
        assert all(isinstance(v, float) and v >= 0 and math.isfinite(v) for v in pct.values())
        assert pct["p50"] <= pct["p90"] <= pct["p99"], (name, pct)
    assert summary["latency_ms"]["overall"]["p99"] > 0
    assert summary["latency_sample"]["reservoir_k_overall"] == 2000
    assert summary["latency_sample"]["every_n_ops"] == 64
    assert isinstance(summary["final_stats"], dict)
    assert summary["final_stats"]["size"] == summary["final_size"]
    # [probes, count] pairs, probes ascending
    histogram = summary["probe_histogram"]
    assert histogram and all(len(pair) == 2 and min(pair) >= 0 for pair in histogram)
    assert [p for p, _ in histogram] == sorted({p for p, _ in histogram})
    assert all(e["kind"] in STRUCTURAL for e in summary["events"])
    assert len(summary["migration_history"]) == summary["migrations_triggered"]
    expected = model_counts(upstream_rows[1:])
    assert summary["ops"] == expected["ops"]
    assert summary["final_size"] == expected["final_size"]


def test_run_csv_json_has_the_summary_fields(runs: dict[str, Any]) -> None:
    result = assert_ok(ok(runs["adaptive"])[0], "run-csv")
    summary = json.loads(runs["summary_path"].read_text(encoding="utf-8"))
    assert set(result) == set(summary)
    assert result["total_ops"] == 1000
    assert result["backend"] == "adaptive"  # the default settings
    assert result["get_hits"] + result["get_misses"] == result["ops"]["get"]
    assert result["del_hits"] + result["del_misses"] == result["ops"]["del"]


@pytest.mark.parametrize(
    ("run", "backend"),
    [("adaptive", "adaptive"), ("chaining", "chaining"), ("robinhood", "robinhood")],
)
def test_run_csv_hit_counts_match_a_dict_model(
    runs: dict[str, Any], upstream_rows: list[list[str]], run: str, backend: str
) -> None:
    result = assert_ok(ok(runs[run])[0], "run-csv")
    expected = model_counts(upstream_rows[1:])
    assert result["backend"] == backend
    assert result["ops"] == expected["ops"]
    assert result["final_size"] == expected["final_size"]
    assert (result["get_hits"], result["del_hits"]) == (
        expected["get_hits"],
        expected["del_hits"],
    ), f"{backend}: {result['migrations_triggered']} migration(s)"


def test_mode_maps_to_backend_and_backend_overrides_mode(runs: dict[str, Any]) -> None:
    assert assert_ok(ok(runs["robinhood"])[0], "run-csv")["backend"] == "robinhood"
    assert assert_ok(ok(runs["backend_wins"])[0], "run-csv")["backend"] == "robinhood"


def test_global_flags_after_the_command_and_json_logs(runs: dict[str, Any]) -> None:
    out, err = ok(runs["chaining"])
    result = assert_ok(out, "run-csv")
    assert result["backend"] == "chaining"
    assert result["final_backend"] == "chaining"
    assert result["migrations_triggered"] == 0
    # --log-format json: every log line on stderr and in the file is one JSON object
    stderr_records = [json.loads(line) for line in err.splitlines() if line.strip()]
    log_text = runs["log_path"].read_text(encoding="utf-8")
    file_records = [json.loads(line) for line in log_text.splitlines() if line.strip()]
    assert stderr_records and stderr_records == file_records
    for record in file_records:
        assert {"ts", "level", "logger", "message"} <= set(record)
        assert record["level"] == "info"
    assert any("replaying" in r["message"] for r in file_records)


def test_run_csv_dry_run_text_and_json(
    runs: dict[str, Any], upstream_csv: Path, upstream_rows: list[list[str]]
) -> None:
    expected = model_counts(upstream_rows[1:])["ops"]
    out, _ = ok(runs["dry_text"])
    assert out.strip() == (
        f"{upstream_csv}: valid, 1000 operations "
        f"(put {expected['put']}, get {expected['get']}, del {expected['del']})"
    )
    result = assert_ok(ok(runs["dry_json"])[0], "run-csv")
    assert result["valid"] is True
    assert result["rows"] == 1000
    assert result["ops"] == expected
    assert result["bytes"] == upstream_csv.stat().st_size
    assert "total_ops" not in result  # nothing was replayed


def test_run_csv_compact_interval_upstream_line(runs: dict[str, Any]) -> None:
    out, _ = ok(runs["compact"])
    assert out.startswith("1000 ops in ")


def test_adversarial_workload_triggers_migrations(workdir: Path) -> None:
    path = workdir / "adversarial.csv"
    ok(
        run_engine(
            "generate-csv", "--outfile", path, "--adversarial-ratio", "0.05",
            "--adversarial-lowbits", "20", "--key-space", "2000", "--ops", "40000",
        )
    )  # fmt: skip
    result = assert_ok(
        ok(run_engine("--backend", "adaptive", "run-csv", "--csv", path, "--json"))[0], "run-csv"
    )
    assert result["total_ops"] == 40000
    assert result["migrations_triggered"] >= 1
    assert len(result["migration_history"]) == result["migrations_triggered"]
    assert {"guardrail", "migrate"} <= {e["kind"] for e in result["events"]}
    assert result["final_stats"]["migrations"] == result["migrations_triggered"]


# --------------------------------------------------------------------------- profile, dna
@pytest.fixture(scope="module")
def analyses(upstream_csv: Path) -> dict[str, Result]:
    csv_path = str(upstream_csv)
    calls = {
        "profile": ["profile", "--csv", csv_path],
        "then_get": ["profile", "--csv", csv_path, "--then", "get", "K1"],
        "then_json": ["--json", "profile", "--csv", csv_path, "--sample", "200", "--then",
                      "put", "K1", "v"],
        "dna": ["workload-dna", "--csv", csv_path],
        "dna_json": ["workload-dna", "--csv", csv_path, "--json", "--top", "5"],
    }  # fmt: skip
    return dict(zip(calls, run_engine_many(calls.values()), strict=True))


def test_profile_prints_a_mode_first(analyses: dict[str, Result]) -> None:
    lines = ok(analyses["profile"])[0].splitlines()
    assert lines[0] in MODES
    assert lines[1].startswith("reason: ")


def test_profile_then_runs_the_follow_up(analyses: dict[str, Result]) -> None:
    lines = ok(analyses["then_get"])[0].splitlines()
    assert lines[0] in MODES
    # the follow-up `get K1` ran on a fresh (empty) map: it printed an empty value
    assert len(lines) == 2 and lines[1].startswith("reason: ")

    first, second = (json.loads(line) for line in ok(analyses["then_json"])[0].splitlines())
    assert first["ok"] is True and first["command"] == "profile"
    assert first["result"]["recommended_mode"] in MODES
    assert second == {
        "ok": True,
        "command": "put",
        "result": {"op": "put", "key": "K1", "value": "v"},
    }


def test_workload_dna_text_and_json(
    analyses: dict[str, Result], upstream_csv: Path, upstream_rows: list[list[str]]
) -> None:
    out, _ = ok(analyses["dna"])
    assert out.startswith(f"workload {upstream_csv}: 1000 operations over ")
    assert "hot keys: " in out and "collision risk" in out
    result = assert_ok(ok(analyses["dna_json"])[0], "workload-dna")
    for field in ("op_ratios", "key_space", "skew", "hot_keys", "entropy_bits", "collision_risk"):
        assert field in result, field
    data = upstream_rows[1:]
    ops = Counter(op for op, _, _ in data)
    keys = Counter(key for _, key, _ in data)
    assert result["op_ratios"] == pytest.approx({op: ops[op] / 1000 for op in ops})
    assert result["key_space"] == len(keys)
    assert len(result["hot_keys"]) == 5
    hottest, count = keys.most_common(1)[0]
    assert (result["hot_keys"][0]["key"], result["hot_keys"][0]["count"]) == (hottest, count)
    assert 0 < result["entropy_bits"] <= math.log2(len(keys)) + 1e-9
    assert "zipf_exponent" in result["skew"]
    assert "level" in result["collision_risk"]


# --------------------------------------------------------------------------- probe-visualize
PROBE_OPS = ("get", "put", "del")


@pytest.fixture(scope="module")
def probes() -> dict[str, Result]:
    seeds = ["--seed", "a=1", "--seed", "b=2", "--seed", "c=3"]
    calls = {
        op: ["--json", "probe-visualize", "--operation", op, "--key", "a", "--value", "9", *seeds]
        for op in PROBE_OPS
    }
    calls["text"] = ["probe-visualize", "--backend", "robinhood", "--operation", "get",
                     "--key", "zz", "--seed", "a=1", "--seed", "b=2"]  # fmt: skip
    return dict(zip(calls, run_engine_many(calls.values()), strict=True))


@pytest.mark.parametrize("operation", PROBE_OPS)
def test_probe_visualize_json_events_end_with_result(
    probes: dict[str, Result], operation: str
) -> None:
    result = assert_ok(ok(probes[operation])[0], "probe-visualize")
    assert result["operation"] == operation and result["key"] == "a"
    assert result["backend"] == "adaptive"
    events = result["events"]
    assert events[0]["kind"] == "hash"
    assert events[-1]["kind"] == "result"
    assert events[-1]["found"] is True  # "a" was seeded
    if operation == "get":
        assert events[-1]["value"] == "1"


def test_probe_visualize_text(probes: dict[str, Result]) -> None:
    lines = ok(probes["text"])[0].splitlines()
    assert lines[0] == "get 'zz' on robinhood (2 keys):"
    assert re.match(r"^\s+1\. hash\b", lines[1]), lines[1]
    assert re.match(r"^\s+\d+\. result\b", lines[-1]), lines[-1]


# --------------------------------------------------------------------------- one-shot ops
def test_one_shot_operations_text_and_json() -> None:
    calls = [
        # upstream command lines, unchanged
        ["--mode", "fast-insert", "put", "A", "1"],
        ["--mode", "fast-lookup", "get", "A"],
        ["del", "A"],
        ["--mode", "adaptive", "items"],
        # --json before or after the command
        ["put", "A", "1", "--json"],
        ["--json", "get", "A"],
        ["--json", "del", "A", "--backend", "robinhood"],
        ["items", "--json", "--mode", "memory-tight"],
    ]
    results = run_engine_many(calls)
    outputs = []
    for result in results:
        out, err = ok(result)
        assert err == ""
        outputs.append(out)
    # each command starts from an empty map (no snapshot): get and del find nothing
    assert outputs[:4] == ["OK\n", "", "0\n", ""]
    put, get, delete, items = (
        assert_ok(out, cmd) for out, cmd in zip(outputs[4:], ["put", "get", "del", "items"],
                                                strict=True)
    )  # fmt: skip
    assert put == {"op": "put", "key": "A", "value": "1"}
    assert get == {"op": "get", "key": "A", "found": False, "value": None}
    assert delete == {"op": "del", "key": "A", "found": False}
    assert items == {"op": "items", "items": []}


# --------------------------------------------------------------------------- config
def test_config_init_refuses_to_overwrite_without_force(workdir: Path) -> None:
    folder = workdir / "config_init"
    folder.mkdir()
    written = folder / "engine.toml"
    out, _ = ok(run_engine("config", "init", cwd=folder))
    assert out.strip() == "wrote engine.toml"
    text = written.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    assert data["backend"] == "adaptive"
    assert data["robinhood"]["max_load_factor"] == 0.8

    written.write_text("# mine\n", encoding="utf-8")
    code, out, err = run_engine("config", "init", cwd=folder)
    assert code == 4
    assert out == ""
    assert "engine.toml" in assert_envelope(err, "Policy")["detail"]
    assert written.read_text(encoding="utf-8") == "# mine\n"

    out, _ = ok(run_engine("config", "init", "--force", "--json", cwd=folder))
    assert assert_ok(out, "config init") == {"action": "init", "written": "engine.toml"}
    assert written.read_text(encoding="utf-8") == text
    assert sorted(p.name for p in folder.iterdir()) == ["engine.toml"]  # no temp files left


def test_config_show_validate_and_environment(workdir: Path) -> None:
    good = workdir / "good.toml"
    good.write_text("backend = 'robinhood'\n[chaining]\ncapacity = 128\n", encoding="utf-8")
    bad = workdir / "bad_value.toml"
    bad.write_text("[robinhood]\nmax_load_factor = 3\n", encoding="utf-8")
    calls = [
        ["config", "show"],
        ["--config", good, "config", "show", "--json"],
        ["config", "show", "--json", "--mode", "fast-insert"],
        ["config", "validate", good],
        ["config", "show", "--json"],
        ["config", "validate", bad],
        ["--json", "config", "validate", good],
    ]
    envs = [None] * 4 + [{"ADHASH_ROBINHOOD__MAX_LOAD_FACTOR": "0.5"}, None, None]
    show, show_cfg, show_mode, valid, show_env, invalid, valid_json = run_engine_many(
        calls, envs=envs
    )

    shown = tomllib.loads(ok(show)[0])
    assert shown["backend"] == "adaptive"
    assert {"hashing", "chaining", "robinhood", "adaptive", "sampling", "limits"} <= set(shown)
    from_file = assert_ok(ok(show_cfg)[0], "config show")
    assert from_file["backend"] == "robinhood"
    assert from_file["chaining"]["capacity"] == 128
    assert assert_ok(ok(show_mode)[0], "config show")["backend"] == "chaining"
    assert ok(valid)[0].strip() == f"{good}: valid"
    checked = assert_ok(ok(valid_json)[0], "config validate")
    assert checked["valid"] is True and checked["file"] == str(good)
    assert checked["settings"]["backend"] == "robinhood"
    from_env = assert_ok(ok(show_env)[0], "config show")
    assert from_env["robinhood"]["max_load_factor"] == 0.5
    assert from_env["chaining"]["max_load_factor"] == 0.75  # untouched

    code, out, err = invalid
    assert code == 2
    assert out == ""
    detail = assert_envelope(err, "BadInput")["detail"]
    assert "robinhood.max_load_factor" in detail


# --------------------------------------------------------------------------- demo, entry points
@pytest.fixture(scope="module")
def demos() -> dict[str, Result]:
    calls = {"text": ["demo"], "json": ["demo", "--json"]}
    return dict(zip(calls, run_engine_many(calls.values()), strict=True))


def test_demo(demos: dict[str, Result]) -> None:
    out, _ = ok(demos["text"])
    assert "migration" in out.lower()
    assert "robinhood" in out and "chaining" in out


def test_demo_json_prints_a_success_envelope(demos: dict[str, Result]) -> None:
    """--json is a global flag: every command answers with the success envelope."""
    out, _ = ok(demos["json"])
    assert_ok(out, "demo")


def test_engine_console_script() -> None:
    script = Path(sys.executable).with_name("engine")
    if not script.exists():
        pytest.skip("the `engine` console script is not installed in this environment")
    proc = subprocess.run(
        [str(script), "put", "A", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "OK\n"
