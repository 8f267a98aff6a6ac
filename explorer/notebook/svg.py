"""Small building blocks for self-contained SVG: escaping, elision, text wrapping, and a
document wrapper.

Everything drawn here uses presentation attributes only (no ``<style>``, no script), so a
picture looks the same inlined in a notebook page, in nbconvert's HTML and in GitHub's
notebook viewer, and cannot restyle the page around it. Text is escaped for XML and
characters XML cannot hold (control characters, lone surrogates) are shown as ``\\uXXXX``.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = [
    "COLOURS",
    "FONT",
    "MONO",
    "Drawing",
    "clean",
    "document",
    "elide",
    "esc",
    "text_width",
    "wrap",
]

FONT = "DejaVu Sans, Verdana, Arial, sans-serif"
MONO = "DejaVu Sans Mono, Menlo, Consolas, monospace"

#: The explorer's light theme (Okabe-Ito marks, readable tile text).
COLOURS = {
    "window": "#f6f6f3",
    "surface": "#ffffff",
    "text": "#1b1b1b",
    "muted": "#5c5f66",
    "grid": "#c9ccd1",
    "empty": "#eceef1",
    "tile": "#d6e9f8",
    "tile_text": "#10243a",
    "tombstone": "#f3d9cc",
    "home": "#0072b2",
    "probe": "#e69f00",
    "match": "#009e73",
    "mismatch": "#cc79a7",
    "placed": "#009e73",
    "displaced": "#e69f00",
    "removed": "#d55e00",
    "shifted": "#56b4e9",
    "moved": "#b8a800",
    "code_line": "#fff2cc",
}

#: mark kind (see explorer.model.frames) -> (colour name, symbol)
MARKS = {
    "visited": ("probe", "\u2022"),
    "empty": ("probe", "\u2022"),
    "match": ("match", "\u2713"),
    "mismatch": ("mismatch", "\u2717"),
    "placed": ("placed", "\u2605"),
    "updated": ("placed", "\u2605"),
    "displaced": ("displaced", "\u21c4"),
    "tombstone": ("removed", "\u2020"),
    "removed": ("removed", "\u2212"),
    "vacated": ("removed", "\u2212"),
    "shifted": ("shifted", "\u21a4"),
    "moved": ("moved", "\u2192"),
}

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}


def clean(text: str) -> str:
    """``text`` with every character XML 1.0 cannot carry written as ``\\uXXXX``."""
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def esc(text: object) -> str:
    """XML-escaped text, safe in element content and in quoted attributes."""
    return "".join(_ESCAPES.get(c, c) for c in clean(str(text)))


def elide(text: str, limit: int) -> str:
    """``text`` cut in the middle to at most ``limit`` characters (an ellipsis marks the
    cut), so both the start and the end of a long key stay visible."""
    if len(text) <= limit:
        return text
    if limit <= 1:
        return "\u2026"
    keep = limit - 1
    head = (keep + 1) // 2
    tail = keep - head
    return text[:head] + "\u2026" + (text[-tail:] if tail else "")


def text_width(text: str, size: float, mono: bool = False) -> float:
    """An estimate of the drawn width (DejaVu Sans is about 0.6 em per character)."""
    return len(text) * size * (0.61 if mono else 0.58)


def wrap(text: str, width: float, size: float) -> list[str]:
    """``text`` broken into lines that fit ``width`` pixels at font ``size``."""
    chars = max(8, int(width / (size * 0.58)))
    return textwrap.wrap(text, chars) or [""]


@dataclass
class Drawing:
    """SVG elements drawn at the origin, and the box they fill."""

    width: float
    height: float
    parts: list[str] = field(default_factory=list)

    def add(self, *parts: str) -> None:
        self.parts.extend(parts)

    def place(self, other: Drawing, x: float, y: float, scale: float = 1.0) -> None:
        """Draw ``other`` with its origin at (x, y)."""
        transform = f"translate({x:g},{y:g})" + (f" scale({scale:.4g})" if scale != 1 else "")
        self.parts.append(f'<g transform="{transform}">')
        self.parts.extend(other.parts)
        self.parts.append("</g>")

    def text(
        self,
        x: float,
        y: float,
        content: str,
        size: float = 12,
        *,
        fill: str = COLOURS["text"],
        anchor: str = "start",
        weight: str = "normal",
        mono: bool = False,
        extra: str = "",
    ) -> None:
        # The document sets the sans-serif family; only what differs is written out.
        attrs = f' font-family="{MONO}"' if mono else ""
        if anchor != "start":
            attrs += f' text-anchor="{anchor}"'
        if weight != "normal":
            attrs += f' font-weight="{weight}"'
        self.parts.append(
            f'<text x="{x:g}" y="{y:g}" font-size="{size:g}" fill="{fill}"{attrs}{extra}>'
            f"{esc(content)}</text>"
        )

    def lines(
        self,
        x: float,
        y: float,
        lines: Iterable[str],
        size: float = 12,
        gap: float = 1.35,
        **kwargs: object,
    ) -> float:
        """Draw lines of text from baseline ``y``; returns the baseline after the last."""
        for line in lines:
            self.text(x, y, line, size, **kwargs)  # type: ignore[arg-type]
            y += size * gap
        return y

    def rect(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        *,
        fill: str = "none",
        stroke: str = "none",
        width: float = 1,
        rx: float = 0,
        extra: str = "",
    ) -> None:
        attrs = f' rx="{rx:g}"' if rx else ""
        if stroke != "none":
            attrs += f' stroke="{stroke}" stroke-width="{width:g}"'
        self.parts.append(
            f'<rect x="{x:g}" y="{y:g}" width="{w:g}" height="{h:g}" fill="{fill}"{attrs}{extra}/>'
        )

    def line(
        self,
        x1: float,
        y1: float,
        x2: float,
        y2: float,
        *,
        stroke: str = COLOURS["muted"],
        width: float = 1,
        extra: str = "",
    ) -> None:
        self.parts.append(
            f'<line x1="{x1:g}" y1="{y1:g}" x2="{x2:g}" y2="{y2:g}" stroke="{stroke}" '
            f'stroke-width="{width:g}"{extra}/>'
        )


def document(drawing: Drawing, *, title: str = "", max_width: float | None = None) -> str:
    """A standalone ``<svg>`` of ``drawing`` with a white background. ``max_width``
    shrinks the displayed size (the viewBox keeps every detail)."""
    w, h = max(drawing.width, 1.0), max(drawing.height, 1.0)
    shown_w, shown_h = w, h
    if max_width is not None and w > max_width:
        shown_w, shown_h = max_width, h * max_width / w
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{shown_w:.0f}" height="{shown_h:.0f}" '
        f'viewBox="0 0 {w:g} {h:g}" font-family="{FONT}">'
    )
    parts = [head]
    if title:
        parts.append(f"<title>{esc(title)}</title>")
    parts.append(f'<rect width="{w:g}" height="{h:g}" fill="{COLOURS["surface"]}"/>')
    parts.extend(drawing.parts)
    parts.append("</svg>")
    return "".join(parts)
