"""The compiled build's check: build it, test it, and diff its outputs with the pure build's.

Run by tests/run.sh after the pure test suite (``python tests/compiled_check.py``); not a
pytest module. Steps:

1. Build the compiled variant (``AHME_COMPILE=1``, docs/performance.md) into its own
   venv, ``.cache/compiled/venv``: the locked dependencies, then the project itself, not
   editable. It is rebuilt only when a file of the package, the build or the lock has
   changed since the last build (a hash of them is kept beside it).
2. Check that ``engine.build`` says every hot module is compiled there, that the installed
   sources are this tree's, and that the development venv says ``pure``.
3. Run the test suite in that venv from a copy of ``tests/`` (and the files tests read)
   with no ``engine/`` beside it, so every import, subprocesses' too, finds the compiled
   package. Left out: the tests of the source tree and of other builds (below, with
   reasons). Exit status 5 (no test ran) fails the check like any failure.
4. Run a fixed list of ``engine`` commands under both builds, each in a fresh folder of
   its own, and compare the outputs byte for byte: stdout, stderr, exit status, and every
   file the commands wrote (CSV workloads, snapshots). Only timings are normalised, in
   JSON output alone: the values of the keys in ``TIMING_KEYS``, replaced by ``"<time>"``.
   No paths need normalising: the commands are given relative paths and both builds run
   in folders of the same name under separate parents.

Options: ``--skip-tests`` (steps 1, 2 and 4 only), ``--rebuild`` (ignore the cached build);
any other arguments go to pytest.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "compiled"
VENV = CACHE / "venv"
COMPILED_PY = VENV / "bin" / "python"
PURE_PY = ROOT / ".venv" / "bin" / "python"

#: What the installed package is made of: a change to any of these rebuilds it.
SOURCES = (
    "engine", "explorer", "resources", "build_support", "setup.py", "pyproject.toml", "uv.lock"
)
#: Copied into the folder the compiled test run starts from (what the tests read).
STAGED = ("tests", "resources", "docs", "bench", "pyproject.toml", "README.md")
#: Left out of the compiled test run, each with its reason.
NOT_COMPILED_TESTS = {
    "tests/test_architecture.py": "reads the engine/ source tree, which the run has not",
    "tests/test_binary.py": "builds the PyInstaller binary, which freezes the pure source",
    "tests/test_freeze.py": "checks the binary's build inputs from the source tree",
    "tests/test_perf_gate.py": "the pure build's instruction-count gate (its baseline)",
    "tests/test_notebooks.py": "executes the docs' notebooks: slow, and covers no engine code "
    "the other tests do not",
    "tests/test_notebook_browser.py": "a headless browser test of the notebook widgets",
}
#: JSON keys whose values are timings: the only output normalised before comparing.
TIMING_KEYS = frozenset({"elapsed_seconds", "ops_per_second", "seconds", "latency_ms", "us_per_op"})
#: In ``profile``'s output only: it times each backend and recommends the fastest, so its
#: verdict (backend, mode, and the sentence quoting the timings) is made from timings.
PROFILE_KEYS = frozenset({"recommended_backend", "recommended_mode", "reason"})

WORKLOADS = ("colliding-keys.csv", "mixed-small.csv", "zipf-reads.csv")
BACKENDS = ("chaining", "robinhood", "adaptive")


def _uv() -> str:
    found = shutil.which("uv")
    if found:
        return found
    local = ROOT / ".uv" / "bin" / "uv"
    if local.exists():
        return str(local)
    sys.exit("compiled check: uv is not installed (tests/run.sh installs it)")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    env.update(extra)
    return env


def _say(text: str) -> None:
    print(f"compiled check: {text}", flush=True)


def _files(name: str) -> list[Path]:
    path = ROOT / name
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def source_key() -> str:
    """A hash of every file the compiled install is built from."""
    digest = hashlib.sha256()
    for name in SOURCES:
        for path in _files(name):
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def build(rebuild: bool) -> None:
    """Step 1: the compiled venv, from the lock, rebuilt when the sources changed."""
    key_file = CACHE / "source-key"
    key = source_key()
    if not rebuild and COMPILED_PY.exists() and key_file.exists() and key_file.read_text() == key:
        _say(f"the compiled build in {VENV.relative_to(ROOT)} is current")
        return
    uv = _uv()
    started = time.monotonic()
    CACHE.mkdir(parents=True, exist_ok=True)
    key_file.unlink(missing_ok=True)
    if not COMPILED_PY.exists():
        subprocess.run([uv, "venv", "-q", "--python", str(PURE_PY), str(VENV)], check=True)
    requirements = CACHE / "requirements.txt"
    subprocess.run(
        [uv, "export", "--frozen", "--all-extras", "--no-emit-project", "--no-hashes", "-q",
         "-o", str(requirements)],
        cwd=ROOT, check=True,
    )  # fmt: skip
    subprocess.run(
        [uv, "pip", "install", "-q", "--python", str(COMPILED_PY), "-r", str(requirements)],
        cwd=ROOT, check=True, env=_env(),
    )  # fmt: skip
    # --refresh-package: uv would otherwise reuse a cached wheel of this folder, which it
    # keys on pyproject.toml and setup.py alone, so an edited map would not be compiled.
    subprocess.run(
        [uv, "pip", "install", "-q", "--python", str(COMPILED_PY), "--no-deps", "--reinstall",
         "--refresh-package", "adaptive-hash-map-explorer", "."],
        cwd=ROOT, check=True, env=_env(AHME_COMPILE="1"),
    )  # fmt: skip
    key_file.write_text(key)
    _say(f"built the compiled variant in {time.monotonic() - started:.0f} s")


def _build_info(python: Path) -> dict[str, Any]:
    code = "import json; from engine.build import build_info; print(json.dumps(build_info()))"
    with tempfile.TemporaryDirectory() as away:  # not this tree: its engine/ would win
        done = subprocess.run(
            [str(python), "-c", code], cwd=away, env=_env(), capture_output=True, text=True,
            check=True,
        )  # fmt: skip
    info: dict[str, Any] = json.loads(done.stdout)
    return info


def check_builds() -> None:
    """Step 2: the compiled venv runs compiled modules built from this tree's sources."""
    info = _build_info(COMPILED_PY)
    if info["build"] != "compiled":
        sys.exit(f"compiled check: the compiled venv is not compiled: {info['modules']}")
    for name, path in info["files"].items():
        installed = Path(path).with_name(Path(path).name.split(".")[0] + ".py")
        source = ROOT / (name.replace(".", "/") + ".py")
        if installed.read_bytes() != source.read_bytes():
            sys.exit(f"compiled check: the compiled venv's {name} is not this tree's")
    pure = _build_info(PURE_PY)
    if pure["build"] != "pure":
        sys.exit(f"compiled check: the development venv is not pure: {pure['modules']}")
    _say("engine.build: the compiled venv is compiled, the development venv pure")


