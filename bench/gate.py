"""Performance regression gate: instruction counts of small canonical replays.

    python bench/gate.py                              # check (exit 1 past the tolerance)
    python bench/gate.py --update --reason "why"      # measure and write a new baseline

Wall-clock times on these shared machines wander by 20-50% from one minute to the next,
so the gate counts instructions instead, with valgrind (``--tool=cachegrind
--cache-sim=no``), which repeat to well under 1%. For each backend and canonical
workload it counts ``python -m engine.cli --backend B run-csv`` on the workload and on a
10-row one; the difference is the cost of the rows themselves (interpreter start-up,
imports and byte-compiling cancel out). A count more than ``--tolerance`` (10%) above
the baseline fails; one more than 10% below is reported, so the baseline can be lowered
on purpose. The baseline records the interpreter and valgrind it was measured with; on
another interpreter build the counts are not comparable and the gate says so and stops
(exit 3) rather than compare them.

The baseline (``bench/gate_baseline.json``) is changed only by ``--update``, in a commit
of its own whose message gives the reason (it is also stored in the file).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = Path(__file__).with_name("gate_baseline.json")
BACKENDS = ("robinhood", "chaining", "adaptive")
ROWS = 20_000
TOLERANCE = 0.10

__all__ = ["Verdict", "compare", "count_instructions", "main", "workloads"]


def workloads(directory: Path, rows: int = ROWS) -> dict[str, Path]:
    """The canonical workloads, written deterministically: ``uniform`` (puts and gets over
    4,000 keys, 10% deletes) and ``skewed`` (most operations on a few hot keys, a growing
    key space, 20% deletes). Plus ``tiny``, the 10 rows subtracted from each count."""
    rng = random.Random(20261207)
    shapes = {
        "uniform": lambda i: f"u{rng.randrange(4000)}",
        "skewed": lambda i: (
            f"h{rng.randrange(40)}" if rng.random() < 0.7 else f"s{rng.randrange(i + 1)}"
        ),
    }
    paths: dict[str, Path] = {}
    for name, key_of in shapes.items():
        deletes = 0.1 if name == "uniform" else 0.2
        paths[name] = _write(directory / f"{name}.csv", rows, key_of, rng, deletes)
    paths["tiny"] = _write(directory / "tiny.csv", 10, lambda i: f"t{i}", rng, 0.0)
    return paths


def _write(path: Path, rows: int, key_of, rng: random.Random, deletes: float) -> Path:  # type: ignore[no-untyped-def]
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["op", "key", "value"])
        for i in range(rows):
            key = key_of(i)
            roll = rng.random()
            if roll < 0.45:
                out.writerow(["put", key, str(i)])
            elif roll < 1.0 - deletes:
                out.writerow(["get", key, ""])
            else:
                out.writerow(["del", key, ""])
    return path


_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def count_instructions(backend: str, workload: Path) -> int:
    """Instructions executed by one ``engine run-csv`` of ``workload`` under valgrind."""
    env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(ROOT)}
    command = [
        "valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
        sys.executable, "-m", "engine.cli", "--backend", backend, "run-csv",
        "--csv", str(workload),
    ]
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT,
                          check=False)
    match = _REFS.search(done.stderr)
    if done.returncode != 0 or match is None:
        raise RuntimeError(f"valgrind run failed ({done.returncode}): {done.stderr[-800:]}")
    return int(match.group(1).replace(",", ""))


def byte_compile() -> None:
    """Compile the engine and the installed packages once: this environment may set
    PYTHONDONTWRITEBYTECODE, and compiling at every start would swamp the counts."""
    import compileall
    import sysconfig

    for tree in (ROOT / "engine", Path(sysconfig.get_paths()["purelib"])):
        compileall.compile_dir(tree, quiet=2, workers=2)


def measure(rows: int = ROWS, jobs: int = 2) -> dict[str, int]:
    """``backend/workload`` -> instructions of its rows (the workload's count minus the
    10-row workload's)."""
    byte_compile()
    with tempfile.TemporaryDirectory(prefix="gate-") as tmp:
        paths = workloads(Path(tmp), rows)
        runs = [(b, w) for b in BACKENDS for w in paths]
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            found = pool.map(lambda run: count_instructions(run[0], paths[run[1]]), runs)
            counts = dict(zip(runs, found, strict=True))
    return {
        f"{b}/{w}": counts[(b, w)] - counts[(b, "tiny")]
        for b in BACKENDS for w in paths if w != "tiny"
    }


class Verdict:
    """The comparison of counts with a baseline: ``failed`` when any is past the
    tolerance above it; ``lines`` say each one's ratio."""

    def __init__(self) -> None:
        self.failed = False
        self.lower: list[str] = []
        self.lines: list[str] = []


def compare(
    counts: Mapping[str, int], baseline: Mapping[str, int], tolerance: float = TOLERANCE
) -> Verdict:
    verdict = Verdict()
    for name in sorted(baseline):
        base = baseline[name]
        if name not in counts:
            verdict.failed = True
            verdict.lines.append(f"{name:22} missing from this measurement")
            continue
        ratio = counts[name] / base
        mark = "ok"
        if ratio > 1 + tolerance:
            mark, verdict.failed = f"REGRESSION (> +{tolerance:.0%})", True
        elif ratio < 1 - tolerance:
            mark = "faster: lower the baseline on purpose (--update)"
            verdict.lower.append(name)
        verdict.lines.append(
            f"{name:22} {counts[name]:>14,} vs {base:>14,}  x{ratio:.3f}  {mark}"
        )
    return verdict


def interpreter() -> str:
    """Which interpreter build counted: counts from another build do not compare."""
    build = platform.python_build()[1]
    return (f"{platform.python_implementation()} {platform.python_version()} "
            f"({build}, {platform.python_compiler()})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="write a new baseline")
    parser.add_argument("--reason", default="", help="why the baseline changes (--update)")
    parser.add_argument("--baseline", type=Path, default=BASELINE)
    parser.add_argument("--tolerance", type=float, default=TOLERANCE)
    parser.add_argument("--rows", type=int, default=ROWS)
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (Debian: apt-get install valgrind)", file=sys.stderr)
        return 4
    if args.update and not args.reason:
        parser.error("--update needs --reason: the baseline changes on purpose")
    start = time.perf_counter()
    counts = measure(args.rows)
    took = time.perf_counter() - start
    if args.update:
        record = {
            "interpreter": interpreter(),
            "valgrind": subprocess.run(["valgrind", "--version"], capture_output=True,
                                       text=True, check=False).stdout.strip(),
            "rows": args.rows,
            "reason": args.reason,
            "measured": time.strftime("%Y-%m-%d", time.gmtime()),
            "counts": counts,
        }
        args.baseline.write_text(json.dumps(record, indent=2) + "\n")
        for name, value in counts.items():
            print(f"{name:22} {value:>14,}")
        print(f"baseline written to {args.baseline} ({took:.0f} s): commit it on its own")
        return 0
    record = json.loads(args.baseline.read_text())
    if record["interpreter"] != interpreter() or record["rows"] != args.rows:
        print(f"the baseline was measured on {record['interpreter']} with {record['rows']} "
              f"rows; this is {interpreter()} with {args.rows}: counts are not comparable "
              "(measure a baseline for this interpreter with --update)", file=sys.stderr)
        return 3
    verdict = compare(counts, record["counts"], args.tolerance)
    print(f"instructions per canonical replay ({args.rows:,} rows), against the baseline "
          f"of {record['measured']} ({record['reason']}); {took:.0f} s")
    print("\n".join(verdict.lines))
    return 1 if verdict.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
