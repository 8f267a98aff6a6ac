"""Start-up cost of a short ``engine run-csv``, optionally against other checkouts.

    python bench/startup.py [--rows 10] [--repeat 40] [--against PATH ...] [--no-bytecode]
                            [--instructions]

Times whole processes on a tiny workload (default 10 rows), next to the interpreter's own
floor (``python -c pass``) measured in the same rounds:

- ``engine run-csv --csv F --backend B`` for each backend, run as the installed console
  script runs it (``from engine.cli import main; sys.exit(main())``, the body of the
  script that ``uv sync`` writes into ``.venv/bin/engine``);
- the adaptive backend with ``--json-summary-out``, with ``--metrics-out-dir`` and with
  ``--metrics-port 0`` (a port bound and an endpoint process started; the replay does
  not wait for that process, which exits when the replay's pipe to it closes);
- ``.venv/bin/engine`` itself, when it is installed from the first tree.

With ``--against PATH`` (for example a ``git worktree`` of an earlier commit) every
command runs from that tree too, the runs interleaved round by round so that the
machine's changing speed touches every tree alike.

By default every tree's ``engine`` is byte-compiled first: the environment may forbid
writing byte code (``PYTHONDONTWRITEBYTECODE``), and compiling the modules at each start
would otherwise dominate. ``--no-bytecode`` measures that case instead, as a user of
such an environment runs a fresh checkout: each tree's ``engine`` is copied without byte
code to a temporary folder and run from there with ``PYTHONDONTWRITEBYTECODE=1``, so that
every start compiles the engine's modules it imports. Whether the installed packages
(site-packages) have byte code is printed, since the metrics endpoint imports many.

Prints, per tree and command, the median wall time, its ratio to the floor, the median
above the floor, the ratio of that to the first tree's, and how many modules the process
had imported (a count that does not depend on the machine's speed). ``--instructions``
adds the instructions each process executed, counted once by valgrind (cachegrind
without its cache simulation), which a busy machine does not change.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ("chaining", "robinhood", "adaptive")

#: What the console script runs (``[project.scripts] engine = "engine.cli:main"``).
SCRIPT = "import sys\nfrom engine.cli import main\nsys.exit(main())\n"

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


def _commands(csv: Path, out: Path) -> dict[str, list[str]]:
    """Label -> the arguments after ``engine``."""
    run = ["run-csv", "--csv", str(csv)]
    commands = {backend: [*run, "--backend", backend] for backend in BACKENDS}
    adaptive = [*run, "--backend", "adaptive"]
    commands["+json-summary-out"] = [*adaptive, "--json-summary-out", str(out / "summary.json")]
    commands["+metrics-out-dir"] = [*adaptive, "--metrics-out-dir", str(out / "metrics")]
    commands["+metrics-port 0"] = [*adaptive, "--metrics-port", "0"]
    return commands


def _environment(no_bytecode: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and k != "PYTHONPYCACHEPREFIX"}
    env = {k: v for k, v in env.items() if not k.upper().startswith("ADHASH_")}
    if no_bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _time(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{cmd} in {cwd} failed: {proc.stderr.decode()[-400:]}")
    return elapsed


def _modules(tree: Path, args: list[str], env: dict[str, str]) -> tuple[int, str]:
    cmd = [sys.executable, "-c", COUNT_MODULES, *args]
    proc = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True, check=True)
    count, origin = proc.stderr.strip().splitlines()[-1].split(" ", 1)
    return int(count), origin


def _instructions(cmd: list[str], cwd: Path, env: dict[str, str], log: Path) -> int:
    """Instructions executed by ``cmd``, counted by valgrind's cachegrind."""
    valgrind = [
        "valgrind", "--tool=cachegrind", "--cache-sim=no",
        "--cachegrind-out-file=/dev/null", f"--log-file={log}",
    ]
    subprocess.run([*valgrind, *cmd], cwd=cwd, env=env, capture_output=True, check=True)
    for line in log.read_text().splitlines():
        if "I" in line and "refs:" in line:
            return int(line.rsplit(":", 1)[1].strip().replace(",", ""))
    raise SystemExit(f"no instruction count from valgrind for {cmd}")


def _installed_script(tree: Path) -> Path | None:
    """``.venv/bin/engine`` when it imports the engine of ``tree`` (an editable install)."""
    script = Path(sys.executable).with_name("engine")
    if not script.exists():
        return None
    spec = importlib.util.find_spec("engine")
    origin = Path(spec.origin).resolve() if spec is not None and spec.origin else None
    return script if origin is not None and origin.is_relative_to(tree) else None


