"""Where the Run view gets workloads and ticks besides a run of its own.

- :func:`generate_argv`: the ``engine generate-csv`` command for a named mix (uniform,
  zipf, the YCSB core workloads A–F, hotspot, adversarial), so a workload can be made
  without leaving the window, by the engine's own generator.
- :class:`FileWatch` and :class:`ServeWatch`: follow a run started elsewhere, through
  the ``metrics.ndjson`` it writes, or through an ``engine serve`` endpoint's history.

Qt-free; the view polls :meth:`read` from its timer.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Protocol

from engine.observe.jobs import engine_command
from explorer.model.run import TickFollower

__all__ = ["MIXES", "FileWatch", "ServeWatch", "TickSource", "WatchError", "generate_argv"]

#: mix name -> the generate-csv flags that make it
MIXES: dict[str, list[str]] = {
    "uniform": ["--distribution", "uniform"],
    "zipf": ["--distribution", "zipf", "--key-skew", "1.1"],
    **{f"ycsb-{x}": ["--preset", f"ycsb-{x}"] for x in "abcdef"},
    "hotspot": ["--distribution", "hotspot"],
    "adversarial": ["--adversarial-ratio", "0.05", "--adversarial-lowbits", "12"],
}
_HISTORY = 10_000


def generate_argv(mix: str, ops: int, key_space: int, seed: int, outfile: Path) -> list[str]:
    """The whole command line (program included) that writes the workload."""
    if mix not in MIXES:
        raise ValueError(f"unknown mix {mix!r}")
    return [
        *engine_command(),
        "--json",
        "generate-csv",
        *("--outfile", str(outfile), "--ops", str(ops), "--key-space", str(key_space)),
        *("--seed", str(seed)),
        *MIXES[mix],
    ]


class WatchError(Exception):
    """The source cannot be read (the message says why)."""


class TickSource(Protocol):
    label: str

    def read(self) -> list[dict[str, Any]]: ...


class FileWatch:
    """A growing ``metrics.ndjson`` written by another process."""

    def __init__(self, path: Path) -> None:
        if not path.exists():
            raise WatchError(f"{path}: no such file")
        if path.is_dir():
            path = path / "metrics.ndjson"
        self.label = f"watching {path}"
        self._follower = TickFollower(path)

    def read(self) -> list[dict[str, Any]]:
        return self._follower.read()


class ServeWatch:
    """An ``engine serve`` endpoint: its tick history, polled; each tick is reported once
    (by its time stamp), so a slow poll loses nothing the server still holds."""

    def __init__(self, url: str, token: str | None = None, timeout: float = 2.0) -> None:
        parts = urllib.parse.urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise WatchError(f"{url!r} is not an http(s) address of engine serve")
        self.base = f"{parts.scheme}://{parts.netloc}"
        self.label = f"watching {self.base}"
        self.token = token
        self.timeout = timeout
        self._last_t = float("-inf")

    def read(self) -> list[dict[str, Any]]:
        request = urllib.request.Request(f"{self.base}/api/metrics/history?limit={_HISTORY}")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise WatchError(f"{self.base} answered {exc.code}: {exc.reason}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise WatchError(f"cannot read {self.base}: {exc}") from None
        ticks = [t for t in body.get("ticks", []) if isinstance(t, dict)]
        fresh = [t for t in ticks if float(t.get("t", 0.0)) > self._last_t]
        if fresh:
            self._last_t = float(fresh[-1].get("t", self._last_t))
        return fresh
