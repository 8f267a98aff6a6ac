"""Small dialogs of the Run view: generate a workload, or watch a run started elsewhere."""

from __future__ import annotations

import tempfile
from pathlib import Path

from PyQt6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from explorer.model.run_sources import MIXES

__all__ = ["GenerateDialog", "WatchDialog"]


class GenerateDialog(QDialog):
    """The mix, size and seed of a workload for ``engine generate-csv``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Generate a workload")
        form = QFormLayout(self)
        self.mix = QComboBox()
        self.mix.addItems(list(MIXES))
        self.ops = QSpinBox()
        self.ops.setRange(1_000, 1_000_000_000)
        self.ops.setSingleStep(100_000)
        self.ops.setValue(1_000_000)
        self.ops.setGroupSeparatorShown(True)
        self.keys = QSpinBox()
        self.keys.setRange(1, 10_000_000)
        self.keys.setValue(100_000)
        self.keys.setGroupSeparatorShown(True)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2_000_000_000)
        self.seed.setValue(1)
        self.outfile = QLineEdit(str(Path(tempfile.gettempdir()) / "explorer-workload.csv"))
        form.addRow("mix", self.mix)
        form.addRow("operations", self.ops)
        form.addRow("key space", self.keys)
        form.addRow("seed", self.seed)
        form.addRow("write to", self.outfile)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)


class WatchDialog(QDialog):
    """A ``metrics.ndjson`` file (or its folder), or an ``engine serve`` address."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Watch a run started elsewhere")
        form = QFormLayout(self)
        self.source = QLineEdit()
        self.source.setPlaceholderText("DIR/metrics.ndjson, or http://127.0.0.1:9477")
        self.token = QLineEdit()
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText("bearer token, if the server asks for one")
        form.addRow("ticks from", self.source)
        form.addRow("token", self.token)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
