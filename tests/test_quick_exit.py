"""The ``engine`` program's quick exit (:mod:`engine.cli.quick_exit`): it skips freeing
the heap, and nothing else that an ordinary exit does."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from engine.cli import main, quick_exit
from tests.cli_helpers import ROOT, _environment, run_engine

WORKLOAD = ROOT / "resources" / "workloads" / "mixed-small.csv"

#: A program that holds an object announcing its own freeing, then leaves: the quick
#: exit must not free it (no "freed" line), an ordinary exit does (it is held in a list
#: the module teardown clears).
HOLDER = r"""
import sys
from engine.cli import quick_exit

class Announcer:
    def __del__(self):
        sys.stderr.write("freed\n")

quick_exit.program_mode()
quick_exit.reset()
quick_exit.hold(Announcer())
{setup}
sys.stdout.write("done\n")
quick_exit.leave(7)
"""


def run_holder(setup: str = "", tmp_path: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", HOLDER.replace("{setup}", setup)],
        capture_output=True,
        text=True,
        env=_environment(None),
        cwd=str(tmp_path or ROOT),
        timeout=60,
        check=False,
    )


def test_a_quick_exit_keeps_the_code_and_the_output_but_frees_nothing() -> None:
    proc = run_holder("quick_exit.allow()")
    assert (proc.returncode, proc.stdout) == (7, "done\n")
    assert "freed" not in proc.stderr


def test_without_allow_the_exit_is_ordinary() -> None:
    proc = run_holder()
    assert (proc.returncode, proc.stdout) == (7, "done\n")
    assert "freed" in proc.stderr


def test_exit_handlers_run_before_a_quick_exit(tmp_path: Path) -> None:
    setup = (
        "import atexit, pathlib\n"
        "atexit.register(lambda: pathlib.Path('handler-ran').write_text('yes'))\n"
        "quick_exit.allow()\n"
    )
    proc = run_holder(setup, tmp_path)
    assert proc.returncode == 7
    assert (tmp_path / "handler-ran").read_text() == "yes"
    assert "freed" not in proc.stderr  # still the quick way out


def test_a_running_thread_makes_the_exit_ordinary_and_is_waited_for(tmp_path: Path) -> None:
    setup = (
        "import threading, time, pathlib\n"
        "def late():\n"
        "    time.sleep(0.3)\n"
        "    pathlib.Path('thread-done').write_text('yes')\n"
        "threading.Thread(target=late).start()\n"
        "quick_exit.allow()\n"
    )
    proc = run_holder(setup, tmp_path)
    assert proc.returncode == 7
    assert (tmp_path / "thread-done").read_text() == "yes"
    assert "freed" in proc.stderr


def test_an_unflushable_stdout_makes_the_exit_ordinary() -> None:
    """A stdout whose flush fails (a full disk): the ordinary exit reports it, with
    status 120 and Python's message, where a quick exit would have hidden it."""
    setup = (
        "class FullDisk:\n"
        "    def write(self, text):\n"
        "        return len(text)\n"
        "    def flush(self):\n"
        "        raise OSError(28, 'No space left on device')\n"
        "sys.stdout = FullDisk()\n"
        "quick_exit.allow()\n"
    )
    proc = run_holder(setup)
    assert proc.returncode == 120
    assert "No space left on device" in proc.stderr


def test_run_csv_as_a_program_writes_every_output_and_its_log(tmp_path: Path) -> None:
    """The program's run-csv leaves quickly: its summary file, snapshot, log file and
    stdout are complete, and the same as the library call writes."""
    outputs = {}
    for how in ("program", "library"):
        folder = tmp_path / how
        folder.mkdir()
        args = [
            "--json",
            "--log-level",
            "info",
            "--log-file",
            str(folder / "engine.log"),
            "--backend",
            "adaptive",
            "run-csv",
            "--csv",
            str(WORKLOAD),
            "--json-summary-out",
            str(folder / "summary.json"),
            "--snapshot-out",
            str(folder / "map.snap"),
        ]
        if how == "program":
            code, out, _ = run_engine(*args)
        else:
            proc = subprocess.run(
                [sys.executable, "-c", "import sys; from engine.cli import main; "
                 "raise SystemExit(main(sys.argv[1:]))", *args],
                capture_output=True, text=True, env=_environment(None), timeout=60, check=False,
            )  # fmt: skip
            code, out = proc.returncode, proc.stdout
        assert code == 0
        summary = json.loads((folder / "summary.json").read_text())
        printed = json.loads(out)["result"]
        log = (folder / "engine.log").read_text()
        assert "run-csv finished" in log
        outputs[how] = (
            {k: v for k, v in summary.items() if k not in _TIMINGS},
            {k: v for k, v in printed.items() if k not in _TIMINGS},
            (folder / "map.snap").read_bytes(),
        )
    program, library = outputs["program"], outputs["library"]
    assert program[2] == library[2]
    for a, b in ((program[0], library[0]), (program[1], library[1])):
        assert a.keys() == b.keys()
        assert a["final_stats"] == b["final_stats"] and a["final_size"] == b["final_size"]


_TIMINGS = {"elapsed_seconds", "ops_per_second", "latency_ms", "csv", "snapshot_out"}


def test_the_library_call_holds_nothing_and_allows_nothing() -> None:
    """``main()`` in a process that is not the program: the map is freed as usual."""
    assert main(["--backend", "robinhood", "run-csv", "--csv", str(WORKLOAD)]) == 0
    assert quick_exit._HELD == []
    assert not quick_exit._STATE["program"]


def test_a_failing_run_is_not_allowed_a_quick_exit(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("op,key,value\nput,a,1\nfly,b,\n")
    code, out, err = run_engine("run-csv", "--csv", str(bad))
    assert code == 2 and out == ""
    assert json.loads(err.strip().splitlines()[-1])["error"]
    quick_exit.reset()
    assert main(["run-csv", "--csv", str(bad)]) == 2
    assert not quick_exit._STATE["allowed"]
