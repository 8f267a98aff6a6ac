"""No code-executing deserialiser anywhere in the project: no pickle, marshal, shelve,
eval or exec in any Python file we ship, test or benchmark.

One ``exec`` is allowed, by name: :func:`engine.records._compile_init` writes a record
class's ``__init__`` from the class's own field names, as :mod:`dataclasses` does for
``@dataclass`` (a name that is not an identifier is refused when the class is made, and
no data ever reaches that text)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import engine
import explorer

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN_MODULES = {"pickle", "cPickle", "_pickle", "marshal", "shelve", "dill", "cloudpickle"}
FORBIDDEN_CALLS = {"eval", "exec"}
#: (file, function, call) allowed, with the reason in the module docstring
ALLOWED = {("engine/records.py", "_compile_init", "exec")}
#: The packages where they are imported from (the source tree, or an installed build's
#: copy of its sources), the tests and benchmarks beside this file.
FOLDERS = (
    Path(engine.__file__).resolve().parent,
    Path(explorer.__file__).resolve().parent,
    ROOT / "tests",
    ROOT / "bench",
)
SOURCES = sorted(p for folder in FOLDERS for p in folder.rglob("*.py"))


def _allowed_calls(tree: ast.Module, relative: str) -> set[int]:
    """The ``id`` of each call node that ``ALLOWED`` lets through in this file."""
    allowed = set()
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef):
            for node in ast.walk(function):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and (relative, function.name, node.func.id) in ALLOWED
                ):
                    allowed.add(id(node))
    return allowed


def _relative(path: Path) -> str:
    for folder in FOLDERS:
        if path.is_relative_to(folder):
            return f"{folder.name}/{path.relative_to(folder).as_posix()}"
    return path.name


def _offences(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    allowed = _allowed_calls(tree, _relative(path))
    found = []
    for node in ast.walk(tree):
        if id(node) in allowed:
            continue
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] in FORBIDDEN_MODULES]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] in FORBIDDEN_MODULES:
                found.append(node.module)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in FORBIDDEN_CALLS
        ):
            found.append(f"{node.func.id}() at line {node.lineno}")
    return found


def test_the_scan_covers_the_package() -> None:
    assert FOLDERS[0] / "store" / "snapshot.py" in SOURCES
    assert len(SOURCES) > 20


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: "/".join(p.parts[-3:]))
def test_no_code_executing_deserialiser(path: Path) -> None:
    assert _offences(path) == []


def test_the_scan_would_catch_an_offence(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import pickle\nfrom marshal import loads\nx = eval('1')\n")
    assert len(_offences(bad)) == 3


def test_the_one_allowed_exec_is_where_it_is_allowed() -> None:
    records = FOLDERS[0] / "records.py"
    tree = ast.parse(records.read_text(encoding="utf-8"))
    assert len(_allowed_calls(tree, _relative(records))) == 1
    assert _offences(records) == []
    elsewhere = FOLDERS[0] / "jsonsafe.py"
    assert (
        _allowed_calls(ast.parse("def _compile_init():\n    exec('1')\n"), "engine/x.py") == set()
    )
    assert _relative(elsewhere) == "engine/jsonsafe.py"
