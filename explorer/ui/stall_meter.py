"""A heartbeat timer that measures how long the GUI's event loop stalls (see
:mod:`explorer.model.stall`)."""

from __future__ import annotations

import time

from PyQt6.QtCore import QObject, Qt, QTimer

from explorer.model.stall import StallStats

__all__ = ["StallMeter"]


class StallMeter(QObject):
    """Fires every ``interval_ms`` while started; ``stats`` says how late it was."""

    def __init__(self, interval_ms: int = 5, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.interval_ms = interval_ms
        self.stats = StallStats()
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._beat)
        self._last = 0.0

    def start(self) -> None:
        self.stats = StallStats()
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _beat(self) -> None:
        now = time.perf_counter()
        self.stats.record((now - self._last) * 1000 - self.interval_ms)
        self._last = now
