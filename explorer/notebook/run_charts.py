"""Charts of a run from its ``metrics.v1`` ticks, as static SVG for a notebook.

``charts("m/metrics.ndjson")`` (or a list of ticks, or a :class:`RunSeries`) draws four
panels over the operation count: throughput, latency percentiles (p50, p90, p99 of every
operation, in microseconds), load factor with the tombstone ratio, and the longest probe
or group chain. Structural events (resizes, migration start and end, compactions,
guardrail alerts) are markers: a dashed vertical line through every panel, numbered, and
listed under the charts. The series come from the Run view's own
:class:`~explorer.model.run_series.RunSeries`, so the notebook and the desktop app chart
the same points.

:func:`run_workload` runs ``engine run-csv`` (the engine's own command, in a child
process, as the Run view does) and returns its summary with the charts of its ticks;
:func:`generate_workload` writes a workload with ``engine generate-csv``.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.observe.jobs import engine_command
from explorer.model.run import RunRequest, TickFollower
from explorer.model.run_series import RunSeries
from explorer.model.run_sources import generate_argv
from explorer.notebook.svg import COLOURS, Drawing, document, wrap

__all__ = ["RunCharts", "RunResult", "charts", "generate_workload", "run_workload"]

PANEL_W, PANEL_H = 500.0, 190.0
MARGIN_L, MARGIN_B, MARGIN_T = 62.0, 28.0, 26.0
MARKER_COLOURS = {
    "resize": COLOURS["home"],
    "migration start": COLOURS["moved"],
    "migration end": COLOURS["match"],
    "compaction": COLOURS["removed"],
    "guardrail alert": COLOURS["mismatch"],
}
LINE_COLOURS = ("#0072b2", "#e69f00", "#d55e00", "#009e73")
MAX_MARKERS_DRAWN = 40


def nice_ticks(low: float, high: float, count: int = 4) -> list[float]:
    """About ``count`` round tick values covering ``low``..``high``."""
    if high <= low:
        high = low + 1.0
    raw = (high - low) / count
    step = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * step:
            step *= factor
            break
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while True:
        ticks.append(round(value, 10))
        if value >= high - step * 1e-9:
            return ticks
        value += step


def _number(value: float) -> str:
    if abs(value) >= 1e6:
        return f"{value / 1e6:g}M"
    if abs(value) >= 1e4:
        return f"{value / 1e3:g}k"
    return f"{value:g}"


def _panel(
    title: str,
    xs: Sequence[float],
    lines: Sequence[tuple[str, Sequence[float]]],
    markers: Sequence[tuple[int, float, str]],
    *,
    unit: str = "",
) -> Drawing:
    d = Drawing(PANEL_W, PANEL_H)
    d.add(f'<g class="ahm-chart" data-title="{title}" data-points="{len(xs)}">')
    d.text(0, 15, title, 12.5, weight="bold")
    left, top = MARGIN_L, MARGIN_T
    w, h = PANEL_W - MARGIN_L - 10, PANEL_H - MARGIN_T - MARGIN_B
    d.rect(left, top, w, h, fill="#fcfcfc", stroke=COLOURS["grid"])
    if not xs:
        d.text(left + w / 2, top + h / 2, "no points", 12, fill=COLOURS["muted"], anchor="middle")
        d.add("</g>")
        return d
    x_low, x_high = min(xs[0], 0.0), max(xs[-1], 1.0)
    values = [v for _, series in lines for v in series]
    y_high = max([*values, 0.0])
    y_ticks = nice_ticks(0.0, y_high if y_high > 0 else 1.0)
    y_top = y_ticks[-1]
    x_ticks = nice_ticks(x_low, x_high)

    def px(x: float) -> float:
        return left + (x - x_low) / (x_high - x_low) * w

    def py(y: float) -> float:
        return top + h - (y / y_top) * h

    for tick in y_ticks:
        d.line(left, py(tick), left + w, py(tick), stroke="#e6e8eb")
        d.text(left - 6, py(tick) + 4, _number(tick) + unit, 10, fill=COLOURS["muted"],
               anchor="end")
    for tick in x_ticks:
        if x_low <= tick <= x_high:
            d.text(px(tick), top + h + 15, _number(tick), 10, fill=COLOURS["muted"],
                   anchor="middle")
    d.text(left + w, top + h + 26, "operations", 10, fill=COLOURS["muted"], anchor="end")
    for number, op, kind in markers:
        colour = MARKER_COLOURS.get(kind, COLOURS["muted"])
        x = px(min(max(op, x_low), x_high))
        d.line(x, top, x, top + h, stroke=colour, width=1.3,
               extra=f' stroke-dasharray="4 3" class="ahm-marker" data-kind="{kind}"')
        d.text(x + 2, top + 10, str(number), 9, fill=colour, weight="bold")
    for i, (name, series) in enumerate(lines):
        colour = LINE_COLOURS[i % len(LINE_COLOURS)]
        points = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(xs, series, strict=False))
        d.add(
            f'<polyline class="ahm-series" data-name="{name}" points="{points}" fill="none" '
            f'stroke="{colour}" stroke-width="1.8"/>'
        )
        if len(xs) == 1:
            d.add(f'<circle cx="{px(xs[0]):.1f}" cy="{py(series[0]):.1f}" r="3" fill="{colour}"/>')
        lx = PANEL_W - 10 - (len(lines) - i) * 78
        d.rect(lx, 9, 10, 3, fill=colour)
        d.text(lx + 14, 14, name, 10, fill=COLOURS["text"])
    d.add("</g>")
    return d


@dataclass
class RunCharts:
    """The charts of one run; displayed as SVG (``_repr_svg_``)."""

    series: RunSeries
    title: str = ""

    @property
    def svg(self) -> str:
        s = self.series
        kept = s.markers[:MAX_MARKERS_DRAWN]
        markers = [(i + 1, float(m.op), m.kind) for i, m in enumerate(kept)]
        panels = [
            _panel("throughput (ops/s)", s.ops, [("ops/s", s.throughput)],
                   markers),
            _panel(
                "latency of all operations (\u00b5s)",
                s.ops,
                [(p, s.latency_us[f"overall.{p}"]) for p in ("p50", "p90", "p99")],
                markers,
            ),
            _panel("load factor, tombstone ratio", s.ops,
                   [("load", s.load_factor), ("tombstones", s.tombstone_ratio)], markers),
            _panel("longest probe / group chain", s.ops, [("max probe", s.max_probe)], markers),
        ]
        gap = 24.0
        title_h = 34.0
        notes = [f"{n}. {m.text}" for (n, _, _), m in zip(markers, kept, strict=True)]
        if len(s.markers) > len(kept) or s.markers_dropped:
            more = len(s.markers) - len(kept) + s.markers_dropped
            notes.append(f"\u2026 and {more} more structural event(s)")
        width = 2 * PANEL_W + gap
        note_lines = [line for note in notes for line in wrap(note, width, 11)]
        height = title_h + 2 * (PANEL_H + gap) + 16 * len(note_lines) + 10
        d = Drawing(width, height)
        last = s.last or {}
        title = self.title or "run"
        subtitle = (
            f"{title}: {int(s.ops[-1]) if s.ops else 0:,} operations, {s.ticks_seen} ticks, "
            f"backend {s.backend or '?'}, size {last.get('size', '?')}, "
            f"capacity {last.get('capacity', '?')}"
        )
        d.text(0, 18, subtitle, 14, weight="bold")
        for i, panel in enumerate(panels):
            row, col = divmod(i, 2)
            d.place(panel, col * (PANEL_W + gap), title_h + row * (PANEL_H + gap))
        y = title_h + 2 * (PANEL_H + gap) + 4
        d.add('<g class="ahm-markers">')
        for line in note_lines:
            d.text(0, y, line, 11, fill=COLOURS["text"])
            y += 16
        d.add("</g>")
        return document(_pad(d), title=subtitle)

    def _repr_svg_(self) -> str:
        return self.svg

    def save(self, path: str | Path) -> Path:
        out = Path(path)
        out.write_text(self.svg, encoding="utf-8")
        return out


def _pad(d: Drawing, pad: float = 12.0) -> Drawing:
    out = Drawing(d.width + 2 * pad, d.height + 2 * pad)
    out.place(d, pad, pad)
    return out


def charts(source: Any, *, title: str = "") -> RunCharts:
    """Charts of a ``metrics.ndjson`` file (incomplete or foreign lines are skipped),
    a list of ticks, a :class:`RunSeries`, a job on an ``engine serve``
    (:class:`~explorer.notebook.live.LiveJob`: the ticks it has written so far) or a
    :class:`~explorer.notebook.live.LiveCharts` widget (what it has drawn)."""
    if isinstance(source, RunSeries):
        return RunCharts(source, title)
    live = sys.modules.get("explorer.notebook.live")  # a job exists only once it is loaded
    if live is not None and isinstance(source, live.LiveJob):
        return source.charts(title)
    if live is not None and isinstance(source, live.LiveCharts):
        return source.charts()
    series = RunSeries(label=title or "run")
    if isinstance(source, str | Path):
        path = Path(source)
        if path.is_dir():
            path = path / "metrics.ndjson"
        if not path.is_file():
            raise FileNotFoundError(f"no metrics file at {path}")
        series.add(TickFollower(path).read())
        return RunCharts(series, title or path.parent.name)
    if not isinstance(source, Sequence):
        raise TypeError(f"charts() cannot draw a {type(source).__name__}")
    series.add([t for t in source if isinstance(t, dict) and t.get("schema") == "metrics.v1"])
    return RunCharts(series, title)


@dataclass
class RunResult:
    """What :func:`run_workload` returns: the command's JSON summary and its ticks."""

    summary: dict[str, Any]
    metrics: Path

    def charts(self, title: str = "") -> RunCharts:
        return charts(self.metrics, title=title or str(self.summary.get("backend", "run")))

    def _repr_svg_(self) -> str:
        return self.charts().svg


