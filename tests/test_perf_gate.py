"""The performance regression gate (``bench/gate.py``): instruction counts of canonical
replays against the committed baseline, failing past +10%."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import gate  # noqa: E402  (bench/ is not a package)


def test_the_gate_fails_past_the_tolerance_and_only_then() -> None:
    base = {"robinhood/uniform": 1_000_000, "chaining/uniform": 2_000_000}
    same = gate.compare(base, base)
    assert not same.failed and not same.lower
    slower = gate.compare({"robinhood/uniform": 1_110_000, "chaining/uniform": 2_000_000}, base)
    assert slower.failed and "REGRESSION" in slower.lines[1]
    within = gate.compare({"robinhood/uniform": 1_090_000, "chaining/uniform": 1_950_000}, base)
    assert not within.failed
    faster = gate.compare({"robinhood/uniform": 800_000, "chaining/uniform": 2_000_000}, base)
    assert not faster.failed and faster.lower == ["robinhood/uniform"]
    missing = gate.compare({"robinhood/uniform": 1_000_000}, base)
    assert missing.failed


def test_the_canonical_workloads_are_the_same_every_time(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = gate.workloads(tmp_path / "a", rows=500)
    second = gate.workloads(tmp_path / "b", rows=500)
    assert set(first) == {"uniform", "skewed", "tiny"}
    for name in first:
        assert first[name].read_bytes() == second[name].read_bytes()
    assert first["uniform"].read_text().count("\n") == 501


def test_an_update_needs_a_reason(capsys: pytest.CaptureFixture[str]) -> None:
    if shutil.which("valgrind") is None:
        pytest.skip("valgrind is not installed")
    with pytest.raises(SystemExit):
        gate.main(["--update"])
    assert "--reason" in capsys.readouterr().err


def test_the_engine_is_no_slower_than_its_baseline() -> None:
    """The gate itself, as the test command runs it (about 25 s under valgrind)."""
    if shutil.which("valgrind") is None:
        pytest.skip("valgrind is not installed (tests/run.sh installs it)")
    record = json.loads(gate.BASELINE.read_text())
    if record["interpreter"] != gate.interpreter():
        pytest.skip(f"the baseline was counted on {record['interpreter']}, not on "
                    f"{gate.interpreter()}: measure one with bench/gate.py --update")
    counts = gate.measure(record["rows"])
    verdict = gate.compare(counts, record["counts"])
    assert not verdict.failed, "\n".join(verdict.lines)
    # and the same counts against a baseline 15% lower would fail: the gate can fail
    lowered = {name: int(value * 0.85) for name, value in record["counts"].items()}
    assert gate.compare(counts, lowered).failed
