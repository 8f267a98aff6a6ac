"""Whole-process replay time of ``engine run-csv`` against a bare-dict replay.

    python bench/replay.py [--ops 1000000] [--repeat 5] [--memory] [--with-metrics]
                           [--wide-key-space 200000] [--backends B ...]
                           [--metrics-backends B ...] [--python PY]

Generates (once, deterministically) a uniform workload (80% get) and a skewed adversarial
one over ``--key-space`` keys, and a uniform one over ``--wide-key-space`` keys (200,000
by default, 0 for none: about as many live keys as the key space has keys, so more
misses and a larger table), then times the ``engine`` program (what its console script
runs) with ``--backend B run-csv --csv F`` for each of ``--backends`` (default latency
sampling on; with ``--with-metrics`` also each of ``--metrics-backends`` with metrics on)
and a bare ``dict`` replay of the same file with :func:`csv.reader`, each in a fresh
process. Peak RSS comes from the child's own resource usage (:func:`os.wait4`).

These machines change speed by a third from one second to the next (the same process's
CPU time moves as much as its wall time), so a ratio of two best times taken minutes
apart can land on either side of a target. Each engine run is therefore *bracketed*: the
dict replay runs right before and right after it, and the run's ratio is its time over
the mean of those two. The headline is the median of those paired ratios over
``--repeat`` rounds; the best times and their ratio are printed beside it. Checks that
the adaptive map's migrations fired on the skewed file.

``--python PY`` runs the engine and the dict replays with another interpreter and the
engine installed there, instead of this tree's source: the compiled build's venv, for
instance (``.cache/compiled/venv/bin/python``, see docs/performance.md).

``--memory`` also compares the peak RSS of a 10x longer replay with the same key space
(streaming: memory must not grow with the number of rows). Peak memory per backend
against the dict replay is ``bench/memory.py``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ("chaining", "robinhood", "adaptive")
METRICS_PACKAGES = (
    "prometheus_client",
    "starlette",
    "uvicorn",
    "anyio",
    "h11",
    "click",
    "idna",
    "sniffio",
    "typing_extensions",
)

DICT_REPLAY = r"""
import csv, sys
d = {}
with open(sys.argv[1], newline="", encoding="utf-8") as f:
    r = csv.reader(f)
    next(r)
    for op, key, value in r:
        if op == "get":
            d.get(key)
        elif op == "put":
            d[key] = value
        else:
            d.pop(key, None)