def run_workload(
    csv: str | Path,
    *,
    backend: str | None = None,
    out_dir: str | Path | None = None,
    every_ops: int = 1000,
    config: str | Path | None = None,
    timeout: float = 600.0,
) -> RunResult:
    """Replay ``csv`` with ``engine run-csv`` and keep its ``metrics.v1`` ticks in
    ``out_dir`` (a new temporary folder by default). Raises ``RuntimeError`` with the
    command's error envelope when it fails."""
    folder = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix="run-"))
    folder.mkdir(parents=True, exist_ok=True)
    request = RunRequest(
        csv=Path(csv),
        backend=backend,
        config=None if config is None else Path(config),
        metrics_out_dir=folder,
        metrics_every_ops=every_ops,
    )
    argv = [*engine_command(), *request.argv(folder)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"engine run-csv failed ({done.returncode}): {done.stdout.strip()}"
                           f" {done.stderr.strip()[-400:]}")
    envelope = json.loads(done.stdout.strip().splitlines()[-1])
    return RunResult(envelope.get("result", envelope), folder / "metrics.ndjson")


def generate_workload(
    path: str | Path, *, mix: str = "uniform", ops: int = 20_000, key_space: int = 5_000,
    seed: int = 1,
) -> Path:
    """Write a workload CSV with ``engine generate-csv`` (a mix the Run view offers:
    uniform, zipf, ycsb-a … ycsb-f, hotspot, adversarial); its folder is made if missing."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    argv = generate_argv(mix, ops, key_space, seed, out)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"engine generate-csv failed: {done.stdout.strip()}")
    return out
