"""Operation input: the operation line, per-operation buttons, random fill, CSV loading."""

from __future__ import annotations

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from explorer.model.sources import MAX_FILL

__all__ = ["InputPanel"]


class InputPanel(QWidget):
    """Emits ``command`` (an operation line), ``fill_requested(count, adversarial)`` and
    ``load_requested`` (the window asks for a file)."""

    command = pyqtSignal(str)
    fill_requested = pyqtSignal(int, int)
    load_requested = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(5)
        line = QHBoxLayout()
        self.line = QLineEdit()
        self.line.setObjectName("command")
        self.line.setPlaceholderText("put apple 1   |   get apple   |   del apple")
        self.line.setToolTip("Type an operation and press Enter (Ctrl+L to focus)")
        self.line.returnPressed.connect(self._submit_line)
        run = QPushButton("Run")
        run.setObjectName("primary")
        run.clicked.connect(self._submit_line)
        line.addWidget(self.line, 1)
        line.addWidget(run)
        layout.addLayout(line)

        fields = QGridLayout()
        self.key = QLineEdit()
        self.key.setPlaceholderText("key")
        self.value = QLineEdit()
        self.value.setPlaceholderText("value")
        fields.addWidget(self.key, 0, 0)
        fields.addWidget(self.value, 0, 1)
        self.op_buttons: dict[str, QPushButton] = {}
        for op in ("put", "get", "del", "compact"):
            button = QPushButton(op)
            button.clicked.connect(lambda _c=False, name=op: self._submit_fields(name))
            self.op_buttons[op] = button
        buttons = QHBoxLayout()
        for button in self.op_buttons.values():
            buttons.addWidget(button)
        layout.addLayout(fields)
        layout.addLayout(buttons)

        fill = QHBoxLayout()
        fill.addWidget(QLabel("random fill"))
        self.fill_count = QSpinBox()
        self.fill_count.setRange(1, MAX_FILL)
        self.fill_count.setValue(8)
        self.fill_count.setToolTip("How many random keys to insert")
        self.fill_adversarial = QSpinBox()
        self.fill_adversarial.setRange(0, MAX_FILL)
        self.fill_adversarial.setToolTip(
            "How many of them are crafted to share a home slot under the crc32 or fast "
            "hash (a keyed map spreads them out)"
        )
        fill_button = QPushButton("Fill")
        fill_button.clicked.connect(
            lambda: self.fill_requested.emit(self.fill_count.value(), self.fill_adversarial.value())
        )
        fill.addWidget(self.fill_count)
        fill.addWidget(QLabel("crafted"))
        fill.addWidget(self.fill_adversarial)
        fill.addWidget(fill_button)
        layout.addLayout(fill)
        load = QPushButton("Load workload CSV\u2026")
        load.setToolTip("Play back a small workload file (op,key,value; up to 5,000 rows)")
        load.clicked.connect(self.load_requested.emit)
        layout.addWidget(load)

    def _submit_line(self) -> None:
        text = self.line.text()
        self.command.emit(text)

    def _submit_fields(self, op: str) -> None:
        key = self.key.text()
        if op == "compact":
            self.command.emit("compact")
        elif op == "put":
            self.command.emit(_join(op, key, self.value.text()))
        else:
            self.command.emit(_join(op, key))


def _join(*words: str) -> str:
    """Quote the words so the operation parser reads them back unchanged."""
    import shlex

    return " ".join(shlex.quote(w) if w else "''" for w in words)