def run_tests(pytest_args: list[str]) -> None:
    """Step 3: the suite under the compiled build, from a staged copy of the tests."""
    stage = CACHE / "stage"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    for name in STAGED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, stage / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, stage / name)
    ignores = [f"--ignore={name}" for name in NOT_COMPILED_TESTS]
    argv = [str(VENV / "bin" / "pytest"), "-q", "-p", "no:cacheprovider", *ignores, *pytest_args]
    _say("pytest under the compiled build: " + " ".join(argv[1:]))
    started = time.monotonic()
    done = subprocess.run(
        argv, cwd=stage, check=False,
        env=_env(AHME_EXPECT_BUILD="compiled", QT_QPA_PLATFORM="offscreen"),
    )  # fmt: skip
    if done.returncode != 0:
        what = "no test ran" if done.returncode == 5 else f"pytest exit status {done.returncode}"
        sys.exit(f"compiled check: the compiled build's tests failed ({what})")
    _say(f"the compiled build's tests passed in {time.monotonic() - started:.0f} s")


# --------------------------------------------------------------------------- outputs


def commands() -> list[list[str]]:
    """The ``engine`` commands whose outputs both builds must share, in order (later ones
    read the files earlier ones wrote). Inputs: the sample workloads in resources/,
    copied into the folder, and workloads generated here (crafted colliding keys for
    migrations, deletes for tombstones)."""
    out: list[list[str]] = [
        ["--json", "generate-csv", "--outfile", "gen-mixed.csv", "--ops", "6000", "--seed", "3"],
        ["--json", "generate-csv", "--outfile", "gen-attack.csv", "--ops", "6000", "--seed", "5",
         "--adversarial-ratio", "0.6", "--del-ratio", "0.3"],
        ["--json", "generate-csv", "--outfile", "gen-zipf.csv", "--ops", "6000", "--seed", "9",
         "--preset", "ycsb-a", "--distribution", "zipf"],
    ]  # fmt: skip
    for csv in (*WORKLOADS, "gen-mixed.csv", "gen-attack.csv", "gen-zipf.csv"):
        stem = csv.removesuffix(".csv")
        for backend in BACKENDS:
            snap = f"{stem}.{backend}.snap"
            out.append(
                ["--json", "--backend", backend, "run-csv", "--csv", csv,
                 "--json-summary-out", f"{stem}.{backend}.summary.json", "--snapshot-out", snap]
            )  # fmt: skip
            out.append(["--json", "inspect-snapshot", "--in", snap, "--limit", "1000"])
            out.append(["--json", "verify-snapshot", "--in", snap])
        out.append(["--json", "profile", "--csv", csv])
        out.append(["--json", "workload-dna", "--csv", csv])
    for backend in BACKENDS:
        snap = f"ops.{backend}.snap"
        for i in range(40):
            out.append(["--json", "--backend", backend, "put", f"key{i * 7}", str(i),
                        "--snapshot", snap])  # fmt: skip
        for i in range(0, 40, 3):
            out.append(["--json", "--backend", backend, "del", f"key{i * 7}", "--snapshot", snap])
        out.append(["--json", "--backend", backend, "get", "key14", "--snapshot", snap])
        out.append(["--json", "--backend", backend, "items", "--snapshot", snap])
        out.append(["--json", "compact-snapshot", "--in", snap, "--out", f"ops.{backend}.c.snap"])
        out.append(["--json", "--backend", backend, "probe-visualize", "--operation", "put",
                    "--key", "apple", "--value", "1", "--snapshot", snap])  # fmt: skip
        out.append(["--backend", backend, "probe-visualize", "--operation", "get",
                    "--key", "key14", "--snapshot", snap])  # fmt: skip
    out.append(["demo"])
    return out


