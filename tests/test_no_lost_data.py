"""No lost data: keyed snapshots that load, serialised snapshot writers, writes that go
through links and devices, and the snapshot commands' edge cases (issue #12, items 1-3, 8).

Each case failed before its fix: the keyed adaptive snapshot could never be loaded again,
20 parallel ``put``\\s left a few keys, a symbolic link or ``/dev/null`` given as an output
was replaced by a plain file.
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cli_helpers import (
    ROOT,
    assert_envelope,
    assert_ok,
    run_engine,
    run_engine_many,
    write_rows,
)

import engine
from engine.store.atomic import atomic_write_text
from engine.store.lock import lock_path, locked

KINDS = ("adaptive", "chaining", "robinhood")


# ---------------------------------------------------------------------- 1. keyed seeds
@pytest.mark.parametrize("kind", KINDS)
def test_a_drawn_keyed_seed_is_what_the_snapshot_records(kind: str, tmp_path: Path) -> None:
    m = engine.create_map(kind, hash="keyed")
    for i in range(200):  # enough for the adaptive map to resize its table
        m[f"k{i}"] = i
    seed = m.hash_spec.seed
    assert seed is not None and len(seed) == 32
    if isinstance(m, engine.AdaptiveMap):
        assert m.options.seed == seed
    engine.save_snapshot(m, tmp_path / "m.snap")
    loaded = engine.load_snapshot(tmp_path / "m.snap")
    assert loaded.hash_spec == m.hash_spec
    assert loaded.layout() == m.layout()
    assert dict(loaded.items()) == dict(m.items())
    loaded["new"] = 1  # and it goes on working with the same hash
    loaded.check_invariants()


def test_a_keyed_adaptive_map_saved_mid_migration_loads(tmp_path: Path) -> None:
    guard = engine.GuardrailConfig(min_entries=8, cooldown_ops=16)
    m = engine.AdaptiveMap(hash="keyed", migration_batch=1, guardrails=guard)
    i = 0
    while not m.migrating:
        m[f"key{i}"] = i
        i += 1
        assert i < 10_000, "no migration started"
    engine.save_snapshot(m, tmp_path / "m.snap")
    loaded = engine.load_snapshot(tmp_path / "m.snap")
    assert isinstance(loaded, engine.AdaptiveMap) and loaded.migrating
    assert loaded.layout() == m.layout()


@pytest.mark.parametrize("backend", KINDS)
def test_keyed_snapshots_from_the_cli_load_again(backend: str, tmp_path: Path) -> None:
    snap = tmp_path / "s.snap"
    env = {"ADHASH_HASHING__FUNCTION": "keyed"}
    for key in ("apple", "kiwi"):
        args = ("--backend", backend, "put", key, "1", "--snapshot", snap)
        code, _, err = run_engine(*args, env=env)
        assert code == 0, err
    code, out, err = run_engine("--backend", backend, "get", "apple", "--snapshot", snap)
    assert (code, out.strip()) == (0, "1"), err
    code, out, err = run_engine("--json", "inspect-snapshot", "--in", snap)
    assert code == 0, err
    assert assert_ok(out, "inspect-snapshot")["size"] == 2


# ---------------------------------------------------------------------- 2. one writer at a time
def test_parallel_puts_to_one_snapshot_keep_every_key(tmp_path: Path) -> None:
    snap = tmp_path / "shared.snap"
    calls = [("put", f"k{i}", str(i), "--snapshot", snap) for i in range(24)]
    results = run_engine_many(calls, workers=24)
    assert all(code == 0 for code, _, _ in results), results
    code, out, err = run_engine("--json", "items", "--snapshot", snap)
    assert code == 0, err
    items = dict(assert_ok(out, "items")["items"])
    assert items == {f"k{i}": str(i) for i in range(24)}


def test_parallel_puts_and_dels_end_as_the_model_says(tmp_path: Path) -> None:
    snap = tmp_path / "shared.snap"
    for i in range(10):
        assert run_engine("put", f"old{i}", "x", "--snapshot", snap)[0] == 0
    calls = [("put", f"new{i}", "y", "--snapshot", snap) for i in range(10)]
    calls += [("del", f"old{i}", "--snapshot", snap) for i in range(10)]
    results = run_engine_many(calls, workers=20)
    assert all(code == 0 for code, _, _ in results), results
    code, out, _ = run_engine("--json", "items", "--snapshot", snap)
    assert code == 0
    assert dict(assert_ok(out, "items")["items"]) == {f"new{i}": "y" for i in range(10)}


def test_the_lock_excludes_a_second_holder_and_times_out(tmp_path: Path) -> None:
    snap = tmp_path / "s.snap"
    entered = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with locked(snap):
            entered.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert entered.wait(10)
        with pytest.raises(engine.errors.PolicyError, match="being written"), locked(
            snap, timeout=0.2
        ):
            pass
    finally:
        release.set()
        holder.join()
    with locked(snap, timeout=1):  # free again
        pass


def test_two_names_of_one_snapshot_share_one_lock(tmp_path: Path) -> None:
    (tmp_path / "real.snap").write_bytes(b"")
    (tmp_path / "alias.snap").symlink_to("real.snap")
    assert lock_path(tmp_path / "alias.snap") == lock_path(tmp_path / "real.snap")
    assert lock_path(tmp_path / "real.snap").name == ".real.snap.lock"


# ---------------------------------------------------------------------- 3. write through
def _outputs(tmp_path: Path, target: Path) -> dict[str, list[str]]:
    csv_path = write_rows(tmp_path / "w.csv", [("put", "a", "1"), ("get", "a", "")])
    return {
        "--outfile": ["generate-csv", "--ops", "20", "--outfile", str(target)],
        "--json-summary-out": [
            *("run-csv", "--csv", str(csv_path)),
            *("--json-summary-out", str(target)),
        ],
        "--snapshot-out": ["run-csv", "--csv", str(csv_path), "--snapshot-out", str(target)],
    }


@pytest.mark.parametrize("flag", ["--outfile", "--json-summary-out", "--snapshot-out"])
def test_an_output_that_is_a_symlink_is_written_through(flag: str, tmp_path: Path) -> None:
    real = tmp_path / "data" / "real.out"
    real.parent.mkdir()
    real.write_text("old contents\n")
    real.chmod(0o640)
    link = tmp_path / "link.out"
    link.symlink_to(real)
    code, _, err = run_engine(*_outputs(tmp_path, link)[flag])
    assert code == 0, err
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_bytes() != b"old contents\n" and real.stat().st_size > 0
    assert stat.S_IMODE(real.stat().st_mode) == 0o640  # the file kept its permissions
    assert not [p for p in real.parent.iterdir() if p.name.endswith(".tmp")]


def test_a_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "link.csv"
    link.symlink_to(tmp_path / "new.csv")
    code, _, err = run_engine(*_outputs(tmp_path, link)["--outfile"])
    assert code == 0, err
    assert link.is_symlink() and (tmp_path / "new.csv").read_text().startswith("op,key,value")


@pytest.fixture
def dev_null_guard() -> Iterator[None]:
    """Put ``/dev/null`` back if a regression replaced it (the bug this guards against
    turns it into a plain file, which breaks every later program on the machine)."""
    yield
    if not stat.S_ISCHR(os.stat("/dev/null").st_mode) and os.geteuid() == 0:
        os.unlink("/dev/null")
        os.mknod("/dev/null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        os.chmod("/dev/null", 0o666)


@pytest.mark.usefixtures("dev_null_guard")
@pytest.mark.parametrize("flag", ["--outfile", "--json-summary-out", "--snapshot-out"])
def test_dev_null_as_an_output_stays_a_device(flag: str, tmp_path: Path) -> None:
    before = os.stat("/dev/null")
    code, _, err = run_engine(*_outputs(tmp_path, Path("/dev/null"))[flag])
    assert code == 0, err
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode)
    assert (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)
    assert not [p for p in Path("/dev").iterdir() if p.name.startswith(".null.")]


def test_a_fifo_as_an_output_receives_the_data(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as handle:
            received.append(handle.read())

    reader = threading.Thread(target=read, daemon=True)  # a failure must not hang the run
    reader.start()
    code, _, err = run_engine("generate-csv", "--ops", "30", "--outfile", fifo)
    reader.join(30)
    assert code == 0, err
    assert received, "the reader got nothing"
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    rows = list(csv.reader(io.StringIO(received[0].decode())))
    assert rows[0] == ["op", "key", "value"] and len(rows) == 31


def test_a_folder_as_an_output_is_an_io_error(tmp_path: Path) -> None:
    with pytest.raises(engine.errors.IOFailureError, match="folder"):
        atomic_write_text(tmp_path, "x")
    assert tmp_path.is_dir()


# ---------------------------------------------------------------------- 8. edge cases
@pytest.mark.parametrize("op", [("get", "k"), ("del", "k"), ("items",)])
def test_reading_a_missing_snapshot_says_so(op: tuple[str, ...], tmp_path: Path) -> None:
    missing = tmp_path / "missing.snap"
    code, out, err = run_engine(*op, "--snapshot", missing)
    assert code == 5 and out == ""
    assert "no such snapshot" in assert_envelope(err, "IO")["detail"]
    assert not missing.exists() and list(tmp_path.iterdir()) == []


def test_put_starts_a_snapshot(tmp_path: Path) -> None:
    snap = tmp_path / "new.snap"
    assert run_engine("put", "k", "v", "--snapshot", snap)[0] == 0
    assert run_engine("get", "k", "--snapshot", snap)[1].strip() == "v"


@pytest.mark.parametrize("op", [("put", "", "v"), ("get", ""), ("del", "")])
def test_an_empty_key_is_refused_as_the_csv_format_refuses_it(
    op: tuple[str, ...], tmp_path: Path
) -> None:
    snap = tmp_path / "s.snap"
    assert run_engine("put", "k", "v", "--snapshot", snap)[0] == 0
    before = snap.read_bytes()
    code, _, err = run_engine(*op, "--snapshot", snap)
    assert code == 2
    assert "empty" in assert_envelope(err, "BadInput")["detail"]
    assert snap.read_bytes() == before


def test_items_are_printed_as_csv(tmp_path: Path) -> None:
    snap = tmp_path / "s.snap"
    pairs = {"plain": "1", "a,b": 'say "hi"', "multi\nline": "x,y"}
    for key, value in pairs.items():
        assert run_engine("put", key, value, "--snapshot", snap)[0] == 0
    code, out, err = run_engine("items", "--snapshot", snap)
    assert code == 0, err
    assert dict(csv.reader(io.StringIO(out))) == pairs
    code, out, _ = run_engine("--json", "items", "--snapshot", snap)
    assert {k: v for k, v in assert_ok(out, "items")["items"]} == pairs
    assert json.loads(out)["ok"] is True


# ---------------------------------------------------------------------- 8. interrupts
@pytest.fixture(scope="module")
def long_workload(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("long") / "long.csv"
    code, _, err = run_engine("generate-csv", "--ops", "3000000", "--outfile", path)
    assert code == 0, err
    return path


def _interrupt_run(args: list[str], ready: Callable[[], bool]) -> tuple[int, str]:
    """Start ``engine *args``, send SIGINT once ``ready()``, return (exit status, stderr)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not ready() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err


