"""Small dialogs of the Run view: generate a workload, or watch a run started elsewhere."""

from __future__ import annotations

import tempfile
from pathlib import Path

from PyQt6.QtGui import QFont
from PyQt6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.errors import EngineError
from explorer.model.run_sources import MIXES

__all__ = ["GenerateDialog", "SettingsDialog", "WatchDialog"]


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
        self.outfile.setMinimumWidth(360)  # the whole path stays readable
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
        self.source.setMinimumWidth(360)
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


class SettingsDialog(QDialog):
    """Edit the run's settings as the engine's TOML file (every setting, documented in
    docs/config.md), checked by the CLI's own pydantic models before it is kept."""

    def __init__(self, text: str, target: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings of the run")
        self.target = target
        layout = QVBoxLayout(self)
        note = QLabel(f"engine settings (as engine config init writes them), saved to {target}")
        note.setWordWrap(True)
        layout.addWidget(note)
        self.editor = QPlainTextEdit(text)
        self.editor.setFont(QFont("DejaVu Sans Mono"))
        self.editor.setMinimumSize(520, 360)
        layout.addWidget(self.editor, 1)
        self.problem = QLabel()
        self.problem.setObjectName("error")
        self.problem.setWordWrap(True)
        self.problem.hide()
        layout.addWidget(self.problem)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.check_and_accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def check_and_accept(self) -> None:
        """Validate the text as the CLI would; keep the dialog open with the message if
        it is wrong, else write it (atomically) and close."""
        from engine.settings.models import load_settings
        from engine.store.atomic import atomic_write_text

        text = self.editor.toPlainText()
        try:
            atomic_write_text(self.target.with_suffix(".check.toml"), text)
            load_settings(self.target.with_suffix(".check.toml"), environ={})
            atomic_write_text(self.target, text)
        except EngineError as exc:
            self.problem.setText(exc.detail)
            self.problem.show()
            return
        finally:
            self.target.with_suffix(".check.toml").unlink(missing_ok=True)
        self.accept()