#: Layouts and full stats of every snapshot the commands wrote, as the maps give them.
LAYOUTS = """
import json, pathlib, engine
for path in sorted(pathlib.Path('.').glob('*.snap')):
    m = engine.load_snapshot(path)
    m.check_invariants()
    print(path.name, json.dumps({'layout': m.layout(), 'stats': m.stats()}, sort_keys=True))
"""


def _normalised(text: str, keys: frozenset[str] = TIMING_KEYS) -> str:
    """JSON (a whole text, or lines) with the values of ``TIMING_KEYS`` replaced; any
    other text as it is."""

    def scrub(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: "<time>" if k in keys else scrub(v) for k, v in value.items()}
        if isinstance(value, list):
            return [scrub(v) for v in value]
        return value

    try:
        return json.dumps(scrub(json.loads(text)), indent=2)  # a whole file of JSON
    except ValueError:
        pass
    lines = []
    for line in text.splitlines():
        try:
            lines.append(json.dumps(scrub(json.loads(line))))
        except ValueError:
            lines.append(line)
    return "\n".join(lines)


def _outputs(python: Path, folder: Path) -> dict[str, str]:
    """Run the commands with ``python``'s engine in ``folder``; everything they printed
    and wrote, by name."""
    folder.mkdir(parents=True)
    for csv in WORKLOADS:
        shutil.copy2(ROOT / "resources" / "workloads" / csv, folder / csv)
    engine = [str(python.with_name("engine"))]  # the console script: no folder on sys.path
    env = _env(PYTHONHASHSEED="0", COLUMNS="100")
    seen: dict[str, str] = {}
    for i, argv in enumerate(commands()):
        keys = TIMING_KEYS | PROFILE_KEYS if "profile" in argv else TIMING_KEYS
        done = subprocess.run(
            engine + argv, cwd=folder, env=env, capture_output=True, text=True, check=False
        )
        seen[f"{i:03} engine {' '.join(argv)}"] = (
            f"exit {done.returncode}\n{_normalised(done.stdout, keys)}\n--stderr--\n{done.stderr}"
        )
    done = subprocess.run(
        [str(python), "-c", LAYOUTS], cwd=folder, env=env, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    seen["layouts"] = f"exit {done.returncode}\n{done.stdout}\n--stderr--\n{done.stderr}"
    for path in sorted(folder.iterdir()):
        data = path.read_bytes()
        if path.name.endswith(".summary.json"):
            data = _normalised(data.decode()).encode()
        seen[f"file {path.name}"] = hashlib.sha256(data).hexdigest() + f" ({len(data)} bytes)"
    return seen


def _version(python: Path) -> str:
    done = subprocess.run(
        [str(python.with_name("engine")), "--version"], cwd=CACHE, env=_env(),
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip()


def diff_outputs() -> None:
    """Step 4: the same outputs from both builds, which name themselves apart."""
    started = time.monotonic()
    versions = _version(PURE_PY), _version(COMPILED_PY)
    if not (versions[0].endswith("(pure build)") and versions[1].endswith("(compiled build)")):
        sys.exit(f"compiled check: --version says {versions[0]!r} and {versions[1]!r}")
    work = CACHE / "outputs"  # kept after the run, to look into when they differ
    shutil.rmtree(work, ignore_errors=True)
    # each build runs in a folder named "run", so relative paths print the same
    pure = _outputs(PURE_PY, work / "pure" / "run")
    compiled = _outputs(COMPILED_PY, work / "compiled" / "run")
    differing = [name for name in pure if pure[name] != compiled.get(name)]
    differing += [name for name in compiled if name not in pure]
    if differing:
        for name in differing[:5]:
            print(f"--- pure: {name}\n{pure.get(name)}\n--- compiled: {name}\n{compiled.get(name)}")
        sys.exit(f"compiled check: {len(differing)} of {len(pure)} outputs differ (see {work})")
    _say(
        f"{len(pure)} outputs the same under both builds (timings normalised) "
        f"in {time.monotonic() - started:.0f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-tests", action="store_true", help="no pytest run")
    parser.add_argument("--rebuild", action="store_true", help="ignore the cached build")
    args, pytest_args = parser.parse_known_args()  # the rest go to pytest
    started = time.monotonic()
    build(args.rebuild)
    check_builds()
    if not args.skip_tests:
        run_tests(pytest_args)
    diff_outputs()
    _say(f"passed in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
