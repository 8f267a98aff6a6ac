"""The map's settings: backend, hash, capacity, max load factor, deletion mode, groups,
and the adaptive map's migration batch."""

from __future__ import annotations

from typing import Any

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QWidget,
)

from engine.maps.options import AdaptiveSpec
from explorer.model.map_config import MapConfig

__all__ = ["ConfigPanel"]

BACKEND_LABELS = {
    "robinhood": "Robin Hood (open addressing)",
    "chaining": "Two-level chaining",
    "adaptive": "Adaptive (migrates)",
}


DEFAULT_BATCH = AdaptiveSpec().migration_batch


class ConfigPanel(QWidget):
    """Emits ``apply_requested`` with the chosen fields (validated by the window)."""

    apply_requested = pyqtSignal(dict)
    _extra: dict[str, Any] = {}  # noqa: RUF012 (replaced, never mutated)
    _extra_backend = ""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(6, 6, 6, 6)
        grid.setVerticalSpacing(5)
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
        self.groups = QSpinBox()
        self.groups.setRange(1, 64)
        self.groups.setValue(4)
        self.groups.setToolTip("Groups per chaining bucket (chaining and adaptive maps)")
        self.batch = QSpinBox()
        self.batch.setRange(0, 1 << 20)
        self.batch.setSpecialValueText("default")
        self.batch.setToolTip(
            "Migration batch (adaptive map): at most this many entries move per operation "
            "while it migrates "
            f"(0 = the engine's default, {DEFAULT_BATCH})"
        )
        self.hash = QComboBox()
        self.hash.addItem("crc32 (unseeded CRC-32)", "crc32")
        self.hash.addItem("fast (scrambled CRC-32, v1)", "fast")
        self.hash.addItem("keyed (seeded BLAKE2b)", "keyed")
        rows: tuple[tuple[tuple[str, QWidget], ...], ...] = (
            (("backend", self.backend),),
            (("hash", self.hash),),
            (("capacity", self.capacity), ("max load", self.max_load)),
            (("deletion", self.deletion), ("groups", self.groups)),
        )
        for row, pairs in enumerate(rows):
            for column, (label, widget) in enumerate(pairs):
                grid.addWidget(QLabel(label), row, column * 2)
                span = 3 if len(pairs) == 1 else 1
                grid.addWidget(widget, row, column * 2 + 1, 1, span)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        apply = QPushButton("Apply (starts over)")
        apply.clicked.connect(lambda: self.apply_requested.emit(self.fields()))
        grid.addWidget(QLabel("batch"), len(rows), 0)
        grid.addWidget(self.batch, len(rows), 1)
        grid.addWidget(apply, len(rows), 2, 1, 2)
        self.backend.currentIndexChanged.connect(self._enable_for_backend)
        self._enable_for_backend()

    def _enable_for_backend(self) -> None:
        """Only the settings the chosen backend has are editable."""
        backend = self.backend.currentData()
        self.groups.setEnabled(backend in ("chaining", "adaptive"))
        self.deletion.setEnabled(backend in ("robinhood", "adaptive"))
        self.batch.setEnabled(backend == "adaptive")

    def fields(self) -> dict[str, Any]:
        load = self.max_load.value()
        fields: dict[str, Any] = {
            "backend": self.backend.currentData(),
            "capacity": self.capacity.value(),
            "max_load_factor": None if load == 0.0 else load,
            "deletion": self.deletion.currentText(),
            "hash": self.hash.currentData(),
            "groups": self.groups.value(),
        }
        backend = fields["backend"]
        # the shown map's other engine options (a demo's guardrails) stay for its backend
        extra = dict(self._extra) if backend == self._extra_backend else {}
        extra.pop("migration_batch", None)
        if backend == "adaptive" and self.batch.value():
            extra["migration_batch"] = self.batch.value()
        if extra:
            fields["extra"] = extra
        return fields

    def show_config(self, config: MapConfig) -> None:
        """Reflect ``config`` in the controls (after a demo or a reset)."""
        self.backend.setCurrentIndex(self.backend.findData(config.backend))
        self.capacity.setValue(config.capacity)
        self.max_load.setValue(config.max_load_factor or 0.0)
        self.deletion.setCurrentText(config.deletion)
        self.hash.setCurrentIndex(self.hash.findData(config.hash))
        self.groups.setValue(config.groups)
        self.batch.setValue(int(config.extra.get("migration_batch", 0)))
        self._extra = dict(config.extra)
        self._extra_backend = config.backend
