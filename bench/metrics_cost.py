"""What metrics on add to one replay, paired, optionally against other checkouts.

    python bench/metrics_cost.py CSV [--rounds 12] [--backend adaptive] [--against PATH ...]
                                     [--split]

For each round and tree (the trees' order alternating round by round), runs ``engine
run-csv --csv CSV`` plain, then with ``--metrics-out-dir D --metrics-port 0``, then
plain again, each in a fresh process as the console script runs it, and takes the
metrics-on run's time minus the mean of the two plain runs around it: a difference
that the machine's changing speed touches much less than a ratio of best times. Prints
per tree the medians of the plain and metrics-on wall times, of the paired extra wall
time and of the paired extra CPU time of the replay process itself (its own
``getrusage``, so an endpoint process's CPU is not counted there). ``--split`` also
runs ``--metrics-out-dir`` alone after the metrics-on run, and prints how much of the
extra is the ticks and their file, and how much ``--metrics-port`` adds on top.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: The console script's body, then the process's own CPU time on stderr.
SCRIPT = r"""
import resource, sys
from engine.cli import main
code = main(sys.argv[1:])
usage = resource.getrusage(resource.RUSAGE_SELF)
print("cpu", usage.ru_utime + usage.ru_stime, file=sys.stderr)
raise SystemExit(code)
"""


def _run(tree: Path, args: list[str]) -> tuple[float, float]:
    """Wall and own CPU seconds of ``engine ARGS`` run from ``tree``."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("ADHASH_")}
    env["PYTHONPATH"] = str(tree)
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, *args],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"engine {' '.join(args)} in {tree} failed: {proc.stderr[-400:]}")
    cpu = float(proc.stderr.rsplit("cpu ", 1)[1].split()[0])
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("csv", help="the workload (for example bench/replay.py's uniform file)")
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--backend", default="adaptive")
    parser.add_argument("--against", action="append", default=[], help="another checkout")
    parser.add_argument("--split", action="store_true", help="also time --metrics-out-dir alone")
    args = parser.parse_args()
    trees = [ROOT, *(Path(p).resolve() for p in args.against)]
    for tree in trees:  # byte code, so that no run pays for compiling the engine
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(tree / "engine")], check=True)
    csv = str(Path(args.csv).resolve())
    plain = ["--backend", args.backend, "--json", "run-csv", "--csv", csv]
    results: dict[Path, dict[str, list[float]]] = {
        tree: {"plain": [], "on": [], "wall": [], "cpu": [], "ticks": [], "port": []}
        for tree in trees
    }
    with tempfile.TemporaryDirectory() as out:
        ticks = [*plain, "--metrics-out-dir", out]
        on = [*ticks, "--metrics-port", "0"]
        for number in range(args.rounds):
            for tree in trees if number % 2 == 0 else trees[::-1]:
                before, before_cpu = _run(tree, plain)
                metrics, metrics_cpu = _run(tree, on)
                row = results[tree]
                if args.split:
                    file_only, _ = _run(tree, ticks)
                    row["ticks"].append(file_only - before)
                    row["port"].append(metrics - file_only)
                after, after_cpu = _run(tree, plain)
                row["plain"].append((before + after) / 2)
                row["on"].append(metrics)
                row["wall"].append(metrics - (before + after) / 2)
                row["cpu"].append(metrics_cpu - (before_cpu + after_cpu) / 2)
    median = statistics.median
    print(f"{Path(csv).name}, {args.backend}, {args.rounds} rounds; medians")
    print(f"{'tree':<28} {'plain s':>8} {'metrics s':>10} {'extra ms':>9} {'extra CPU ms':>13}")
    for tree, row in results.items():
        name = str(tree) if len(str(tree)) <= 28 else "…" + str(tree)[-27:]
        print(
            f"{name:<28} {median(row['plain']):>8.3f} {median(row['on']):>10.3f} "
            f"{median(row['wall']) * 1000:>9.0f} {median(row['cpu']) * 1000:>13.0f}"
        )
        if args.split:
            print(
                f"{'':<28} of which --metrics-out-dir alone {median(row['ticks']) * 1000:.0f} ms,"
                f" --metrics-port on top {median(row['port']) * 1000:.0f} ms"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
