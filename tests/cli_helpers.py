"""Helpers for the ``engine`` command-line tests: run the CLI in a subprocess and check
the error envelope and the ``--json`` success envelope of the contract.

Not a test module; the CLI test files import it (``tests/`` is on ``sys.path`` under
pytest's default rootdir-relative import mode).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

__all__ = [
    "ENVELOPE_CODES",
    "EXIT_CODES",
    "ROOT",
    "assert_envelope",
    "assert_ok",
    "prometheus_tool",
    "run_engine",
    "run_engine_in_process",
    "run_engine_many",
    "write_rows",
]

ROOT = Path(__file__).resolve().parents[1]


def prometheus_tool(name: str) -> str | None:
    """``prometheus`` or ``promtool``: from ``PROMETHEUS_BIN``/``PROMTOOL_BIN`` (set by
    tests/run.sh), else the copy it unpacks into ``.cache/prometheus``, else PATH."""
    import shutil

    variable = {"prometheus": "PROMETHEUS_BIN", "promtool": "PROMTOOL_BIN"}[name]
    unpacked = ROOT / ".cache" / "prometheus" / "usr" / "bin" / name
    for candidate in (os.environ.get(variable), str(unpacked)):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which(name)

#: envelope ``error`` code -> process exit status (``engine.errors``)
EXIT_CODES: dict[str, int] = {"BadInput": 2, "Invariant": 3, "Policy": 4, "IO": 5}
ENVELOPE_CODES = frozenset(EXIT_CODES)

_TIMEOUT = 120
#: Byte-code cache for the subprocesses, outside the source tree. Without it, when the
#: environment sets PYTHONDONTWRITEBYTECODE and the tree has no __pycache__, every call
#: recompiles pydantic and the engine (~0.6 s of CPU per call instead of ~0.2 s).
PYCACHE = Path(tempfile.gettempdir()) / "engine-cli-tests-pycache"


def _environment(env: Mapping[str, str] | None) -> dict[str, str]:
    """A copy of this process's environment with the repo root first on PYTHONPATH,
    no inherited ``ADHASH_*`` overrides (so tests are hermetic), a byte-code cache
    outside the tree, then ``env`` on top."""
    out = {k: v for k, v in os.environ.items() if not k.upper().startswith("ADHASH_")}
    out["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    out.pop("QT_QPA_PLATFORM", None)
    if "PYTHONPYCACHEPREFIX" not in out:
        out.pop("PYTHONDONTWRITEBYTECODE", None)
        out["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    out.update(env or {})
    return out


def run_engine(
    *args: str | os.PathLike[str],
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> tuple[int, str, str]:
    """Run ``python -m engine.cli *args``; returns ``(returncode, stdout, stderr)``.

    ``env`` adds (or replaces) variables on top of a copy of the current environment.
    """
    proc = subprocess.run(
        [sys.executable, "-m", "engine.cli", *map(str, args)],
        env=_environment(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=_TIMEOUT,
        check=False,
    )
    return proc.returncode, proc.stdout, proc.stderr


def run_engine_many(
    calls: Iterable[Sequence[Any]],
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    envs: Sequence[Mapping[str, str] | None] | None = None,
    cwds: Sequence[str | os.PathLike[str] | None] | None = None,
    workers: int = 4,
) -> list[tuple[int, str, str]]:
    """``run_engine`` for each argument list, several at a time (interpreter start-up
    dominates the cost of a call); results in the order of ``calls``. ``envs`` and
    ``cwds`` give each call its own extra variables and folder (default: ``env``, ``cwd``)."""
    arg_lists = [list(call) for call in calls]
    n = len(arg_lists)
    call_envs = list(envs) if envs is not None else [env] * n
    call_cwds = list(cwds) if cwds is not None else [cwd] * n
    assert len(call_envs) == len(call_cwds) == n, "one env and one cwd per call"
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [
            pool.submit(run_engine, *args, env=call_env, cwd=call_cwd)
            for args, call_env, call_cwd in zip(arg_lists, call_envs, call_cwds, strict=True)
        ]
        return [f.result() for f in futures]


def run_engine_in_process(
    *args: str | os.PathLike[str],
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> tuple[int, str, str]:
    """``engine.cli.main(args)`` in this process, with the same environment rules as
    :func:`run_engine` (no inherited ``ADHASH_*``, ``env`` on top) and ``cwd`` as the
    working folder; returns ``(exit status, stdout, stderr)``. Milliseconds instead of
    a subprocess's start-up, for tables of cases."""
    import pytest

    from engine.cli import main

    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        for name in [n for n in os.environ if n.upper().startswith("ADHASH_")]:
            mp.delenv(name)
        for name, value in (env or {}).items():
            mp.setenv(name, value)
        if cwd is not None:
            mp.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main([str(a) for a in args])
            except SystemExit as exc:  # --help and --version only
                code = exc.code if isinstance(exc.code, int) else 1
    return code, out.getvalue(), err.getvalue()


