"""The Run view's live charts (pyqtgraph), drawn from a :class:`RunSeries`.

Throughput, latency p50/p90/p99 of the chosen operation type, load factor, longest
probe or group chain, tombstone ratio, and the current probe-length histogram. Every
line chart shows the run's structural events as markers along its bottom edge, with a
read-out on hover. Clicking a marker, or any point of the throughput chart, emits
:attr:`RunCharts.jump_requested` with that operation (1-based: the one that caused the
event, or the one after the point clicked). Lines are clipped to the view and
downsampled by pyqtgraph (peak mode); the series themselves are bounded (see
:mod:`explorer.model.run_series`), so a 10M-operation run draws as fast as a short one.
"""

from __future__ import annotations

import pyqtgraph as pg
from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from explorer.model.run_series import RunSeries
from explorer.ui.palette import Palette

__all__ = ["RunCharts"]

_MARKER_SYMBOLS = {
    "resize": "t1",
    "migration start": "s",
    "migration end": "d",
    "compaction": "o",
    "guardrail alert": "star",
}
_PERCENTILE_STYLES = {"p50": "dot", "p90": "dash", "p99": "solid"}  # p99 the plainest to read


class RunCharts(QWidget):
    """Line charts of one run, and the probe histogram of its latest tick."""

    jump_requested = pyqtSignal(int)

    def __init__(self, palette: Palette, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.colours = palette
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.readout = QLabel("hover a chart for values; click a marker to step through it")
        self.readout.setObjectName("subtitle")
        row.addWidget(self.readout, 1)
        row.addWidget(QLabel("latency of"))
        self.latency_op = QComboBox()
        self.latency_op.addItems(["overall", "get", "put", "del"])
        self.latency_op.currentTextChanged.connect(lambda _: self.redraw())
        row.addWidget(self.latency_op)
        layout.addLayout(row)
        self.graphics = pg.GraphicsLayoutWidget()
        layout.addWidget(self.graphics, 1)
        self.plots: dict[str, pg.PlotItem] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.marker_items: dict[str, pg.ScatterPlotItem] = {}
        titles = (
            ("throughput", "throughput (ops/s)"),
            ("latency", "latency (µs)"),
            ("load_factor", "load factor"),
            ("max_probe", "longest probe / chain"),
            ("tombstone_ratio", "tombstone ratio"),
        )
        for index, (name, title) in enumerate(titles):
            plot = self.graphics.addPlot(row=index // 2, col=index % 2, title=title)
            plot.setClipToView(True)
            plot.setDownsampling(auto=True, mode="peak")
            # no grid: it doubles the cost of painting the charts
            plot.setMenuEnabled(False)
            plot.setLabel("bottom", "operations")
            self.plots[name] = plot
            markers = pg.ScatterPlotItem(size=12, hoverable=True, tip=None)
            markers.sigClicked.connect(self._marker_clicked)
            markers.sigHovered.connect(self._marker_hovered)
            plot.addItem(markers)
            self.marker_items[name] = markers
            if name == "latency":
                for pct in _PERCENTILE_STYLES:
                    self.curves[f"latency.{pct}"] = plot.plot(name=pct)
                plot.addLegend(offset=(-10, 10))
            else:
                self.curves[name] = plot.plot()
        self.histogram = self.graphics.addPlot(row=2, col=1, title="probe lengths now")
        self.histogram.setMenuEnabled(False)
        self.histogram.setLabel("bottom", "probes")
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.8)
        self.histogram.addItem(self.bars)
        self.plots["throughput"].scene().sigMouseClicked.connect(self._scene_clicked)
        self.plots["throughput"].scene().sigMouseMoved.connect(self._hovered)
        self.series: RunSeries | None = None
        self._markers_drawn: tuple[int, int, str] | None = None
        self.overlays: list[tuple[RunSeries, pg.PlotDataItem]] = []
        self.set_palette(palette)

    def set_palette(self, palette: Palette) -> None:
        self.colours = palette
        self._markers_drawn = None
        self.graphics.setBackground(palette.surface)
        colours = {
            "throughput": palette.home,
            "load_factor": palette.placed,
            "max_probe": palette.probe,
            "tombstone_ratio": palette.removed,
        }
        for name, colour in colours.items():
            self.curves[name].setPen(pg.mkPen(colour, width=1))
        styles = {"dot": Qt.PenStyle.DotLine, "dash": Qt.PenStyle.DashLine,
                  "solid": Qt.PenStyle.SolidLine}
        for pct, style in _PERCENTILE_STYLES.items():
            # width 1: wider lines are several times slower in Qt's raster engine
            self.curves[f"latency.{pct}"].setPen(pg.mkPen(palette.displaced, style=styles[style]))
        self.bars.setOpts(brush=pg.mkBrush(palette.home), pen=pg.mkPen(palette.home))
        for plot in [*self.plots.values(), self.histogram]:
            for axis in ("left", "bottom"):
                plot.getAxis(axis).setPen(pg.mkPen(palette.muted))
                plot.getAxis(axis).setTextPen(pg.mkPen(palette.text))
            plot.titleLabel.setText(plot.titleLabel.text, color=palette.text)

    # ------------------------------------------------------------------ data
    def show_series(self, series: RunSeries) -> None:
        self.series = series
        self.redraw()

    def overlay(self, series: RunSeries, colour: str) -> None:
        """Draw another run's throughput over this one's (a finished run to compare)."""
        plot = self.plots["throughput"]
        if plot.legend is None:
            legend = plot.addLegend(offset=(-10, 10))
            legend.addItem(self.curves["throughput"], "this run")
        curve = plot.plot(series.ops, series.throughput, pen=pg.mkPen(colour), name=series.label)
        self.overlays.append((series, curve))

    def clear_overlays(self) -> None:
        for _, curve in self.overlays:
            self.plots["throughput"].removeItem(curve)
        self.overlays.clear()

    def redraw(self) -> None:
        """Redraw every chart from the series. O(points + markers)."""
        s = self.series
        if s is None:
            return
        for name in ("throughput", "load_factor", "max_probe", "tombstone_ratio"):
            self.curves[name].setData(s.ops, getattr(s, name))
        op = self.latency_op.currentText()
        for pct in _PERCENTILE_STYLES:
            self.curves[f"latency.{pct}"].setData(s.ops, s.latency_us[f"{op}.{pct}"])
        self._draw_markers(s, op)
        if s.probe_hist:
            xs, heights = zip(*s.probe_hist, strict=True)
            self.bars.setOpts(x=list(xs), height=list(heights))

    def _draw_markers(self, s: RunSeries, op: str) -> None:
        """Markers are rebuilt only when there are new ones (or another latency op)."""
        key = (id(s), len(s.markers), op)
        if key == self._markers_drawn:
            return
        self._markers_drawn = key
        brushes = {
            "resize": self.colours.probe,
            "migration start": self.colours.moved,
            "migration end": self.colours.placed,
            "compaction": self.colours.removed,
            "guardrail alert": self.colours.error,
        }
        for name, item in self.marker_items.items():
            values = s.latency_us[f"{op}.p50"] if name == "latency" else getattr(s, name)
            floor = min(values) if values else 0.0
            item.setData(
                [
                    {
                        "pos": (m.op, floor),
                        "data": m,
                        "symbol": _MARKER_SYMBOLS.get(m.kind, "o"),
                        "brush": pg.mkBrush(brushes.get(m.kind, self.colours.text)),
                        "pen": pg.mkPen(self.colours.text),
                    }
                    for m in s.markers
                ]
            )

    # ------------------------------------------------------------------ interaction
    def _marker_clicked(self, item: object, points: list[pg.SpotItem], ev: object) -> None:
        if points:  # the operation that caused the event (1-based)
            self.jump_requested.emit(points[0].data().op + 1)

    def _marker_hovered(self, item: object, points: list[pg.SpotItem], ev: object) -> None:
        if len(points):
            self.readout.setText(points[0].data().text)

    def _scene_clicked(self, event: object) -> None:
        plot = self.plots["throughput"]
        pos = event.scenePos()  # type: ignore[attr-defined]
        if self.series is None or not plot.sceneBoundingRect().contains(pos):
            return
        op = plot.vb.mapSceneToView(pos).x()
        if self.series.ops and 0 <= op <= self.series.ops[-1]:
            self.jump_requested.emit(int(op) + 1)  # the next operation at that point

    def _hovered(self, pos: object) -> None:
        s = self.series
        if s is None or not s.ops:
            return
        for name, plot in self.plots.items():
            if plot.sceneBoundingRect().contains(pos):
                op = plot.vb.mapSceneToView(pos).x()
                key = f"{self.latency_op.currentText()}.p99" if name == "latency" else name
                value = s.value_at(key, op)
                if value is not None:
                    label = name.replace("_", " ")
                    self.readout.setText(f"{label} at op {int(op):,}: {value:,.3g}")
                return
