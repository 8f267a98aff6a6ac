"""The project's PEP 517 build backend: setuptools', plus mypy when compiling.

``AHME_COMPILE=1`` in the environment of an install (or a wheel build) compiles the
engine's hot modules with mypyc (``setup.py``); mypyc ships with mypy, so only then does
the build ask for the pinned mypy, and for pydantic, whose mypy plugin the project's mypy
settings load. Without it the build is setuptools' own and the install is pure Python:
the default, and what an editable install of the source should be. See
docs/performance.md, "The compiled build (mypyc, #16)".
"""

from __future__ import annotations

import os

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F403  (every hook, unchanged)

#: What a compiled build needs beyond setuptools: the mypy of the dev extra (its mypyc
#: compiles) and the pydantic of the dependencies (the mypy plugin in pyproject.toml).
COMPILE_REQUIRES = ["mypy==2.4.1", "pydantic==2.14.4"]


def compiling() -> bool:
    """Whether this build compiles: ``AHME_COMPILE`` is ``1``."""
    return os.environ.get("AHME_COMPILE", "") == "1"


def get_requires_for_build_wheel(config_settings=None):  # type: ignore[no-untyped-def]
    # setuptools would run setup.py to ask (for setup_requires, which it has none of),
    # and setup.py needs mypyc when compiling: answer without it then
    if compiling():
        return list(COMPILE_REQUIRES)
    return _setuptools.get_requires_for_build_wheel(config_settings)


def get_requires_for_build_editable(config_settings=None):  # type: ignore[no-untyped-def]
    if compiling():
        return list(COMPILE_REQUIRES)
    return _setuptools.get_requires_for_build_editable(config_settings)