def test_an_interrupted_run_says_which_progressive_file_it_kept(
    long_workload: Path, tmp_path: Path
) -> None:
    metrics = tmp_path / "metrics"
    summary = tmp_path / "summary.json"
    ndjson = metrics / "metrics.ndjson"
    code, err = _interrupt_run(
        [
            *("run-csv", "--csv", str(long_workload), "--json-summary-out", str(summary)),
            *("--metrics-out-dir", str(metrics), "--metrics-every-ops", "20000"),
        ],
        lambda: ndjson.exists() and ndjson.stat().st_size > 0,
    )
    assert code == 130
    envelope = json.loads(err.strip().splitlines()[-1])
    assert envelope["error"] == "Interrupted"
    assert str(ndjson) in envelope["hint"] and "kept" in envelope["hint"]
    assert not summary.exists()
    lines = ndjson.read_text().splitlines()
    assert lines and all(json.loads(line)["schema"] == "metrics.v1" for line in lines)


def test_an_interrupted_run_without_progressive_outputs_says_none_were_left(
    long_workload: Path, tmp_path: Path
) -> None:
    summary = tmp_path / "summary.json"
    started = time.monotonic()
    code, err = _interrupt_run(
        ["run-csv", "--csv", str(long_workload), "--json-summary-out", str(summary)],
        # mid-replay: past start-up (~0.1 s), well before the end (the compiled build
        # replays the 3M rows in about 1.5 s)
        lambda: time.monotonic() - started > 0.4,
    )
    assert code == 130
    envelope = json.loads(err.strip().splitlines()[-1])
    assert envelope["hint"] == "no partial output files were left"
    assert list(tmp_path.iterdir()) == []
