"""Start-up of a short ``engine`` command, guarded without timing: which modules it loads.

A 10-row replay spends nearly all its time importing (``bench/startup.py`` times it;
``docs/performance.md`` has the numbers). These tests run the console script's body in a
fresh interpreter and list ``sys.modules`` after the command: the common path must not
load the HTTP stack, pydantic, logging, the other command modules or the other maps, and
each flag loads only what it needs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli import app

ROOT = Path(__file__).resolve().parent.parent

#: Never loaded by a plain ``run-csv``: the metrics endpoint's stack, pydantic and the
#: settings models, the snapshot format, and standard modules only flags need
#: (``dataclasses`` loads ``inspect``, ``ast`` and ``dis``: the records of
#: :mod:`engine.records` are what the common path uses instead).
HEAVY = (
    "dataclasses",
    "inspect",
    "ast",
    "dis",
    "uvicorn",
    "starlette",
    "anyio",
    "click",
    "h11",
    "asyncio",
    "prometheus_client",
    "pydantic",
    "pydantic_core",
    "http.server",
    "http.client",
    "email",
    "socket",
    "ssl",
    "threading",
    "logging",
    "json",
    "pathlib",
    "random",
    "hashlib",
    "shutil",
    "tomllib",
    "engine.maps.option_models",
    "engine.settings.models",
    "engine.store.snapshot",
    "engine.observe.metrics",
    "engine.observe.schema",
    "engine.store.atomic",
    "engine.tracing.collect",
    "engine.tracing.steps",
    "engine.workloads.generate",
)
COMMAND_MODULES = sorted({module for _, module, _ in app.COMMANDS})
MAPS = {"chaining", "robinhood", "adaptive"}
#: The map modules each backend needs (chaining borrows a helper from robinhood).
NEEDS = {"robinhood": {"robinhood"}, "chaining": {"chaining", "robinhood"}, "adaptive": MAPS}

LIST_MODULES = (
    "import sys\n"
    "from engine.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "print(code, ' '.join(sorted(sys.modules)), file=sys.stderr)\n"
)


def _modules_after(*args: str) -> set[str]:
    """The modules loaded by ``engine ARGS`` (the console script's body), in a new process."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("ADHASH_")}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run(
        [sys.executable, "-c", LIST_MODULES, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    code, modules = proc.stderr.strip().splitlines()[-1].split(" ", 1)
    assert code == "0", proc.stderr
    return set(modules.split())


@pytest.fixture(scope="module")
def workload(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("startup") / "tiny.csv"
    rows = [f"put,k{i},{i}" if i % 2 == 0 else f"get,k{i - 1}," for i in range(10)]
    path.write_text("op,key,value\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("backend", sorted(MAPS))
def test_a_plain_replay_loads_only_its_own_map_and_no_heavy_module(
    workload: Path, backend: str
) -> None:
    loaded = _modules_after("run-csv", "--csv", str(workload), "--backend", backend)
    assert sorted(m for m in HEAVY if m in loaded) == []
    assert {m.rsplit(".", 1)[1] for m in loaded if m.startswith("engine.maps.")} & MAPS == NEEDS[
        backend
    ]
    commands = {m.rsplit(".", 1)[1] for m in loaded if m.startswith("engine.cli.cmd_")}
    assert commands == {"cmd_run"}


@pytest.mark.parametrize("backend", sorted(MAPS))
def test_a_replay_that_grows_and_migrates_loads_no_step_event(tmp_path: Path, backend: str) -> None:
    """Resizes and migrations are recorded as structural events (engine.tracing.events);
    the step events of a traced operation are never needed without a trace."""
    path = tmp_path / "grow.csv"
    rows = [f"put,g{i},{i}" for i in range(400)] + [f"del,g{i}," for i in range(0, 400, 3)]
    path.write_text("op,key,value\n" + "\n".join(rows) + "\n", encoding="utf-8")
    summary = tmp_path / "summary.json"
    loaded = _modules_after(
        "--backend", backend, "run-csv", "--csv", str(path), "--json-summary-out", str(summary)
    )
    result = json.loads(summary.read_text(encoding="utf-8"))
    assert any(e["kind"] == "resize" for e in result["events"]) or result["migrations_triggered"]
    assert "engine.tracing.events" in loaded
    assert "engine.tracing.steps" not in loaded


def test_help_loads_no_command_module() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    script = (
        "import sys\nfrom engine.cli.app import build_parser\n"
        "build_parser().format_help()\n"
        "print(' '.join(m for m in sys.modules if m.startswith('engine.')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    ).stdout.split()
    assert [m for m in out if m.startswith("engine.cli.cmd_")] == []
    assert {m for m in out if m.startswith("engine.maps.")} <= {"engine.maps.factory"}


def test_each_flag_loads_what_it_needs_and_no_more(workload: Path, tmp_path: Path) -> None:
    run = ["run-csv", "--csv", str(workload)]
    summary = _modules_after(*run, "--json-summary-out", str(tmp_path / "s.json"))
    assert {"json", "engine.store.atomic"} <= summary
    assert "engine.observe.metrics" not in summary and "logging" not in summary
    ticks = _modules_after(*run, "--metrics-out-dir", str(tmp_path / "m"))
    assert {"engine.observe.metrics", "json"} <= ticks
    assert not {"pydantic", "prometheus_client", "uvicorn", "logging"} & ticks
    assert json.loads((tmp_path / "s.json").read_text())["total_ops"] == 10
    # the endpoint runs in a process of its own: the replay only binds and feeds it
    served = _modules_after(*run, "--metrics-port", "0")
    assert {"engine.observe.endpoint_process", "socket", "subprocess"} <= served
    assert not {"uvicorn", "prometheus_client", "asyncio", "h11", "ssl", "logging"} & served
    assert not {"starlette", "anyio", "pydantic"} & served


def test_a_log_level_below_warning_loads_logging_at_once(workload: Path) -> None:
    loaded = _modules_after("--log-level", "info", "run-csv", "--csv", str(workload))
    assert "logging" in loaded


def test_every_command_builds_its_parser_from_its_module() -> None:
    """COMMANDS names every command once, in the order of ``engine --help``, and each
    module adds exactly the commands listed for it."""
    sub = _commands(app.build_parser(load_all=True))
    names = [name for name, _, _ in app.COMMANDS]
    assert len(names) == len(set(names))
    assert set(sub._name_parser_map) == set(names)
    assert [a.dest for a in sub._choices_actions] == names
    for name, _, line in app.COMMANDS:
        assert sub._name_parser_map[name].prog == f"engine {name}"
        assert any(a.dest == name and a.help == line for a in sub._choices_actions)
    cli = Path(app.__file__).resolve().parent  # the source tree, or an installed build's
    assert sorted(p.stem for p in cli.glob("cmd_*.py")) == COMMAND_MODULES


def _commands(parser: argparse.ArgumentParser) -> app._Commands:
    return next(a for a in parser._actions if isinstance(a, app._Commands))


@pytest.mark.parametrize("name", [name for name, _, _ in app.COMMANDS])
def test_a_command_built_on_demand_is_the_one_built_eagerly(name: str) -> None:
    lazy = _commands(app.build_parser())
    assert name not in lazy._name_parser_map
    lazy.load(name)
    eager = _commands(app.build_parser(load_all=True))
    assert lazy._name_parser_map[name].format_help() == eager._name_parser_map[name].format_help()
