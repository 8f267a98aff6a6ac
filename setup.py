"""Build script: the metadata is in pyproject.toml; this adds the optional compiled build.

With ``AHME_COMPILE=1`` in the environment the modules named by
``engine.build.HOT_MODULES`` are compiled with mypyc into extension modules installed
beside their sources (which Python then imports instead). Without it, nothing is
compiled. See docs/performance.md, "The compiled build (mypyc, #16)".
"""

from __future__ import annotations

import os
import runpy
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


def _ext_modules() -> list[object]:
    if os.environ.get("AHME_COMPILE", "") != "1":
        return []
    from mypyc.build import mypycify  # the build asked for mypy (build_support/backend.py)

    # engine/build.py imports only the standard library: read its list without the package
    hot = runpy.run_path(str(HERE / "engine" / "build.py"))["HOT_MODULES"]
    paths = [name.replace(".", "/") + ".py" for name in hot]
    return list(mypycify(paths, opt_level="3", group_name="engine_maps"))


class BuildWithResources(build_py):
    """The standard build, plus the shared ``resources/`` folder (styles, icons, sample
    workloads) copied into the built explorer package as ``explorer/shipped_resources``,
    where :func:`explorer.resources.resources_root` finds it in an installed (not
    editable) copy. An editable install reads the tree's own folder."""

    def run(self) -> None:
        super().run()
        if not getattr(self, "editable_mode", False):
            target = Path(self.build_lib) / "explorer" / "shipped_resources"
            shutil.copytree(HERE / "resources", target, dirs_exist_ok=True)


setup(ext_modules=_ext_modules(), cmdclass={"build_py": BuildWithResources})