def _site_packages_compiled() -> str:
    """How many of the metrics endpoint's packages have byte code beside them."""
    names = ("uvicorn", "prometheus_client", "h11", "pydantic")
    found = 0
    for name in names:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin:
            cached = importlib.util.cache_from_source(spec.origin)
            found += os.path.exists(cached)
    return f"{found} of {len(names)} ({', '.join(names)})"


def _label(tree: Path) -> str:
    name = str(tree)
    return name if len(name) <= 28 else "…" + name[-27:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=40, help="rounds (default 40)")
    parser.add_argument("--against", action="append", default=[], help="another checkout")
    parser.add_argument(
        "--no-bytecode",
        action="store_true",
        help="run each tree's engine from a copy without byte code (compiled at every start)",
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count each command's instructions once with valgrind",
    )
    args = parser.parse_args()
    if args.instructions and shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind (apt-get install valgrind)")
    trees = [ROOT, *(Path(p).resolve() for p in args.against)]
    env = _environment(args.no_bytecode)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        csv = tmp / "tiny.csv"
        _write_workload(csv, args.rows)
        run_dirs: dict[Path, Path] = {}
        for i, tree in enumerate(trees):
            if args.no_bytecode:  # a copy of the sources alone
                run_dirs[tree] = tmp / f"tree{i}"
                shutil.copytree(
                    tree / "engine",
                    run_dirs[tree] / "engine",
                    ignore=shutil.ignore_patterns("__pycache__"),
                )
            else:  # byte code for every tree, so no run pays for compiling the engine
                run_dirs[tree] = tree
                subprocess.run(
                    [sys.executable, "-m", "compileall", "-q", str(tree / "engine")], check=True
                )
        commands = _commands(csv, tmp)
        for tree in trees:
            _, origin = _modules(run_dirs[tree], commands["adaptive"], env)
            if not origin.startswith(str(run_dirs[tree])):
                raise SystemExit(f"{tree}: the engine was imported from {origin}")
        script = None if args.no_bytecode else _installed_script(ROOT)
        rows: list[tuple[Path, str, list[str], list[str]]] = []  # tree, label, argv, engine args
        for label, engine_args in commands.items():
            for tree in trees:
                cmd = [sys.executable, "-c", SCRIPT, *engine_args]
                rows.append((tree, label, cmd, engine_args))
            if script is not None and label in BACKENDS:
                cmd = [str(script), *engine_args]
                rows.append((ROOT, f"{label} (.venv/bin/engine)", cmd, []))
        floor: list[float] = []
        times: list[list[float]] = [[] for _ in rows]
        for _ in range(args.repeat):
            floor.append(_time([sys.executable, "-c", "pass"], ROOT, env))
            for i, (tree, _, cmd, _) in enumerate(rows):
                times[i].append(_time(cmd, run_dirs[tree], env))
        counts: list[int | None] = [None for _ in rows]
        floor_ir = None
        if args.instructions:
            log = tmp / "valgrind.log"
            floor_ir = _instructions([sys.executable, "-c", "pass"], ROOT, env, log)
            for i, (tree, _, cmd, _) in enumerate(rows):
                counts[i] = _instructions(cmd, run_dirs[tree], env, log)
        base_floor = statistics.median(floor)
        mode = "no byte code for the engine" if args.no_bytecode else "engine byte-compiled"
        print(f"{args.rows}-row run-csv, {args.repeat} rounds, {mode}; "
              f"site-packages with byte code: {_site_packages_compiled()}")
        print(f"interpreter floor (python -c pass): {base_floor * 1000:.1f} ms median"
              + (f", {floor_ir / 1e6:.1f} M instructions" if floor_ir else ""))
        print(f"{'tree':<28} {'command':<28} {'median ms':>9} {'x floor':>8} "
              f"{'above floor':>11} {'ratio':>6} {'modules':>8}"
              + (f" {'M instr':>8} {'x floor':>8}" if floor_ir else ""))
        first: dict[str, float] = {}
        for i, (tree, label, _cmd, engine_args) in enumerate(rows):
            med = statistics.median(times[i])
            above = med - base_floor
            first.setdefault(label, above)
            count = _modules(run_dirs[tree], engine_args, env)[0] if engine_args else None
            ir = counts[i]
            print(f"{_label(tree):<28} {label:<28} {med * 1000:>9.1f} {med / base_floor:>8.2f} "
                  f"{above * 1000:>11.1f} {above / first[label]:>6.2f} "
                  f"{'' if count is None else count:>8}"
                  + (f" {ir / 1e6:>8.1f} {ir / floor_ir:>8.2f}" if ir and floor_ir else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
