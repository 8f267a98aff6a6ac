"""Live figures of the state on screen and its probe-length histogram (pyqtgraph)."""

from __future__ import annotations

import pyqtgraph as pg
from PyQt6.QtGui import QResizeEvent
from PyQt6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from explorer.model.table_stats import TableFigures
from explorer.ui.palette import Palette

__all__ = ["StatsPanel"]

LABELLED_HEIGHT = 84  # pixels: the plot's height at which its axis titles fit


def _nice_step(top: int, ticks: int = 4) -> int:
    """A whole tick step of 1, 2 or 5 times a power of ten giving about ``ticks`` ticks."""
    raw = max(1.0, top / ticks)
    power = 10 ** (len(str(int(raw))) - 1)
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return factor * power
    return 10 * power


class StatsPanel(QWidget):
    def __init__(self, palette: Palette, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        grid = QGridLayout()
        self.values: dict[str, QLabel] = {}
        for row, (name, label) in enumerate(
            (
                ("size", "entries"),
                ("capacity", "capacity"),
                ("load_factor", "load factor"),
                ("tombstones", "tombstones"),
                ("average_probe", "avg probes per hit"),
            )
        ):
            caption = QLabel(label)
            caption.setObjectName("subtitle")
            value = QLabel("-")
            value.setObjectName("figure")
            grid.addWidget(caption, row // 2, (row % 2) * 2)
            grid.addWidget(value, row // 2, (row % 2) * 2 + 1)
            self.values[name] = value
        layout.addLayout(grid)
        self.plot = pg.PlotWidget()
        # on a short screen the plot gives way to the narration: below LABELLED_HEIGHT it
        # drops its axis titles (they would overlap the ticks), the tooltip keeps them
        self.plot.setMinimumHeight(56)
        self.plot.setToolTip("How many entries are found after 1, 2, 3 ... probes")
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.setLabel("bottom", "probes to find an entry")
        self.plot.setLabel("left", "entries")
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.7)
        self.plot.addItem(self.bars)
        layout.addWidget(self.plot, 1)
        self.set_palette(palette)
        self.figures: TableFigures | None = None

    def resizeEvent(self, event: QResizeEvent | None) -> None:
        super().resizeEvent(event)
        labelled = self.plot.height() >= LABELLED_HEIGHT
        for axis in ("bottom", "left"):
            self.plot.getAxis(axis).showLabel(labelled)
        self._set_y_ticks()

    def set_palette(self, palette: Palette) -> None:
        self.colours = palette
        self.plot.setBackground(palette.surface)
        for axis in ("bottom", "left"):
            item = self.plot.getAxis(axis)
            item.setPen(pg.mkPen(palette.muted))
            item.setTextPen(pg.mkPen(palette.text))
        self.bars.setOpts(brush=pg.mkBrush(palette.home), pen=pg.mkPen(palette.home))

    def show_figures(self, figures: TableFigures) -> None:
        if figures == self.figures:
            return
        self.figures = figures
        self.values["size"].setText(str(figures.size))
        self.values["capacity"].setText(figures.capacity_text)
        self.values["capacity"].setToolTip(
            "source + target: a migration shows both tables" if len(figures.capacities) > 1
            else ""
        )
        self.values["load_factor"].setText(f"{figures.load_factor:.2f}")
        self.values["tombstones"].setText(str(figures.tombstones))
        self.values["average_probe"].setText(f"{figures.average_probe:.2f}")
        xs = list(range(1, len(figures.probe_histogram) + 1))
        self.bars.setOpts(x=xs, height=list(figures.probe_histogram), width=0.7)
        self.plot.setXRange(0.4, max(4, len(xs)) + 0.6, padding=0)
        # probe counts are whole numbers: a tick at each (or every few), never at 1.5
        step = max(1, (len(xs) + 9) // 10)
        ticks = [(x, str(x)) for x in range(1, max(4, len(xs)) + 1, step)]
        self.plot.getAxis("bottom").setTicks([ticks])
        self._set_y_ticks()

    def _set_y_ticks(self) -> None:
        """Whole-number ticks on the entries axis: about four, or on a short plot only 0
        and the tallest bar's count (a rounded step there could leave 0 alone)."""
        figures = self.figures
        if figures is None:
            return
        top = max([1, *figures.probe_histogram])  # entries are whole numbers too
        if self.plot.height() >= LABELLED_HEIGHT:
            values = list(range(0, top + 1, _nice_step(top)))
        else:
            values = [0, top]
        self.plot.getAxis("left").setTicks([[(y, str(y)) for y in values]])
        self.plot.setYRange(0, max([1, *figures.probe_histogram]) * 1.15, padding=0)
