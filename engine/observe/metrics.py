"""The metrics producer: one tick (schema ``metrics.v1``) at a time, for every consumer.

A tick is a JSON object describing the map and the run so far (``docs/metrics_schema.md``).
:class:`MetricsProducer` builds ticks from a map and a replay's progress;
:class:`NdjsonSink` appends them to ``metrics.ndjson`` one complete line at a time
(flushed, so a killed run leaves every complete line parseable) with an optional
retention of the last N ticks. :func:`validate_ndjson` checks a file line by line.
The schema is the pydantic model :class:`MetricsTick` in :mod:`engine.observe.schema`
(imported on first use: producing ticks needs no pydantic); ``engine/observe/schemas/
metrics.v1.json`` is its JSON Schema, shipped with the package.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import BadInputError, IOFailureError
from engine.maps.base import BaseMap
from engine.store.atomic import atomic_write_text
from engine.workloads.latency import Reservoir

if TYPE_CHECKING:
    from engine.observe.schema import MetricsTick

__all__ = [
    "SCHEMA_PATH",
    "MetricsProducer",
    "MetricsTick",
    "NdjsonSink",
    "compact_json",
    "validate_ndjson",
]

SCHEMA_PATH = Path(__file__).with_name("schemas") / "metrics.v1.json"
_STRUCTURAL = ("resize", "compact", "migrate", "guardrail")
_ENCODE = json.JSONEncoder(separators=(",", ":")).encode


def compact_json(value: Any) -> str:
    """``json.dumps(value, separators=(",", ":"))``, by one encoder built once: a tick's
    text, one line without its newline, as :meth:`NdjsonSink.write_encoded` and the
    endpoint pipe's ``publish_encoded`` take it (so a tick is encoded once for both), and
    the pipe's latency counts."""
    return _ENCODE(value)


def __getattr__(name: str) -> Any:
    """``MetricsTick`` and ``schema_document`` from :mod:`engine.observe.schema`, lazily."""
    if name in ("MetricsTick", "schema_document"):
        from engine.observe import schema as metrics_schema

        return getattr(metrics_schema, name)
    raise AttributeError(f"module 'engine.observe.metrics' has no attribute {name!r}")


def _percentiles_ns(res: Reservoir | None) -> dict[str, float]:
    if res is None:
        return {"p50": 0.0, "p90": 0.0, "p99": 0.0}
    return res.percentiles(scale=1e9)


class MetricsProducer:
    """Builds ticks for one run: events since the previous tick, timed from the start."""

    def __init__(self, started: float | None = None) -> None:
        self.started = time.perf_counter() if started is None else started
        self._seen_events = 0
        self._event_ops: list[int] = []

    def tick(self, m: BaseMap, latency: dict[str, Reservoir] | None = None) -> dict[str, Any]:
        """A ``metrics.v1`` tick for ``m`` now. O(probe histogram + new events), from the
        map's :meth:`~engine.maps.base.BaseMap.tick_stats` (not the whole ``stats()``) and
        each reservoir's kept sorted copy."""
        now = time.perf_counter() - self.started
        stats = m.tick_stats()
        history = m.history()
        fresh = history[self._seen_events :] if len(history) >= self._seen_events else history
        self._seen_events = len(history)
        events = []
        for entry in fresh:
            if entry.get("kind") in _STRUCTURAL:
                kind = entry["kind"]
                if kind == "migrate":
                    kind = f"migration_{entry.get('phase', 'batch')}"
                event = {k: v for k, v in entry.items() if k not in ("kind",)}
                event.update(type=kind, t=now)
                events.append(event)
        latency = latency or {}
        ops = stats["ops"]
        return {
            "schema": "metrics.v1",
            "t": now,
            "backend": stats.get("active_backend", stats["backend"]),
            "ops": ops["total"],
            "puts": ops["put"],
            "gets": ops["get"],
            "dels": ops["del"],
            "size": stats["size"],
            "capacity": stats["capacity"],
            "load_factor": stats["load_factor"],
            "tombstone_ratio": stats.get("tombstone_ratio", 0.0),
            "max_probe": stats.get("max_probe_current", 0),
            "avg_probe": stats.get("avg_probe_current", 0.0),
            "probe_hist": stats["probe_histogram"],
            "latency_ns": {
                name: _percentiles_ns(latency.get(name))
                for name in ("overall", "put", "get", "del")
            },
            "migrations": stats["migrations"],
            "compactions": stats["compactions"],
            "events": events,
        }


class NdjsonSink:
    """Appends ticks to ``DIR/metrics.ndjson``; keeps the last ``max_ticks`` when set.

    Each tick is one ``write`` of a complete line, then a flush. Retention rewrites the
    file atomically once it holds twice the limit, so the cost per tick stays O(1)
    amortised and a reader never sees a half-trimmed file.
    """

    def __init__(self, folder: str | os.PathLike[str], max_ticks: int | None = None) -> None:
        if max_ticks is not None and max_ticks < 1:
            raise BadInputError("--metrics-max-ticks must be at least 1")
        self.folder = Path(folder)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise IOFailureError(f"cannot create {str(folder)!r}: {exc.strerror or exc}") from None
        self.path = self.folder / "metrics.ndjson"
        self.max_ticks = max_ticks
        self._lines: list[str] = []
        try:
            self._handle = open(self.path, "w", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise IOFailureError(f"cannot write {str(self.path)!r}: {exc.strerror}") from None

    def write(self, tick: dict[str, Any]) -> None:
        self.write_encoded(compact_json(tick))

    def write_encoded(self, text: str) -> None:
        """Append a tick already encoded by :func:`compact_json`."""
        line = text + "\n"
        self._handle.write(line)
        self._handle.flush()
        if self.max_ticks is not None:
            self._lines.append(line)
            if len(self._lines) >= 2 * self.max_ticks:
                self._lines = self._lines[-self.max_ticks :]
                self._handle.close()
                atomic_write_text(self.path, "".join(self._lines))
                self._handle = open(self.path, "a", encoding="utf-8")  # noqa: SIM115

    def close(self) -> None:
        if self.max_ticks is not None and len(self._lines) > self.max_ticks:
            self._handle.close()
            atomic_write_text(self.path, "".join(self._lines[-self.max_ticks :]))
            return
        self._handle.close()


def validate_ndjson(path: str | os.PathLike[str]) -> int:
    """Check every line of a metrics file against ``metrics.v1``; returns the tick count.
    Raises :class:`BadInputError` naming the first bad line (1-based)."""
    from pydantic import ValidationError

    from engine.observe.schema import MetricsTick

    name = str(path)
    count = 0
    try:
        with open(name, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    MetricsTick.model_validate_json(line)
                except ValidationError as exc:
                    first = exc.errors()[0]
                    where = ".".join(str(p) for p in first["loc"]) or "(line)"
                    raise BadInputError(
                        f"{name}: line {number}: {where}: {first['msg']}",
                        "see docs/metrics_schema.md for the metrics.v1 fields",
                    ) from None
                count += 1
    except FileNotFoundError:
        raise IOFailureError(f"{name}: no such file") from None
    except UnicodeDecodeError as exc:
        raise BadInputError(f"{name}: not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise IOFailureError(f"{name}: {exc.strerror or exc}") from None
    return count
