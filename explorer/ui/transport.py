"""Transport controls: step and operation buttons, play/pause, speed, timeline."""

from __future__ import annotations

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QVBoxLayout, QWidget

from explorer.ui.palette import Palette
from explorer.ui.timeline_bar import TimelineBar

__all__ = ["SPEEDS", "TransportBar"]

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)


class TransportBar(QWidget):
    """Buttons emit ``action`` with a name: start, op_back, step_back, play, step_forward,
    op_forward, end. The speed slider emits ``speed_changed`` (a multiplier)."""

    action = pyqtSignal(str)
    speed_changed = pyqtSignal(float)

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
        self.position = QLabel()
        self.position.setObjectName("position")
        row.addWidget(self.position)
        outer.addLayout(row)
        lower = QHBoxLayout()
        self.timeline = TimelineBar(palette)
        lower.addWidget(self.timeline, 1)
        lower.addWidget(QLabel("speed"))
        self.speed = QSlider(Qt.Orientation.Horizontal)
        self.speed.setRange(0, len(SPEEDS) - 1)
        self.speed.setValue(SPEEDS.index(1.0))
        self.speed.setFixedWidth(110)
        self.speed.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.speed.setToolTip("Playback speed ([ slower, ] faster)")
        self.speed_label = QLabel("1x")
        self.speed_label.setMinimumWidth(42)
        self.speed.valueChanged.connect(self._speed_moved)
        lower.addWidget(self.speed)
        lower.addWidget(self.speed_label)
        outer.addLayout(lower)

    @property
    def speed_value(self) -> float:
        return SPEEDS[self.speed.value()]

    def _speed_moved(self, index: int) -> None:
        value = SPEEDS[index]
        self.speed_label.setText(f"{value:g}x")
        self.speed_changed.emit(value)

    def nudge_speed(self, delta: int) -> None:
        self.speed.setValue(max(0, min(len(SPEEDS) - 1, self.speed.value() + delta)))

    def set_playing(self, playing: bool) -> None:
        self.buttons["play"].setText("\u25a0 Pause" if playing else "\u25b6 Play")
