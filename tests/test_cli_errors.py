"""The ``engine`` error contract: malformed input of every kind gives the documented exit
status and exactly one JSON envelope on stderr, no traceback, nothing on stdout, and no
partial or clobbered output file.

Every case runs in-process through ``engine.cli.main`` (milliseconds each), and the
cases the contract names also run as a real ``python -m engine.cli`` subprocess, in one
module-scoped batch (several processes at a time, start-up dominates). Each case gets
its own folder in each mode, so the file checks see only that run.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cli_helpers import (
    EXIT_CODES,
    assert_envelope,
    assert_ok,
    run_engine_in_process,
    run_engine_many,
)

HEADER = b"op,key,value\n"
GOOD = HEADER + b"put,a,1\nget,a,\ndel,a,\n"
TEN_ROWS = HEADER + b"".join(b"put,k%d,%d\n" % (i, i) for i in range(10))
BAD_ROW_3 = HEADER + b"put,a,1\nget,a,\nfetch,a,\nput,b,2\n"
EXISTING_SUMMARY = b'{"previous": "summary"}\n'
EXISTING_CSV = b"op,key,value\nput,keep,me\n"


@dataclass(frozen=True)
class Case:
    """One command line and what it must produce. Paths are relative to the case folder."""

    id: str
    args: tuple[str, ...]
    code: str  # envelope code, or "OK" for inputs that must be accepted
    detail: tuple[str, ...] = ()  # substrings of the envelope's detail
    files: dict[str, bytes] = field(default_factory=dict)
    env: dict[str, str] | None = None
    absent: tuple[str, ...] = ()  # paths that must not exist afterwards
    unchanged: tuple[str, ...] = ()  # files (from ``files``) that must keep their bytes
    only: dict[str, tuple[str, ...]] = field(default_factory=dict)  # folder -> exact listing
    total_ops: int | None = None  # for accepted inputs (run with --json)

    @property
    def exit(self) -> int:
        return 0 if self.code == "OK" else EXIT_CODES[self.code]


def csv_case(id: str, data: bytes, code: str, *detail: str, extra: tuple[str, ...] = ()) -> Case:
    name = f"{id}.csv"
    return Case(id, ("run-csv", "--csv", name, *extra), code, detail, files={name: data})


def accepted(id: str, data: bytes, total_ops: int) -> Case:
    name = f"{id}.csv"
    return Case(
        id, ("--json", "run-csv", "--csv", name), "OK", files={name: data}, total_ops=total_ops
    )


PROBE = ("probe-visualize", "--operation", "get", "--key", "a")

CASES: list[Case] = [
    # ---------------------------------------------------------------- the CSV workload
    csv_case("csv-empty-file", b"", "BadInput", "empty"),
    csv_case("csv-bad-header", b"op,key,val\nput,a,1\n", "BadInput", "header"),
    csv_case("csv-header-two-columns", b"op,key\nput,a\n", "BadInput", "header"),
    csv_case("csv-duplicate-header", b"op,op,value\nput,a,1\n", "BadInput", "header"),
    csv_case(
        "csv-wrong-column-count", HEADER + b"put,a,1\nput,b\n", "BadInput", "row 2", "column count"
    ),
    csv_case("csv-extra-column", HEADER + b"put,a,1,x\n", "BadInput", "row 1", "column count"),
    csv_case("csv-unknown-op", BAD_ROW_3, "BadInput", "row 3", "column 'op'", "fetch"),
    csv_case("csv-missing-key", HEADER + b"put,a,1\nget,,\n", "BadInput", "row 2", "column 'key'"),
    csv_case("csv-get-with-value", HEADER + b"get,a,1\n", "BadInput", "row 1", "column 'value'"),
    csv_case("csv-del-with-value", HEADER + b"del,a,1\n", "BadInput", "row 1", "column 'value'"),
    csv_case("csv-non-utf8", HEADER + b"put,a,\xff\xfe\n", "BadInput", "UTF-8"),
    # the diagnostic names the data row that holds the bad bytes
    csv_case(
        "csv-non-utf8-names-row",
        HEADER + b"put,a,1\nput,b,2\nput,c,\xff\n",
        "BadInput",
        "row 3",
        "UTF-8",
    ),
    # ... also after a blank line and after a quoted field that spans two lines: rows are
    # data rows (blank lines skipped, header excluded), as in every other diagnostic
    csv_case(
        "csv-non-utf8-after-blank-line",
        HEADER + b"put,a,1\n\nput,b,\xff\n",
        "BadInput",
        "row 2",
        "UTF-8",
    ),
    csv_case(
        "csv-non-utf8-after-multiline-field",
        HEADER + b'put,"a\nb",1\nput,b,\xff\n',
        "BadInput",
        "row 2",
        "UTF-8",
    ),
    csv_case("csv-nul-byte", HEADER + b"put,a,1\nput,a\x00b,1\n", "BadInput", "row 2"),
    csv_case(
        "csv-2mb-field", HEADER + b"put,a," + b"x" * (2 * 1024 * 1024) + b"\n", "BadInput", "row 1"
    ),
    csv_case("csv-unterminated-quote", HEADER + b'put,"abc,1\n', "BadInput", "row 1"),
    Case("csv-missing-file", ("run-csv", "--csv", "nope.csv"), "IO", ("nope.csv",)),
    Case(
        "csv-is-a-folder",
        ("run-csv", "--csv", "afolder"),
        "IO",
        ("folder",),
        files={"afolder/.keep": b""},
    ),
    csv_case("csv-max-rows", TEN_ROWS, "Policy", "5", extra=("--csv-max-rows", "5")),
    csv_case(
        "csv-max-rows-dry-run", TEN_ROWS, "Policy", "5", extra=("--csv-max-rows", "5", "--dry-run")
    ),
    # a negative limit is a bad flag (as it is in the settings), not a refused file
    csv_case(
        "csv-max-rows-negative",
        TEN_ROWS,
        "BadInput",
        "--csv-max-rows",
        extra=("--csv-max-rows", "-1"),
    ),
    csv_case("csv-max-bytes", TEN_ROWS, "Policy", "10", extra=("--csv-max-bytes", "10")),
    csv_case("csv-bad-row-dry-run", BAD_ROW_3, "BadInput", "row 3", extra=("--dry-run",)),
    Case(
        "dna-bad-row",
        ("workload-dna", "--csv", "dna.csv"),
        "BadInput",
        ("row 3",),
        files={"dna.csv": BAD_ROW_3},
    ),
    Case("profile-missing-file", ("profile", "--csv", "nope.csv"), "IO", ("nope.csv",)),
    # inputs that must be accepted
    accepted("ok-header-only", HEADER, 0),
    accepted("ok-crlf", b"op,key,value\r\nput,a,1\r\nget,a,\r\n", 2),
    accepted("ok-bom", b"\xef\xbb\xbf" + GOOD, 3),
    accepted("ok-bom-crlf", b"\xef\xbb\xbfop,key,value\r\nput,a,1\r\n", 1),
    accepted("ok-blank-lines", HEADER + b"put,a,1\n\n\nget,a,\n", 2),
    accepted("ok-quoted-fields", HEADER + b'put,"a,b","x ""y"""\nget,"a,b",\n', 2),
    accepted("ok-header-any-order", b"Key, OP ,value\nk,put,1\n", 1),
    accepted("ok-unicode", HEADER + "put,日本,🙂\nget,日本,\n".encode(), 2),
    # ---------------------------------------------------------------- arguments
    Case("cli-no-command", (), "BadInput", ("command",)),
    Case("cli-unknown-command", ("frobnicate",), "BadInput", ("frobnicate",)),
    Case(
        "cli-unknown-flag",
        ("run-csv", "--csv", "good.csv", "--frob"),
        "BadInput",
        ("--frob",),
        files={"good.csv": GOOD},
    ),
    Case("cli-bad-mode", ("--mode", "turbo", "items"), "BadInput", ("--mode",)),
    Case("cli-bad-backend", ("items", "--backend", "btree"), "BadInput", ("--backend",)),
    Case(
        "cli-log-max-bytes-negative",
        ("--log-max-bytes", "-1", "items"),
        "BadInput",
        ("--log-max-bytes",),
    ),
    Case(
        "cli-log-file-missing-folder",
        ("items", "--log-file", "missing_dir/x.log"),
        "IO",
        ("missing_dir",),
        absent=("missing_dir",),
    ),
    Case(
        "gen-ops-negative",
        ("generate-csv", "--outfile", "g.csv", "--ops", "-1"),
        "BadInput",
        ("--ops",),
        absent=("g.csv",),
    ),
    Case(
        "gen-ops-not-a-number",
        ("generate-csv", "--outfile", "g.csv", "--ops", "many"),
        "BadInput",
        ("--ops",),
        absent=("g.csv",),
    ),
    Case(
        "gen-read-ratio",
        ("generate-csv", "--outfile", "g.csv", "--read-ratio", "1.5"),
        "BadInput",
        ("--read-ratio",),
        absent=("g.csv",),
    ),
    Case(
        "gen-adversarial-lowbits-0",
        ("generate-csv", "--outfile", "g.csv", "--adversarial-lowbits", "0"),
        "BadInput",
        ("--adversarial-lowbits",),
        absent=("g.csv",),
    ),
    Case(
        "gen-key-space-0",
        ("generate-csv", "--outfile", "g.csv", "--key-space", "0"),
        "BadInput",
        ("--key-space",),
        absent=("g.csv",),
    ),
    Case(
        "gen-unknown-preset",
        ("generate-csv", "--outfile", "g.csv", "--preset", "ycsb-z"),
        "BadInput",
        ("--preset",),
        absent=("g.csv",),
    ),
    Case("gen-no-outfile", ("generate-csv", "--ops", "10"), "BadInput", ("--outfile",)),
    Case(
        "gen-outfile-missing-folder",
        ("generate-csv", "--outfile", "missing_dir/g.csv", "--ops", "10"),
        "IO",
        ("missing_dir",),
        absent=("missing_dir",),
    ),
    Case(
        "gen-outfile-is-a-folder",
        ("generate-csv", "--outfile", "afolder", "--ops", "10"),
        "IO",
        ("afolder",),
        files={"afolder/.keep": b""},
        only={".": ("afolder",)},
    ),
    # a refused generation neither replaces the existing file nor leaves a temp file
    Case(
        "gen-bad-args-keep-existing",
        ("generate-csv", "--outfile", "keep/w.csv", "--ops", "10", "--read-ratio", "2"),
        "BadInput",
        ("--read-ratio",),
        files={"keep/w.csv": EXISTING_CSV},
        unchanged=("keep/w.csv",),
        only={"keep": ("w.csv",)},
    ),
    Case(
        "run-latency-sample-every-0",
        ("run-csv", "--csv", "good.csv", "--latency-sample-every", "0"),
        "BadInput",
        ("--latency-sample-every",),
        files={"good.csv": GOOD},
    ),
    Case(
        "run-latency-sample-k-negative",
        ("run-csv", "--csv", "good.csv", "--latency-sample-k", "-1"),
        "BadInput",
        ("--latency-sample-k",),
        files={"good.csv": GOOD},
    ),
    Case(
        "run-compact-interval-0",
        ("run-csv", "--csv", "good.csv", "--compact-interval", "0"),
        "BadInput",
        ("--compact-interval",),
        files={"good.csv": GOOD},
    ),
    Case(
        "profile-sample-0",
        ("profile", "--csv", "good.csv", "--sample", "0"),
        "BadInput",
        ("--sample",),
        files={"good.csv": GOOD},
    ),
    Case(
        "dna-top-negative",
        ("workload-dna", "--csv", "good.csv", "--top", "-1"),
        "BadInput",
        ("--top",),
        files={"good.csv": GOOD},
    ),
    Case("probe-seed-without-equals", (*PROBE, "--seed", "ab"), "BadInput", ("'ab'",)),
    Case("probe-seed-empty-key", (*PROBE, "--seed", "=v"), "BadInput", ("'=v'",)),
    Case(
        "probe-bad-operation",
        ("probe-visualize", "--operation", "scan", "--key", "a"),
        "BadInput",
        ("--operation",),
    ),
    # ---------------------------------------------------------------- snapshots
    Case(
        "run-snapshot-in-missing",
        ("run-csv", "--csv", "good.csv", "--snapshot-in", "s.snap"),
        "IO",
        ("s.snap",),
        files={"good.csv": GOOD},
    ),
    Case(
        "run-snapshot-in-not-a-snapshot",
        ("run-csv", "--csv", "good.csv", "--snapshot-in", "s.snap"),
        "BadInput",
        ("magic",),
        files={"good.csv": GOOD, "s.snap": b"op,key,value\n" * 10},
    ),
    # a failing run writes neither the summary nor the snapshot
    Case(
        "run-snapshot-out-bad-csv",
        ("run-csv", "--csv", "bad.csv", "--snapshot-out", "s.snap", "--json-summary-out", "s.json"),
        "BadInput",
        ("row 1",),
        files={"bad.csv": b"op,key,value\nfly,a,\n"},
        absent=("s.snap", "s.json"),
    ),
    Case(
        "run-metrics-port",
        ("run-csv", "--csv", "good.csv", "--metrics-port", "70000"),
        "BadInput",
        ("--metrics-port",),
        files={"good.csv": GOOD},
    ),
    Case(
        "put-snapshot-missing-folder",
        ("put", "a", "1", "--snapshot", "nodir/p.snap"),
        "IO",
        ("nodir",),
    ),
    Case(
        "get-snapshot-truncated",
        ("get", "a", "--snapshot", "p.snap"),
        "BadInput",
        ("truncated",),
        files={"p.snap": b"AHMESNAP\x01"},
    ),
    Case(
        "items-snapshot-garbage",
        ("items", "--snapshot", "p.snap"),
        "BadInput",
        ("magic",),
        files={"p.snap": bytes(range(256))},
    ),
    Case("probe-snapshot-missing", (*PROBE, "--snapshot", "p.snap"), "IO", ("p.snap",)),
    # ---------------------------------------------------------------- settings
    Case("config-missing-file", ("--config", "missing.toml", "items"), "IO", ("missing.toml",)),
    Case(
        "config-is-a-folder",
        ("--config", "afolder", "items"),
        "IO",
        ("folder",),
        files={"afolder/.keep": b""},
    ),
    Case(
        "config-invalid-toml",
        ("--config", "broken.toml", "items"),
        "BadInput",
        ("TOML",),
        files={"broken.toml": b"backend = [\n"},
    ),
    Case(
        "config-unknown-key",
        ("--config", "unknown.toml", "items"),
        "BadInput",
        ("robinhood.max_lod",),
        files={"unknown.toml": b"[robinhood]\nmax_lod = 3\n"},
    ),
    Case(
        "config-unknown-section",
        ("items", "--config", "section.toml"),
        "BadInput",
        ("turbo",),
        files={"section.toml": b"[turbo]\nx = 1\n"},
    ),
    Case(
        "config-bad-value",
        ("--config", "bad.toml", "run-csv", "--csv", "good.csv"),
        "BadInput",
        ("robinhood.max_load_factor",),
        files={"bad.toml": b"[robinhood]\nmax_load_factor = 3\n", "good.csv": GOOD},
    ),
    Case(
        "config-validate-missing-file",
        ("config", "validate", "missing.toml"),
        "IO",
        ("missing.toml",),
    ),
    Case(
        "config-init-existing",
        ("config", "init", "--out", "exists.toml"),
        "Policy",
        ("exists.toml", "exists"),
        files={"exists.toml": b"# mine\n"},
        unchanged=("exists.toml",),
    ),
    Case("env-bad-backend", ("items",), "BadInput", ("backend",), env={"ADHASH_BACKEND": "nope"}),
    Case(
        "env-bad-number",
        ("items",),
        "BadInput",
        ("robinhood.max_load_factor",),
        env={"ADHASH_ROBINHOOD__MAX_LOAD_FACTOR": "abc"},
    ),
    Case(
        "env-unknown-field",
        ("items",),
        "BadInput",
        ("chaining.nope",),
        env={"ADHASH_CHAINING__NOPE": "1"},
    ),
    # ---------------------------------------------------------------- the summary file
    Case(
        "summary-is-a-folder",
        ("run-csv", "--csv", "good.csv", "--json-summary-out", "afolder"),
        "IO",
        ("afolder",),
        files={"good.csv": GOOD, "afolder/.keep": b""},
        only={"afolder": (".keep",)},
    ),
    Case(
        "summary-missing-folder",
        ("run-csv", "--csv", "good.csv", "--json-summary-out", "missing_dir/s.json"),
        "IO",
        ("missing_dir",),
        files={"good.csv": GOOD},
        absent=("missing_dir",),
    ),
    # a run that fails on row 3 keeps the previous summary, byte for byte, and no temp file
    Case(
        "summary-not-clobbered",
        ("run-csv", "--csv", "bad3.csv", "--json-summary-out", "clobber/summary.json"),
        "BadInput",
        ("row 3",),
        files={"bad3.csv": BAD_ROW_3, "clobber/summary.json": EXISTING_SUMMARY},
        unchanged=("clobber/summary.json",),
        only={"clobber": ("summary.json",)},
    ),
    # ... and creates no summary when there was none
    Case(
        "summary-not-created",
        ("run-csv", "--csv", "bad3.csv", "--json-summary-out", "fresh/summary.json"),
        "BadInput",
        ("row 3",),
        files={"bad3.csv": BAD_ROW_3, "fresh/.keep": b""},
        absent=("fresh/summary.json",),
        only={"fresh": (".keep",)},
    ),
    Case(
        "json-flag-error-stays-on-stderr",
        ("--json", "run-csv", "--csv", "nope.csv"),
        "IO",
        ("nope.csv",),
    ),
]
#: the cases the contract names: these also run as real subprocesses
SUBPROCESS = {
    "csv-empty-file", "csv-bad-header", "csv-wrong-column-count", "csv-unknown-op",
    "csv-missing-key", "csv-get-with-value", "csv-non-utf8", "csv-nul-byte", "csv-2mb-field",
    "csv-missing-file", "csv-is-a-folder", "csv-max-rows", "csv-max-bytes",
    "cli-unknown-command", "cli-unknown-flag", "gen-ops-negative", "gen-read-ratio",
    "gen-adversarial-lowbits-0", "gen-outfile-missing-folder", "gen-outfile-is-a-folder",
    "run-latency-sample-every-0",
    "run-snapshot-out-bad-csv", "run-metrics-port", "config-missing-file", "config-invalid-toml",
    "config-unknown-key", "env-bad-backend", "probe-seed-without-equals",
    "summary-missing-folder", "summary-not-clobbered", "summary-not-created",
    "ok-header-only", "ok-crlf", "ok-bom",
}  # fmt: skip
ERROR_CASES = [c for c in CASES if c.code != "OK"]
OK_CASES = [c for c in CASES if c.code == "OK"]
Outcome = tuple[Path, int, str, str]  # the case folder, exit status, stdout, stderr


