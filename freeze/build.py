"""Build the binary once per source state: ``.cache/binary/<digest>/``.

``ensure_binary()`` returns the folder holding ``explorer`` and ``engine``, building it
with ``pyinstaller.spec`` only when no finished build of the same sources exists. The
digest covers everything the build reads: the spec, these helpers, the lock file and
pyproject.toml, the engine and explorer packages, resources/, the guide, the
interpreter's version and the machine. The smoke test (tests/test_binary.py) and the
bench (bench/binary.py) share the cache, so a clean CI run builds once.

    python -m freeze.build            # build or reuse; print the folder
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

__all__ = ["APP_NAME", "ROOT", "ensure_binary", "source_digest"]

ROOT = Path(__file__).resolve().parent.parent
APP_NAME = "adaptive-hash-map-explorer"
CACHE = ROOT / ".cache" / "binary"
_INPUTS = (
    "pyinstaller.spec",
    "pyproject.toml",
    "uv.lock",
    "freeze",
    "engine",
    "explorer",
    "resources",
    "docs/explorer.md",
)
_SKIP_PARTS = {"__pycache__", ".mypy_cache", ".ruff_cache"}


def _files() -> Iterator[Path]:
    for name in _INPUTS:
        path = ROOT / name
        if path.is_file():
            yield path
        elif path.is_dir():
            for child in sorted(path.rglob("*")):
                skipped = _SKIP_PARTS & set(child.parts) or child.suffix in {".pyc", ".pyo"}
                if child.is_file() and not skipped:
                    yield child


def source_digest() -> str:
    """A hash of every input of the build (16 hex digits)."""
    digest = hashlib.sha256()
    digest.update(f"{sys.version}|{platform.machine()}|{sys.platform}".encode())
    for path in _files():
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


@contextlib.contextmanager
def _locked() -> Iterator[None]:
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _lower_priority() -> None:  # the build shares the machine with the tests' other work
    with contextlib.suppress(OSError):
        os.nice(10)


def ensure_binary(*, quiet: bool = True) -> Path:
    """The folder of a finished build of the current sources, built if needed. Raises
    ``RuntimeError`` with the end of PyInstaller's log when the build fails."""
    digest = source_digest()
    home = CACHE / digest
    folder = home / APP_NAME
    with _locked():
        if (home / "complete").is_file() and (folder / "explorer").is_file():
            return folder
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        log = home / "build.log"
        command = [
            sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
            "--distpath", str(home), "--workpath", str(home / "work"),
            str(ROOT / "pyinstaller.spec"),
        ]  # fmt: skip
        with log.open("w") as out:
            done = subprocess.run(
                command,
                cwd=ROOT,
                stdout=out if quiet else None,
                stderr=subprocess.STDOUT if quiet else None,
                preexec_fn=_lower_priority,
                timeout=1800,
                check=False,
            )
        if done.returncode != 0:
            tail = log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"the PyInstaller build failed ({done.returncode}):\n{tail}")
        shutil.rmtree(home / "work", ignore_errors=True)
        (home / "complete").write_text(digest + "\n")
        for other in CACHE.iterdir():  # keep only the newest build
            if other.is_dir() and other != home:
                shutil.rmtree(other, ignore_errors=True)
    return folder


if __name__ == "__main__":
    print(ensure_binary(quiet=False))
