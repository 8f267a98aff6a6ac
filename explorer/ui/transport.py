"""Transport controls: step and operation buttons, play/pause, speed, timeline."""

from __future__ import annotations

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from explorer.ui.palette import Palette
from explorer.ui.timeline_bar import TimelineBar

__all__ = ["OPS_SPEEDS", "SPEEDS", "TransportBar"]

#: micro-steps at these multiples of the base pace, animated
SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
#: then whole operations per second, without animation (for real workloads)
OPS_SPEEDS = (10, 100, 1_000, 10_000)
_LABELS = [f"{s:g}x" for s in SPEEDS] + [f"{n:,} ops/s" for n in OPS_SPEEDS]


class TransportBar(QWidget):
    """Buttons emit ``action`` with a name: start, op_back, step_back, play, step_forward,
    op_forward, end. The speed slider emits ``speed_changed`` (a multiplier)."""

    action = pyqtSignal(str)
    speed_changed = pyqtSignal(float)
    goto_requested = pyqtSignal(int)  # a 0-based operation index

    BUTTONS = (
        ("start", "|\u25c0", "Back to the first operation (Home)"),
        ("op_back", "\u25c0\u25c0", "Previous operation (Page Up / Shift+Left)"),
        ("step_back", "\u25c0 Step", "Previous micro-step (Left)"),
        ("play", "\u25b6 Play", "Play / pause (Space)"),
        ("step_forward", "Step \u25b6", "Next micro-step (Right)"),
        ("op_forward", "\u25b6\u25b6", "Next operation (Page Down / Shift+Right)"),
        ("end", "\u25b6|", "To the end (End)"),
    )

    def __init__(self, palette: Palette, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 2, 4, 2)
        row = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for name, text, tip in self.BUTTONS:
            button = QPushButton(text)
            button.setToolTip(tip)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.clicked.connect(lambda _checked=False, n=name: self.action.emit(n))
            row.addWidget(button)
            self.buttons[name] = button
        self.buttons["play"].setObjectName("primary")
        self.buttons["play"].setMinimumWidth(92)
        for name in ("start", "op_back", "op_forward", "end"):
            self.buttons[name].setMaximumWidth(52)
        row.addStretch(1)
        self.position = QLabel()  # the position as text (the box below shows it)
        self.position.setObjectName("position")
        self.position.hide()
        self.goto = QSpinBox()
        self.goto.setObjectName("position")
        self.goto.setRange(1, 1)
        self.goto.setPrefix("op ")
        self.goto.setKeyboardTracking(False)  # seek on Enter or arrows, not every digit
        self.goto.setToolTip("The operation on screen; type another and Enter to go there (Ctrl+G)")
        self.goto.setButtonSymbols(QSpinBox.ButtonSymbols.NoButtons)
        self.goto.setMaximumWidth(124)  # "op 4,096/5,000" fits; the window keeps 1024 px
        self.goto.valueChanged.connect(lambda n: self.goto_requested.emit(n - 1))
        row.addWidget(self.goto)
        outer.addLayout(row)
        lower = QHBoxLayout()
        self.timeline = TimelineBar(palette)
        lower.addWidget(self.timeline, 1)
        lower.addWidget(QLabel("speed"))
        self.speed = QSlider(Qt.Orientation.Horizontal)
        self.speed.setRange(0, len(_LABELS) - 1)
        self.speed.setValue(SPEEDS.index(1.0))
        self.speed.setFixedWidth(110)
        self.speed.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.speed.setToolTip("Playback speed ([ slower, ] faster)")
        self.speed_label = QLabel("1x")
        self.speed_label.setMinimumWidth(82)
        self.speed.valueChanged.connect(self._speed_moved)
        lower.addWidget(self.speed)
        lower.addWidget(self.speed_label)
        outer.addLayout(lower)

    @property
    def speed_value(self) -> float:
        """The micro-step pace (a multiple); the fastest one while in operations mode."""
        return SPEEDS[min(self.speed.value(), len(SPEEDS) - 1)]

    @property
    def ops_per_second(self) -> int | None:
        """Whole operations a second, without animation; None in micro-step mode."""
        index = self.speed.value() - len(SPEEDS)
        return OPS_SPEEDS[index] if index >= 0 else None

    def _speed_moved(self, index: int) -> None:
        self.speed_label.setText(_LABELS[index])
        self.speed_changed.emit(self.speed_value)

    def nudge_speed(self, delta: int) -> None:
        self.speed.setValue(max(0, min(len(_LABELS) - 1, self.speed.value() + delta)))

    def focus_goto(self) -> None:
        self.goto.setFocus()
        self.goto.selectAll()

    def set_length(self, count: int, current: int) -> None:
        """The go-to box's range (operations 1..count) and value, without seeking."""
        self.goto.blockSignals(True)
        self.goto.setSuffix(f"/{count:,}")
        self.goto.setRange(1, max(1, count))
        self.goto.setValue(min(max(1, current + 1), max(1, count)))
        self.goto.blockSignals(False)

    def set_playing(self, playing: bool) -> None:
        self.buttons["play"].setText("\u25a0 Pause" if playing else "\u25b6 Play")
