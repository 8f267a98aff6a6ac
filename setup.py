"""Build script: the metadata is in pyproject.toml; this adds the optional compiled build.

With ``AHME_COMPILE=1`` in the environment the modules named by
``engine.build.HOT_MODULES`` are compiled with mypyc into extension modules installed
beside their sources (which Python then imports instead). Without it, nothing is
compiled. See docs/performance.md, "The compiled build (mypyc, #16)".
"""

from __future__ import annotations

import os
import runpy
from pathlib import Path

from setuptools import setup

HERE = Path(__file__).resolve().parent


def _ext_modules() -> list[object]:
    if os.environ.get("AHME_COMPILE", "") != "1":
        return []
    from mypyc.build import mypycify  # the build asked for mypy (build_support/backend.py)

    # engine/build.py imports only the standard library: read its list without the package
    hot = runpy.run_path(str(HERE / "engine" / "build.py"))["HOT_MODULES"]
    paths = [name.replace(".", "/") + ".py" for name in hot]
    return list(mypycify(paths, opt_level="3", group_name="engine_maps"))


setup(ext_modules=_ext_modules())
