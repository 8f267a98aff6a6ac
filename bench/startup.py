"""Start-up cost of a short ``engine run-csv``, optionally against other checkouts.

    python bench/startup.py [--rows 10] [--repeat 40] [--against PATH ...]

Times the whole process ``python -m engine.cli --backend B run-csv --csv F`` on a tiny
workload (default 10 rows) for each backend, next to the interpreter's own floor
(``python -c pass``) measured in the same rounds. With ``--against PATH`` (for example a
``git worktree`` of an earlier commit) the same command runs from that tree too, the runs
interleaved round by round so that the machine's changing speed touches every tree alike.
Every tree's ``engine`` is byte-compiled first (the environment may forbid writing byte
code, and compiling a changed module at each start would dominate the difference).

Prints, per tree and backend, the median wall time, the median above the floor, the ratio
of that to the first tree's, and how many modules the process had imported (a count that
does not depend on the machine's speed).
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
BACKENDS = ("chaining", "robinhood", "adaptive")

COUNT_MODULES = r"""
import sys
from engine.cli import main
code = main(sys.argv[1:])
import engine
print(len(sys.modules), engine.__file__, file=sys.stderr)
raise SystemExit(code)
"""


def _write_workload(path: Path, rows: int) -> None:
    lines = ["op,key,value"]
    for i in range(rows):
        lines.append(f"put,k{i},{i}" if i % 2 == 0 else f"get,k{i - 1},")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _time(cmd: list[str], cwd: Path) -> float:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{cmd} in {cwd} failed: {proc.stderr.decode()[-400:]}")
    return elapsed


def _modules(tree: Path, backend: str, csv: Path) -> tuple[int, str]:
    cmd = [sys.executable, "-c", COUNT_MODULES, "--backend", backend, "run-csv", "--csv", str(csv)]
    proc = subprocess.run(cmd, cwd=tree, capture_output=True, text=True, check=True)
    count, origin = proc.stderr.strip().splitlines()[-1].split(" ", 1)
    return int(count), origin


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=40, help="rounds (default 40)")
    parser.add_argument("--against", action="append", default=[], help="another checkout")
    args = parser.parse_args()
    trees = [ROOT, *(Path(p).resolve() for p in args.against)]
    for tree in trees:  # byte-code for every tree, so no run pays for compiling
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(tree / "engine")], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "tiny.csv"
        _write_workload(csv, args.rows)
        for tree in trees:
            count, origin = _modules(tree, "adaptive", csv)
            if not origin.startswith(str(tree)):
                raise SystemExit(f"{tree}: the engine was imported from {origin}")
        floor: list[float] = []
        times: dict[tuple[Path, str], list[float]] = {(t, b): [] for t in trees for b in BACKENDS}
        for _ in range(args.repeat):
            floor.append(_time([sys.executable, "-c", "pass"], ROOT))
            for backend in BACKENDS:
                for tree in trees:
                    cmd = [sys.executable, "-m", "engine.cli", "--backend", backend]
                    times[tree, backend].append(_time([*cmd, "run-csv", "--csv", str(csv)], tree))
        base_floor = statistics.median(floor)
        print(f"interpreter floor (python -c pass): {base_floor * 1000:.1f} ms median")
        print(f"{'tree':<32} {'backend':<10} {'median ms':>10} {'above floor':>12} "
              f"{'ratio':>6} {'modules':>8}")
        for backend in BACKENDS:
            first = statistics.median(times[trees[0], backend]) - base_floor
            for tree in trees:
                med = statistics.median(times[tree, backend])
                above = med - base_floor
                count, _ = _modules(tree, backend, csv)
                name = str(tree) if len(str(tree)) <= 32 else "…" + str(tree)[-31:]
                print(f"{name:<32} {backend:<10} {med * 1000:>10.1f} {above * 1000:>12.1f} "
                      f"{above / first:>6.2f} {count:>8}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