def test_the_table_is_consistent() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    assert set(ids) >= SUBPROCESS
    assert len(ERROR_CASES) >= 25
    assert len([c for c in ERROR_CASES if c.id in SUBPROCESS]) >= 25


def make_folder(root: Path, case: Case) -> Path:
    folder = root / case.id
    folder.mkdir()
    for name, data in case.files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return folder


@pytest.fixture(scope="module")
def in_process(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    """Every case through ``engine.cli.main``, each in its own folder."""
    root = tmp_path_factory.mktemp("cli_errors_inproc")
    results = {}
    for case in CASES:
        folder = make_folder(root, case)
        results[case.id] = (folder, *run_engine_in_process(*case.args, env=case.env, cwd=folder))
    return results


@pytest.fixture(scope="module")
def subprocesses(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    """The contract's cases as ``python -m engine.cli`` subprocesses, several at a time."""
    root = tmp_path_factory.mktemp("cli_errors_proc")
    cases = [c for c in CASES if c.id in SUBPROCESS]
    folders = [make_folder(root, case) for case in cases]
    outcomes = run_engine_many(
        [case.args for case in cases], envs=[case.env for case in cases], cwds=folders
    )
    return {
        case.id: (folder, *outcome)
        for case, folder, outcome in zip(cases, folders, outcomes, strict=True)
    }


def check_files(case: Case, folder: Path) -> None:
    for name in case.absent:
        assert not (folder / name).exists(), f"{name} should not exist"
    for name in case.unchanged:
        assert (folder / name).read_bytes() == case.files[name], f"{name} was modified"
    for sub, listing in case.only.items():
        assert sorted(p.name for p in (folder / sub).iterdir()) == sorted(listing), sub


def check_error(case: Case, outcome: Outcome) -> None:
    folder, code, out, err = outcome
    assert (code, case.code) == (case.exit, case.code), err
    envelope = assert_envelope(err, case.code)
    for part in case.detail:
        assert part in envelope["detail"], envelope
    assert out == "", "nothing on stdout when a command fails"
    check_files(case, folder)


def check_accepted(case: Case, outcome: Outcome) -> None:
    folder, code, out, err = outcome
    assert code == 0, err
    assert err == ""
    result = assert_ok(out, "run-csv")
    assert result["total_ops"] == case.total_ops
    check_files(case, folder)


@pytest.mark.parametrize("case", ERROR_CASES, ids=lambda c: c.id)
def test_malformed_input_in_process(case: Case, in_process: dict[str, Outcome]) -> None:
    check_error(case, in_process[case.id])


@pytest.mark.parametrize("case", [c for c in ERROR_CASES if c.id in SUBPROCESS], ids=lambda c: c.id)
def test_malformed_input_subprocess(case: Case, subprocesses: dict[str, Outcome]) -> None:
    check_error(case, subprocesses[case.id])


@pytest.mark.parametrize("case", OK_CASES, ids=lambda c: c.id)
def test_accepted_input_in_process(case: Case, in_process: dict[str, Outcome]) -> None:
    check_accepted(case, in_process[case.id])


@pytest.mark.parametrize("case", [c for c in OK_CASES if c.id in SUBPROCESS], ids=lambda c: c.id)
def test_accepted_input_subprocess(case: Case, subprocesses: dict[str, Outcome]) -> None:
    check_accepted(case, subprocesses[case.id])


def test_csv_error_details_name_row_and_column(subprocesses: dict[str, Outcome]) -> None:
    """The exact wording for the two most common mistakes."""
    detail = json.loads(subprocesses["csv-unknown-op"][3])["detail"]
    assert detail.endswith("row 3, column 'op': unknown op 'fetch': expected put, get or del")
    detail = json.loads(subprocesses["csv-wrong-column-count"][3])["detail"]
    assert detail.endswith("row 2: wrong column count: expected 3, got 2")


FULL_STDOUT_COMMANDS = [
    ("run-csv", "--csv", "w.csv"),
    ("--json", "run-csv", "--csv", "w.csv"),
    ("--version",),
    ("config", "show"),
    ("generate-csv", "--ops", "5", "--outfile", "out.csv"),
]


PROGRAM_ENTRIES = {
    "engine.cli": '"$0" -m engine.cli',
    "program": '"$0" -c "from engine.cli.program import run; run()"',
}


def run_program(
    tmp_path: Path, args: str, redirects: str = "", entry: str = "engine.cli"
) -> subprocess.CompletedProcess[str]:
    """Run the engine program on ``w.csv`` (the GOOD rows) in ``tmp_path`` through ``sh``,
    with its standard streams redirected as ``redirects`` says; stderr is captured
    unless the redirects send it elsewhere."""
    import sys

    from cli_helpers import _environment

    (tmp_path / "w.csv").write_bytes(GOOD)
    return subprocess.run(
        ["sh", "-c", f"exec {PROGRAM_ENTRIES[entry]} {args} {redirects}", sys.executable],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=_environment(None),
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("entry", list(PROGRAM_ENTRIES))
@pytest.mark.parametrize("args", FULL_STDOUT_COMMANDS, ids=" ".join)
def test_a_stdout_that_takes_nothing_is_an_io_error(
    tmp_path: Path, args: tuple[str, ...], entry: str
) -> None:
    """``> /dev/full``: exit 5 with one IO envelope, and no second failure of the
    interpreter's own flush at exit (``Exception ignored ...``, exit 120)."""
    proc = run_program(tmp_path, " ".join(args), ">/dev/full", entry)
    assert proc.returncode == EXIT_CODES["IO"], proc.stderr
    envelope = assert_envelope(proc.stderr, "IO")
    assert "standard output" in envelope["detail"]


class _FullStream:
    """A text stream that takes nothing, as a full disk does."""

    def write(self, text: str) -> int:
        import errno

        raise OSError(errno.ENOSPC, "No space left on device")

    def flush(self) -> None:
        pass

    def fileno(self) -> int:
        raise AssertionError("a library call must not touch its caller's file descriptors")


def test_a_full_stdout_in_a_library_call_is_an_io_error_and_touches_no_descriptor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys

    from engine.cli import main

    (tmp_path / "w.csv").write_bytes(GOOD)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "stdout", _FullStream())
    code = main(["run-csv", "--csv", "w.csv"])
    assert code == EXIT_CODES["IO"]
    envelope = assert_envelope(capsys.readouterr().err, "IO")
    assert "No space left on device" in envelope["detail"]


@pytest.mark.parametrize(
    ("redirects", "envelope_expected"),
    [
        (">&-", "standard output is closed"),
        ("1</dev/null", "Bad file descriptor"),
        ("2>&- >/dev/full", None),
        ("2>/dev/full >/dev/full", None),
    ],
    ids=["stdout closed", "stdout read-only", "stderr closed, stdout full", "both full"],
)
def test_closed_or_full_standard_streams_still_exit_with_the_io_code(
    tmp_path: Path, redirects: str, envelope_expected: str | None
) -> None:
    """A program started with stdout closed, or with nowhere to put its error message,
    still ends with the IO exit code, never the internal-error one."""
    proc = run_program(tmp_path, "run-csv --csv w.csv", redirects)
    assert proc.returncode == EXIT_CODES["IO"], proc.stderr
    if envelope_expected is not None:
        envelope = assert_envelope(proc.stderr, "IO")
        assert envelope_expected in envelope["detail"]
    else:
        assert proc.stderr == ""


def test_a_log_file_that_takes_nothing_is_an_io_error_once_the_command_is_done(
    tmp_path: Path,
) -> None:
    """``--log-file /dev/full`` with records to write: the replay's outputs are written,
    then exit 5 with an IO envelope naming the log file, and no logging traceback on
    stderr (where the same records also go, at this level)."""
    args = "--log-level info --log-file /dev/full run-csv --csv w.csv --json-summary-out s.json"
    proc = run_program(tmp_path, args)
    assert proc.returncode == EXIT_CODES["IO"], proc.stderr
    assert "Traceback" not in proc.stderr and "Logging error" not in proc.stderr
    envelope = json.loads(proc.stderr.splitlines()[-1])  # after the info records
    assert envelope["error"] == "IO"
    assert "log file '/dev/full'" in envelope["detail"]
    assert json.loads((tmp_path / "s.json").read_text())["total_ops"] == 3


def test_a_log_failure_does_not_outlive_its_command(tmp_path: Path) -> None:
    """In one process, a command whose log file failed, then one with no log file."""
    from engine.cli import main

    (tmp_path / "w.csv").write_bytes(GOOD)
    csv_path = str(tmp_path / "w.csv")
    failing = ["--log-level", "info", "--log-file", "/dev/full", "run-csv", "--csv", csv_path]
    assert main(failing) == EXIT_CODES["IO"]
    assert main(["run-csv", "--csv", csv_path]) == 0
