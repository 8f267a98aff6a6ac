"""Size and start-up times of the PyInstaller binary, against the source programs.

    python bench/binary.py [--repeat 7] [--cold 3] [--folder DIR]

Uses the binary in DIR, else builds or reuses the one for the current sources
(``freeze.build.ensure_binary``, cached in ``.cache/binary/``). Prints the folder's size,
then for each program the median wall time of ``--repeat`` warm runs and of ``--cold``
cold runs, the binary's and the source's measured in the same rounds, interleaved:

- ``engine --version`` (source: ``python -m engine.cli --version``);
- ``explorer --demo robinhood-basics --screenshot out.png`` offscreen, the whole process:
  start, first window, render, save, exit (source: ``python -m explorer ...``).

A cold run first drops the page cache of the files that side reads (``posix_fadvise``
DONTNEED on every file of the binary's folder, or of the environment's site-packages, the
interpreter's standard library and the project's packages for the source), so they come
from the disk again; shared system libraries (libc, libGL, fontconfig) stay cached.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from freeze.build import ensure_binary  # noqa: E402

DEMO = ["--demo", "robinhood-basics", "--screenshot"]


def folder_size(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()]
    return sum(p.stat().st_size for p in files), len(files)


def _drop_cache(roots: Iterable[Path]) -> None:
    for root in roots:
        paths = [root] if root.is_file() else root.rglob("*")
        for path in paths:
            if path.is_file() and not path.is_symlink():
                try:
                    fd = os.open(path, os.O_RDONLY)
                except OSError:
                    continue
                try:
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                finally:
                    os.close(fd)


def _time(command: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{command} failed ({done.returncode}): {done.stderr.decode()[-600:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="warm runs of each (median)")
    parser.add_argument("--cold", type=int, default=3, help="cold runs of each (median)")
    parser.add_argument("--folder", type=Path, help="the binary's folder (default: build)")
    args = parser.parse_args()
    folder = args.folder or ensure_binary()
    size, count = folder_size(folder)
    print(f"binary folder: {folder}")
    print(f"size: {size / 1e6:.1f} MB ({size / 2**20:.1f} MiB) in {count:,} files")

    work = Path(tempfile.mkdtemp(prefix="bench-binary-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADHASH_")}
    env.pop("PYTHONPATH", None)
    env["QT_QPA_PLATFORM"] = "offscreen"
    source_env = dict(env, PYTHONPATH=str(ROOT))
    python = sys.executable
    source_roots = [
        Path(sysconfig.get_paths()["purelib"]),
        Path(sysconfig.get_paths()["stdlib"]),
        ROOT / "engine",
        ROOT / "explorer",
        ROOT / "resources",
    ]
    libpython = sysconfig.get_config_var("LIBDIR")
    if libpython:
        source_roots.append(Path(libpython) / str(sysconfig.get_config_var("LDLIBRARY")))
    cases = {
        "engine --version": (
            [str(folder / "engine"), "--version"],
            [python, "-m", "engine.cli", "--version"],
        ),
        "explorer --demo robinhood-basics --screenshot": (
            [str(folder / "explorer"), *DEMO, str(work / "frozen.png")],
            [python, "-m", "explorer", *DEMO, str(work / "source.png")],
        ),
    }
    print(f"\n{'command':48} {'runs':>9} {'binary s':>9} {'source s':>9} {'ratio':>6}")
    for name, (frozen, source) in cases.items():
        _time(frozen, env, work)  # one untimed run each: byte-code caches, first fonts
        _time(source, source_env, work)
        for label, runs, cold in (("warm", args.repeat, False), ("cold", args.cold, True)):
            if runs <= 0:
                continue
            binary_times, source_times = [], []
            for _ in range(runs):
                if cold:
                    _drop_cache([folder])
                binary_times.append(_time(frozen, env, work))
                if cold:
                    _drop_cache(source_roots)
                source_times.append(_time(source, source_env, work))
            b, s = statistics.median(binary_times), statistics.median(source_times)
            print(f"{name:48} {label + ' x' + str(runs):>9} {b:9.3f} {s:9.3f} {b / s:6.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
