"""Which build of the engine is running: the pure source, or its hot modules compiled.

An install made with ``AHME_COMPILE=1`` compiles :data:`HOT_MODULES` with mypyc (see
``setup.py`` and docs/performance.md, "The compiled build"); every other install runs
the ``.py`` files. A compiled module is an extension module (``.so``) beside its source,
and Python's import system prefers it, so the answer is where each module's import
resolves. Finding that imports the parent package (:mod:`engine.maps`, which loads
nothing) but not the modules themselves.

The bottom layer, beside :mod:`engine.errors`: it reads where modules are, not what is in
them.
"""

from __future__ import annotations

import sys
from importlib.machinery import EXTENSION_SUFFIXES
from importlib.util import find_spec
from typing import Final, Literal

__all__ = ["HOT_MODULES", "Build", "build_info", "build_name"]

#: The modules an ``AHME_COMPILE=1`` install compiles (``setup.py`` reads this list).
HOT_MODULES: Final = (
    "engine.maps.hashing",
    "engine.maps.stats",
    "engine.maps.batch",
    "engine.maps.kernels",
    "engine.maps.base",
    "engine.maps.chaining",
    "engine.maps.robinhood",
    "engine.maps.adaptive",
)

Build = Literal["pure", "compiled", "mixed"]


def _module_file(name: str) -> str:
    module = sys.modules.get(name)
    origin = getattr(module, "__file__", None) if module is not None else None
    if origin is None:
        spec = find_spec(name)
        origin = None if spec is None else spec.origin
    return origin or ""


def _modules() -> tuple[dict[str, str], dict[str, str]]:
    files = {name: _module_file(name) for name in HOT_MODULES}
    kinds = {
        name: "compiled" if path.endswith(tuple(EXTENSION_SUFFIXES)) else "pure"
        for name, path in files.items()
    }
    return kinds, files


def build_name() -> Build:
    """``"pure"``, ``"compiled"`` or ``"mixed"`` (some hot modules compiled, some not)."""
    kinds = set(_modules()[0].values())
    if len(kinds) > 1:
        return "mixed"
    return "compiled" if "compiled" in kinds else "pure"


def build_info() -> dict[str, object]:
    """``{"build": build_name(), "modules": {name: "pure" | "compiled"}, "files": {name:
    path}}`` for the :data:`HOT_MODULES`. O(modules), and no module is run."""
    kinds, files = _modules()
    return {"build": build_name(), "modules": kinds, "files": files}
