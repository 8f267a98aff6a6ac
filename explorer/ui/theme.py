"""Applying a theme: the Qt palette, the style sheet from ``resources/styles``."""

from __future__ import annotations

import re
from string import Template

from PyQt6.QtGui import QColor, QPalette
from PyQt6.QtWidgets import QApplication

from explorer.resources import resource_path
from explorer.ui.palette import THEMES, Palette

__all__ = ["apply_theme", "style_sheet"]


def style_sheet(palette: Palette, text_scale: float = 1.0) -> str:
    """The explorer's style sheet with the palette's colours filled in, and every font
    size multiplied by ``text_scale`` (presenter mode, Ctrl +/-)."""
    template = Template(resource_path("styles", "explorer.qss").read_text(encoding="utf-8"))
    sheet = template.substitute(vars(palette))
    if text_scale == 1.0:
        return sheet
    return re.sub(
        r"(\d+(?:\.\d+)?)pt", lambda m: f"{float(m.group(1)) * text_scale:.1f}pt", sheet
    )


def apply_theme(app: QApplication, name: str, text_scale: float = 1.0) -> Palette:
    """Switch the whole application to theme ``name`` (light or dark), its text at
    ``text_scale`` times the usual size."""
    palette = THEMES[name]
    qt = QPalette()
    for role, colour in (
        (QPalette.ColorRole.Window, palette.window),
        (QPalette.ColorRole.Base, palette.surface),
        (QPalette.ColorRole.AlternateBase, palette.slot_empty),
        (QPalette.ColorRole.Text, palette.text),
        (QPalette.ColorRole.WindowText, palette.text),
        (QPalette.ColorRole.ButtonText, palette.text),
        (QPalette.ColorRole.Button, palette.surface),
        (QPalette.ColorRole.Highlight, palette.home),
        (QPalette.ColorRole.HighlightedText, "#ffffff"),
        (QPalette.ColorRole.ToolTipBase, palette.surface),
        (QPalette.ColorRole.ToolTipText, palette.text),
        (QPalette.ColorRole.PlaceholderText, palette.muted),
    ):
        qt.setColor(role, QColor(colour))
    app.setPalette(qt)
    app.setStyleSheet(style_sheet(palette, text_scale))
    return palette
