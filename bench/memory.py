"""Peak memory of a whole ``engine run-csv`` per backend against a bare-dict replay.

    python bench/memory.py [--live 100000 1000000] [--repeat 1] [--against PATH ...]

For each target number of live keys N the bench generates (once, deterministically, into
``bench/.data``) a uniform workload of ``10 N`` rows over ``2 N`` keys (80% get, writes
80% put and 20% delete): it ends with about N live keys and reaches them through every
resize of a growing table. Each contender replays it in a fresh process and reports its
peak resident set (``VmHWM``):

* the interpreter's floor, ``python -c pass`` (what any Python process costs);
* a bare ``dict`` replay of the file with :func:`csv.reader`, the baseline;
* ``python -m engine.cli --backend B run-csv --csv F`` for chaining, Robin Hood and the
  adaptive map (default settings: latency sampling on, no metrics).

The headline ratio is each contender's peak *above the floor* over the dict replay's
peak above the floor, all measured in the same run (machines are noisy; memory much less
so than time, but the floor moves with the environment). Peak RSS includes every resize:
the moment a table holds its old and new arrays together. With ``--against PATH`` (an
exported copy of another commit, e.g. ``git archive main | tar -x -C /tmp/before``) the
engine contenders also run from that tree, so before and after share one run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ("chaining", "robinhood", "adaptive")

# The peak is read from /proc/self/status (VmHWM), not ru_maxrss: on Linux ru_maxrss
# survives exec, so a child would report at least the forking parent's size.
PEAK = r"""
def _peak_kib():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
"""

FLOOR = (
    PEAK
    + r"""
import sys
print(_peak_kib(), file=sys.stderr)
"""
)

DICT_REPLAY = (
    PEAK
    + r"""
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
print(len(d), file=sys.stdout)
print(_peak_kib(), file=sys.stderr)
"""
)

ENGINE_REPLAY = (
    PEAK
    + r"""
import sys
from engine.cli import main
code = main(sys.argv[1:])
print(_peak_kib(), file=sys.stderr)
raise SystemExit(code)
"""
)


def peak(cmd: list[str], tree: Path = ROOT) -> tuple[int, str]:
    """Peak RSS (KiB) and stdout of one process run in ``tree`` (``python -c`` puts the
    working folder first on the path), with ``tree`` on ``PYTHONPATH`` too."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False, cwd=str(tree))
    if proc.returncode != 0:
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr}")
    return int(proc.stderr.strip().splitlines()[-1]), proc.stdout


def workload(work: Path, live: int) -> Path:
    """The file for about ``live`` live keys: 10x rows over 2x keys (generated once)."""
    path = work / f"memory-uniform-{live}.csv"
    if not path.exists():
        flags = ["--ops", str(10 * live), "--key-space", str(2 * live), "--read-ratio", "0.8"]
        subprocess.run(
            [
                sys.executable,
                "-m",
                "engine.cli",
                "generate-csv",
                "--outfile",
                str(path),
                *flags,
                "--seed",
                "1",
            ],
            check=True,
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
            stdout=subprocess.DEVNULL,
        )
    return path


def engine_cmd(backend: str, path: Path) -> list[str]:
    return [
        sys.executable,
        "-c",
        ENGINE_REPLAY,
        "--backend",
        backend,
        "--json",
        "run-csv",
        "--csv",
        str(path),
        "--csv-max-rows",
        "0",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--live", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=1, help="rounds; the median counts")
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=BACKENDS)
    parser.add_argument("--against", type=Path, nargs="*", default=[], help="other trees")
    parser.add_argument("--workdir", default=str(ROOT / "bench" / ".data"))
    args = parser.parse_args(argv)

    work = Path(args.workdir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    trees = [("", ROOT)] + [(f" ({tree.name})", tree.resolve()) for tree in args.against]
    for _, tree in trees:
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(tree / "engine")], check=True)
    print(
        "peak RSS (KiB) of a whole replay; 'x dict' = (peak - floor) / (dict peak - floor), "
        f"median of {args.repeat} round(s)"
    )
    print(f"{'live keys':>10} {'contender':24} {'peak KiB':>9} {'above floor':>12} {'x dict':>7}")
    for live in args.live:
        path = workload(work, live)
        samples: dict[str, list[int]] = {}
        keys = 0
        for _ in range(args.repeat):
            samples.setdefault("floor", []).append(peak([sys.executable, "-c", FLOOR])[0])
            rss, out = peak([sys.executable, "-c", DICT_REPLAY, str(path)])
            samples.setdefault("dict", []).append(rss)
            keys = int(out.strip())
            for label, tree in trees:
                for backend in args.backends:
                    rss, _ = peak(engine_cmd(backend, path), tree)
                    samples.setdefault(backend + label, []).append(rss)
        median = {name: int(statistics.median(values)) for name, values in samples.items()}
        floor = median.pop("floor")
        base = median["dict"] - floor
        print(f"{keys:>10,} {'interpreter floor':24} {floor:>9,} {'':>12} {'':>7}")
        for name, rss in median.items():
            ratio = (rss - floor) / base
            print(f"{keys:>10,} {name:24} {rss:>9,} {rss - floor:>12,} {ratio:>7.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
