"""The headless demo, the ``engine`` CLI, and the rule that the engine never imports Qt."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

import engine
from engine import cli

ROOT = Path(__file__).resolve().parent.parent
ENGINE_DIR = Path(engine.__file__).resolve().parent  # the tree, or a build's copy
FORBIDDEN = {"PyQt6", "pyqtgraph", "qasync", "explorer"}


def _python(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.pop("QT_QPA_PLATFORM", None)
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_demo_module_runs_and_shows_migration_and_displacement() -> None:
    proc = _python("-m", "engine.cli", "demo")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "migrat" in out.lower()
    assert "robinhood" in out and "chaining" in out
    # the traced Robin Hood insertion is meant to show a displacement step
    lines = out.splitlines()
    assert any(line.split()[:1] == ["displace"] for line in lines), out


def test_cli_demo_returns_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "Robin Hood table" in out
    assert "migration" in out


def test_cli_version_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert engine.__version__ in capsys.readouterr().out


def test_importing_engine_loads_no_gui_module() -> None:
    code = (
        "import engine, engine.cli.cmd_demo, engine.cli, engine.maps.adversarial, sys; "
        "print(sorted(m for m in sys.modules "
        "if m.split('.')[0] in {'PyQt6','pyqtgraph','qasync','explorer'}))"
    )
    proc = _python("-c", code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def _imported_roots(source: str) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            roots.add(node.args[0].value.split(".")[0])
    return roots


def test_the_import_scanner_sees_forbidden_imports() -> None:
    sample = (
        "import os\nfrom PyQt6.QtCore import Qt\nimport pyqtgraph as pg\n"
        "def f():\n    import qasync\n    from explorer import app\n"
        "importlib.import_module('explorer.widgets')\n"
    )
    assert _imported_roots(sample) == {"os", "explorer", "PyQt6", "pyqtgraph", "qasync"}


def test_no_engine_file_imports_gui_modules() -> None:
    files = sorted(ENGINE_DIR.rglob("*.py"))
    assert len(files) >= 10
    offenders = {
        str(path.relative_to(ENGINE_DIR.parent)): sorted(
            _imported_roots(path.read_text()) & FORBIDDEN
        )
        for path in files
    }
    assert {k: v for k, v in offenders.items() if v} == {}
