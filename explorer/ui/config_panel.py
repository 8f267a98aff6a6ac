"""The map's settings: backend, capacity, max load factor, deletion mode, hash."""

from __future__ import annotations

from typing import Any

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QPushButton,
    QSpinBox,
    QWidget,
)

from explorer.model.map_config import MapConfig

__all__ = ["ConfigPanel"]

BACKEND_LABELS = {
    "robinhood": "Robin Hood (open addressing)",
    "chaining": "Two-level chaining",
    "adaptive": "Adaptive (migrates)",
}


class ConfigPanel(QWidget):
    """Emits ``apply_requested`` with the chosen fields (validated by the window)."""

    apply_requested = pyqtSignal(dict)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        self.backend = QComboBox()
        for name, label in BACKEND_LABELS.items():
            self.backend.addItem(label, name)
        self.capacity = QSpinBox()
        self.capacity.setRange(1, 1024)
        self.capacity.setValue(16)
        self.capacity.setToolTip("Initial slots (Robin Hood) or buckets (chaining)")
        self.max_load = QDoubleSpinBox()
        self.max_load.setRange(0.0, 8.0)
        self.max_load.setSingleStep(0.05)
        self.max_load.setDecimals(2)
        self.max_load.setSpecialValueText("default")
        self.max_load.setToolTip("Grow when the load passes this (0 = the backend's default)")
        self.deletion = QComboBox()
        self.deletion.addItems(["backshift", "tombstone"])
        self.hash = QComboBox()
        self.hash.addItem("crc32 (unseeded CRC-32)", "crc32")
        self.hash.addItem("fast (scrambled CRC-32, v1)", "fast")
        self.hash.addItem("keyed (seeded BLAKE2b)", "keyed")
        form.addRow("backend", self.backend)
        form.addRow("capacity", self.capacity)
        form.addRow("max load", self.max_load)
        form.addRow("deletion", self.deletion)
        form.addRow("hash", self.hash)
        apply = QPushButton("Apply (starts over)")
        apply.clicked.connect(lambda: self.apply_requested.emit(self.fields()))
        form.addRow(apply)

    def fields(self) -> dict[str, Any]:
        load = self.max_load.value()
        return {
            "backend": self.backend.currentData(),
            "capacity": self.capacity.value(),
            "max_load_factor": None if load == 0.0 else load,
            "deletion": self.deletion.currentText(),
            "hash": self.hash.currentData(),
        }

    def show_config(self, config: MapConfig) -> None:
        """Reflect ``config`` in the controls (after a demo or a reset)."""
        self.backend.setCurrentIndex(self.backend.findData(config.backend))
        self.capacity.setValue(config.capacity)
        self.max_load.setValue(config.max_load_factor or 0.0)
        self.deletion.setCurrentText(config.deletion)
        self.hash.setCurrentIndex(self.hash.findData(config.hash))
