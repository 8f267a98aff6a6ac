"""Finding the shared ``resources/`` folder from a source tree or a packaged binary."""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["resource_path", "resources_root", "sample_workloads"]


def resources_root() -> Path:
    """The ``resources`` folder: beside the package in a checkout or an editable install,
    inside the bundle of a PyInstaller build (``sys._MEIPASS``), or the copy an installed
    package carries (``explorer/shipped_resources``, made by setup.py's build)."""
    bundle = getattr(sys, "_MEIPASS", None)
    candidates = [Path(bundle) / "resources"] if bundle else []
    here = Path(__file__).resolve().parent
    candidates += [here / "shipped_resources", here.parent / "resources"]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("the explorer's resources folder was not found")


def resource_path(*parts: str) -> Path:
    """A file under ``resources/``."""
    return resources_root().joinpath(*parts)


def sample_workloads() -> list[Path]:
    """The workload CSVs shipped in ``resources/workloads``, by name."""
    try:
        folder = resource_path("workloads")
    except FileNotFoundError:
        return []
    return sorted(folder.glob("*.csv"))