def assert_envelope(stderr: str, code: str) -> dict[str, str]:
    """Check that ``stderr`` is exactly one JSON error envelope with error ``code`` and
    no traceback; returns the envelope."""
    assert code in ENVELOPE_CODES, f"not a contract error code: {code!r}"
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one envelope line on stderr, got {len(lines)}:\n{stderr}"
    try:
        envelope = json.loads(lines[0])
    except json.JSONDecodeError as exc:  # pragma: no cover - the assertion message matters
        raise AssertionError(f"stderr is not a JSON envelope: {lines[0]!r}") from exc
    assert isinstance(envelope, dict), envelope
    assert set(envelope) == {"error", "detail", "hint"}, envelope
    assert envelope["error"] == code, envelope
    assert isinstance(envelope["detail"], str), envelope
    assert envelope["detail"], envelope
    assert isinstance(envelope["hint"], str), envelope
    return envelope


def assert_ok(stdout: str, command: str) -> Any:
    """Check that ``stdout`` is one ``--json`` success envelope for ``command``; returns
    its ``result``."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one JSON line on stdout, got {len(lines)}:\n{stdout}"
    payload = json.loads(lines[0])
    assert set(payload) == {"ok", "command", "result"}, payload
    assert payload["ok"] is True, payload
    assert payload["command"] == command, payload
    return payload["result"]


def write_rows(
    path: str | os.PathLike[str],
    rows: Iterable[Sequence[str]],
    header: Sequence[str] = ("op", "key", "value"),
) -> Path:
    """Write a workload CSV (LF line ends) and return its path."""
    target = Path(path)
    with open(target, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return target


def replay_on_dict(
    rows: Iterable[Sequence[str]],
) -> tuple[dict[str, str], dict[str, int], int, int]:
    """The reference model: replay (op, key, value) rows on a plain dict.

    Returns the final dict, the op counts, the get hits and the delete hits."""
    model: dict[str, str] = {}
    counts = dict.fromkeys(("put", "get", "del"), 0)
    get_hits = del_hits = 0
    for op, key, value in rows:
        counts[op] += 1
        if op == "put":
            model[key] = value
        elif op == "get":
            get_hits += key in model
        else:
            del_hits += model.pop(key, None) is not None
    return model, counts, get_hits, del_hits


def start_replay_serving_metrics(csv_path: Path, *extra: str) -> tuple[subprocess.Popen[str], int]:
    """Start ``run-csv --metrics-port 0`` in the background; return the process and the
    port it logged. The caller stops the process."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "engine.cli",
            "--log-level",
            "info",
            "run-csv",
            "--csv",
            str(csv_path),
            "--metrics-port",
            "0",
            *extra,
        ],
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    for _ in range(50):
        found = re.search(r"http://127\.0\.0\.1:(\d+)/metrics", proc.stderr.readline())
        if found:
            return proc, int(found.group(1))
    proc.kill()
    raise AssertionError("the replay did not log its metrics address")
