"""Workloads from standard input and pipes (#12, item 8): ``--csv -``, FIFOs, ``<(cmd)``.

A stream is read once, line by line: replaying it gives the same summary as the file, a
bad byte is reported at its exact row, and ``--csv-max-bytes`` is counted as it arrives.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from cli_helpers import ROOT, assert_envelope, assert_ok, run_engine

COUNTS = (
    "total_ops", "ops", "final_size", "get_hits", "del_hits", "final_backend", "probe_histogram"
)


def _engine_with_stdin(data: bytes, *args: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADHASH_")}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run(
        [sys.executable, "-m", "engine.cli", *args],
        input=data,
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


@pytest.fixture(scope="module")
def workload(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("streams") / "w.csv"
    code, _, err = run_engine("generate-csv", "--ops", "40000", "--seed", "7", "--outfile", path)
    assert code == 0, err
    return path


def _summary(out: str) -> dict[str, object]:
    result = assert_ok(out, "run-csv")
    return {k: result[k] for k in COUNTS}


@pytest.mark.parametrize("backend", ["chaining", "robinhood", "adaptive"])
def test_stdin_replays_as_the_file_does(backend: str, workload: Path) -> None:
    code, from_file, err = run_engine("--json", "--backend", backend, "run-csv", "--csv", workload)
    assert code == 0, err
    code, from_stdin, err = _engine_with_stdin(
        workload.read_bytes(), "--json", "--backend", backend, "run-csv", "--csv", "-"
    )
    assert code == 0, err
    assert _summary(from_stdin) == _summary(from_file)
    assert _summary(from_file)["total_ops"] == 40000


def test_a_fifo_is_read_as_a_stream(workload: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "w.fifo"
    os.mkfifo(fifo)

    def feed() -> None:
        with open(fifo, "wb") as handle:
            handle.write(workload.read_bytes())

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    code, out, err = run_engine("--json", "run-csv", "--csv", fifo)
    writer.join(30)
    assert code == 0, err
    assert assert_ok(out, "run-csv")["total_ops"] == 40000


@pytest.mark.parametrize("command", [["workload-dna"], ["profile", "--sample", "500"]])
def test_analysis_commands_read_stdin(command: list[str], workload: Path) -> None:
    code, out, err = _engine_with_stdin(
        workload.read_bytes(), "--json", *command, "--csv", "-"
    )
    assert code == 0, err
    assert json.loads(out)["ok"] is True


def test_a_bad_byte_on_stdin_is_reported_at_its_row() -> None:
    data = b"op,key,value\nput,a,1\n\nget,a,\nput,b,\xff\nput,c,3\n"
    code, _, err = _engine_with_stdin(data, "run-csv", "--csv", "-")
    assert code == 2
    detail = assert_envelope(err, "BadInput")["detail"]
    assert detail.startswith("<stdin>: row 3:") and "not UTF-8" in detail


def test_the_byte_limit_is_counted_on_a_stream(workload: Path) -> None:
    code, _, err = _engine_with_stdin(
        workload.read_bytes(), "run-csv", "--csv", "-", "--csv-max-bytes", "5000"
    )
    assert code == 4
    assert "past the limit" in assert_envelope(err, "Policy")["detail"]


def test_empty_stdin_says_there_is_no_header() -> None:
    code, _, err = _engine_with_stdin(b"", "run-csv", "--csv", "-")
    assert code == 2
    assert "no header" in assert_envelope(err, "BadInput")["detail"]


def test_a_dry_run_of_stdin_counts_its_bytes(workload: Path) -> None:
    code, out, err = _engine_with_stdin(
        workload.read_bytes(), "--json", "run-csv", "--csv", "-", "--dry-run"
    )
    assert code == 0, err
    result = assert_ok(out, "run-csv")
    assert result["bytes"] == workload.stat().st_size and result["rows"] == 40000
