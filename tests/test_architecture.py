"""The engine's layout: subpackages as layers, checked by import-linter, each one documented.

The test command runs ``lint-imports`` on the real tree; these tests show that the
contracts would catch what they are for (an import that points up, a cycle between command
modules) by running ``lint-imports`` on a copy of the tree with such imports added.
"""

from __future__ import annotations

import ast
import importlib
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import engine

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _layers_contract() -> dict[str, object]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    (layers,) = [c for c in contracts if c["type"] == "layers"]
    return layers  # type: ignore[no-any-return]


def _layer_names() -> list[str]:
    names: list[str] = []
    for layer in _layers_contract()["layers"]:  # type: ignore[attr-defined]
        names += [part.strip() for part in layer.replace(":", "|").split("|")]
    return names


def _engine_children() -> set[str]:
    children = {p.stem for p in (ROOT / "engine").glob("*.py") if p.stem != "__init__"}
    children |= {p.parent.name for p in (ROOT / "engine").glob("*/__init__.py")}
    return children


def test_every_engine_module_sits_in_a_layer() -> None:
    contract = _layers_contract()
    assert contract["containers"] == ["engine"]
    assert contract["exhaustive"] is True
    assert sorted(_layer_names()) == sorted(_engine_children())
    assert _layer_names()[0] == "cli"


@pytest.mark.parametrize(
    "package", sorted(p.parent.name for p in (ROOT / "engine").glob("*/__init__.py"))
)
def test_each_subpackage_says_what_it_is_for_and_may_import(package: str) -> None:
    source = (ROOT / "engine" / package / "__init__.py").read_text(encoding="utf-8")
    docstring = ast.get_docstring(ast.parse(source))
    assert docstring, f"engine.{package} has no docstring"
    assert "may import" in docstring.lower(), docstring
    below = _layer_names()[_layer_names().index(package) + 1 :]
    # the docstring names no layer above the package as something it may import
    above = _layer_names()[: _layer_names().index(package)]
    for name in above:
        assert f"engine.{name}`" not in docstring, (package, name)
    assert below, package


def test_subpackages_import_nothing_when_imported_alone() -> None:
    """A subpackage's ``__init__`` loads no module of its own, so reaching one module of a
    package costs only that module (start-up of short commands)."""
    packages = ["engine.workloads", "engine.store", "engine.observe", "engine.settings"]
    code = (
        "import sys, engine; before = set(sys.modules); "
        f"import {', '.join(packages)}; "
        "print(sorted(set(sys.modules) - before))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert ast.literal_eval(out.strip()) == sorted(packages)


def test_public_names_stay_where_users_find_them() -> None:
    from engine.maps import option_models
    from engine.store import snapshot

    assert engine.snapshot is snapshot
    assert engine.load_snapshot is snapshot.load_snapshot
    assert engine.save_snapshot is snapshot.save_snapshot
    assert engine.AdaptiveOptions is option_models.AdaptiveOptions
    assert callable(engine.trace) and engine.trace.__module__ == "engine.tracing.collect"
    for name in engine.__all__:
        assert getattr(engine, name) is not None, name
    with pytest.raises(AttributeError):
        _ = engine.no_such_name


def _lint_copy(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return proc


def _copy_tree(tmp_path: Path) -> None:
    for folder in ("engine", "explorer"):
        shutil.copytree(
            ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")


def test_the_contracts_pass_on_the_tree_and_catch_imports_that_point_up(
    tmp_path: Path,
) -> None:
    _copy_tree(tmp_path)
    clean = _lint_copy(tmp_path)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "0 broken" in clean.stdout

    upward = {
        "engine/maps/stats.py": "from engine.workloads import replay",
        "engine/tracing/events.py": "from engine.maps import base",
        "engine/store/atomic.py": "from engine.settings import defaults",
        "engine/errors.py": "from engine import jsonsafe",
    }
    for path, line in upward.items():
        with (tmp_path / path).open("a", encoding="utf-8") as f:
            f.write(f"\n\ndef _late() -> None:\n    {line}  # noqa: F401\n")
    # the cycle the CLI had: a command module importing the app back
    with (tmp_path / "engine/cli/cmd_analyse.py").open("a", encoding="utf-8") as f:
        f.write("\n\ndef _late() -> None:\n    from engine.cli.app import main  # noqa: F401\n")

    broken = _lint_copy(tmp_path)
    assert broken.returncode != 0
    out = broken.stdout
    assert "engine.maps.stats -> engine.workloads.replay" in out, out
    assert "engine.tracing.events -> engine.maps.base" in out, out
    assert "engine.store.atomic -> engine.settings.defaults" in out, out
    assert "engine.errors -> engine.jsonsafe" in out, out
    assert ".cmd_analyse -> .app" in out, out


def test_the_copy_is_what_lint_imports_analysed(tmp_path: Path) -> None:
    """lint-imports reads the package from its working folder, not the installed tree:
    a module that exists only in the copy is reported as unlayered."""
    _copy_tree(tmp_path)
    (tmp_path / "engine" / "stray.py").write_text('"""A module with no layer."""\n')
    proc = _lint_copy(tmp_path)
    assert proc.returncode != 0
    assert "engine.stray" in proc.stdout, proc.stdout


def test_every_engine_module_still_imports() -> None:
    for path in sorted((ROOT / "engine").rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = [p for p in rel.parts if p != "__init__"]
        if parts[-1] == "__main__":
            continue
        importlib.import_module(".".join(parts))