"""


#: What the ``engine`` console script runs (``[project.scripts]``), argv and all.
ENGINE_PROGRAM = "from engine.cli.program import run; run()"

#: The interpreter of the replays, and whether it runs this tree's source (``--python``).
PYTHON = {"exe": sys.executable, "source": True}


def _env_and_cwd() -> tuple[dict[str, str], Path]:
    """This tree on the path, from ROOT (``python -c`` puts the working folder first on the
    path); or, for an installed engine, neither."""
    if PYTHON["source"]:
        return dict(os.environ, PYTHONPATH=str(ROOT)), ROOT
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return env, ROOT / "bench"


def run(cmd: list[str]) -> tuple[float, int, str]:
    """Wall time, peak RSS (KiB, from the child's own resource usage) and stdout of one
    process."""
    env, cwd = _env_and_cwd()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode != 0:
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{stderr}")
    return elapsed, usage.ru_maxrss, stdout


def engine_cmd(
    backend: str, csv_path: Path, *extra: str, run_flags: tuple[str, ...] = ()
) -> list[str]:
    """The engine replay's command line: ``extra`` global flags, ``run_flags`` for run-csv."""
    return [
        str(PYTHON["exe"]),
        "-c",
        ENGINE_PROGRAM,
        "--backend",
        backend,
        *extra,
        "run-csv",
        "--csv",
        str(csv_path),
        "--csv-max-rows",
        "0",
        *run_flags,
    ]


def generate(path: Path, *flags: str) -> None:
    if path.exists():
        return
    subprocess.run(
        [sys.executable, "-m", "engine.cli", "generate-csv", "--outfile", str(path), *flags],
        check=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ops", type=int, default=1_000_000)
    parser.add_argument("--key-space", type=int, default=100_000)
    parser.add_argument(
        "--wide-key-space",
        type=int,
        default=200_000,
        help="also a uniform file over this many keys (default 200000; 0 for none)",
    )
    parser.add_argument(
        "--backends", nargs="+", default=list(BACKENDS), choices=BACKENDS, help="contenders"
    )
    parser.add_argument("--repeat", type=int, default=5, help="rounds (default 5)")
    parser.add_argument("--memory", action="store_true", help="also run the 10x memory check")
    parser.add_argument(
        "--with-metrics",
        action="store_true",
        help="also time --metrics-backends with --metrics-out-dir and --metrics-port 0",
    )
    parser.add_argument(
        "--metrics-backends",
        nargs="+",
        default=["adaptive"],
        choices=BACKENDS,
        help="the backends --with-metrics times (default adaptive)",
    )
    parser.add_argument("--workdir", default=str(ROOT / "bench" / ".data"))
    parser.add_argument(
        "--python",
        help="the interpreter of the replays, with the engine installed (default: this one, "
        "running this tree's source)",
    )
    args = parser.parse_args(argv)
    if args.python:
        PYTHON.update(exe=str(Path(args.python).absolute()), source=False)  # no resolve: a venv

    work = Path(args.workdir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    ops, space = str(args.ops), str(args.key_space)
    files = {
        "uniform": work / f"uniform-{args.ops}.csv",
        "skewed-adversarial": work / f"skewed-adv20-{args.ops}.csv",
    }
    generate(
        files["uniform"], "--ops", ops, "--read-ratio", "0.8", "--key-space", space, "--seed", "1"
    )
    generate(
        files["skewed-adversarial"],
        "--ops",
        ops,
        "--read-ratio",
        "0.8",
        "--key-space",
        space,
        "--key-skew",
        "1.1",
        "--adversarial-ratio",
        "0.002",
        "--adversarial-lowbits",
        "20",
        "--seed",
        "2",
    )
    if args.wide_key_space:
        wide = str(args.wide_key_space)
        files[f"uniform-{wide}-keys"] = work / f"uniform-{args.ops}-keys-{wide}.csv"
        generate(
            files[f"uniform-{wide}-keys"],
            "--ops",
            ops,
            "--read-ratio",
            "0.8",
            "--key-space",
            wide,
            "--seed",
            "3",
        )

    # An installed package carries byte-code; this environment may not write it on import
    # (PYTHONDONTWRITEBYTECODE), so compile once rather than time the compiler every run:
    # the engine, and what --with-metrics loads (installed here without it): prometheus-client
    # and the HTTP stack of --metrics-port.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "engine")], check=True)
    if not PYTHON["source"]:
        env, cwd = _env_and_cwd()
        where = "import engine, os; print(os.path.dirname(engine.__file__))"
        found = subprocess.run(
            [str(PYTHON["exe"]), "-c", where], env=env, cwd=cwd, capture_output=True, text=True,
            check=True,
        )  # fmt: skip
        package = found.stdout.strip()
        subprocess.run([str(PYTHON["exe"]), "-m", "compileall", "-q", package], check=True)
        build = subprocess.run(
            [str(PYTHON["exe"]), "-c", "from engine.build import build_name; print(build_name())"],
            env=env, cwd=cwd, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        print(f"engine from {package} ({build} build)")
    if args.with_metrics:
        for name in METRICS_PACKAGES:
            spec = importlib.util.find_spec(name)
            if spec is None:
                continue
            places = list(spec.submodule_search_locations or []) or [spec.origin or ""]
            for place in filter(None, places):
                subprocess.run([sys.executable, "-m", "compileall", "-q", place], check=False)
    print(
        f"replay of {args.ops:,} ops, whole process, {args.repeat} rounds; ratio = time over "
        "the mean of the dict replays just before and after it (median of the rounds)"
    )
    print(f"{'workload':20} {'contender':17} {'best s':>7} {'median x':>9} {'rounds x':>22}  notes")
    worst = {"plain": 0.0, "metrics": 0.0}
    for name, path in files.items():
        dict_cmd = [str(PYTHON["exe"]), "-c", DICT_REPLAY, str(path)]
        contenders = {backend: engine_cmd(backend, path, "--json") for backend in args.backends}
        for backend in args.metrics_backends if args.with_metrics else ():
            folder = work / "metrics-out"
            contenders[f"{backend}+metrics"] = engine_cmd(
                backend,
                path,
                "--json",
                run_flags=("--metrics-out-dir", str(folder), "--metrics-port", "0"),
            )
        best: dict[str, float] = {}
        ratios: dict[str, list[float]] = {contender: [] for contender in contenders}
        notes: dict[str, str] = {}
        for _ in range(args.repeat):
            before, _, _ = run(dict_cmd)
            best["dict"] = min(best.get("dict", float("inf")), before)
            for contender, cmd in contenders.items():
                elapsed, _, out = run(cmd)
                after, _, _ = run(dict_cmd)
                best["dict"] = min(best["dict"], after)
                best[contender] = min(best.get(contender, float("inf")), elapsed)
                ratios[contender].append(elapsed / ((before + after) / 2))
                before = after
                if contender == "adaptive":
                    result = json.loads(out)["result"]
                    notes[contender] = (
                        f"final {result['final_backend']}, "
                        f"{result['migrations_triggered']} migrations"
                    )
        print(f"{name:20} {'dict':17} {best['dict']:7.2f} {1.0:9.2f}")
        for contender, paired in ratios.items():
            median = statistics.median(paired)
            kind = "metrics" if contender.endswith("+metrics") else "plain"
            worst[kind] = max(worst[kind], median)
            rounds = " ".join(f"{r:.2f}" for r in paired)
            print(
                f"{name:20} {contender:17} {best[contender]:7.2f} {median:9.2f} "
                f"{rounds:>22}  best/best {best[contender] / best['dict']:.2f} "
                f"{notes.get(contender, '')}"
            )
    print(f"worst median ratio: {worst['plain']:.2f} (target 2.5)", end="")
    if args.with_metrics:
        print(f"; with metrics on: {worst['metrics']:.2f} (target 2.8)")
    else:
        print()

    if args.memory:
        long_ops = str(args.ops * 10)
        long_file = work / f"uniform-{long_ops}.csv"
        generate(
            long_file, "--ops", long_ops, "--read-ratio", "0.8", "--key-space", space, "--seed", "1"
        )
        print("\npeak RSS (KiB), same key space:")
        for backend in args.backends:
            _, short_rss, _ = run(engine_cmd(backend, files["uniform"]))
            _, long_rss, _ = run(engine_cmd(backend, long_file))
            print(
                f"{backend:10} {args.ops:>10,} ops {short_rss:>9}  "
                f"{args.ops * 10:>11,} ops {long_rss:>9}  growth {long_rss / short_rss - 1:+.1%}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
