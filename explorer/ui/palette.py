"""Colours of the light and dark themes.

The mark colours come from the Okabe-Ito set, which stays distinguishable for the common
forms of colour blindness; every mark also has a text or shape cue, so no state is told by
colour alone. Text on tiles keeps a contrast ratio of at least 4.5:1 in both themes.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DARK", "LIGHT", "THEMES", "Palette"]


@dataclass(frozen=True)
class Palette:
    name: str
    window: str
    surface: str
    text: str
    muted: str
    grid: str
    slot_empty: str
    tile: str
    tile_text: str
    tombstone: str
    home: str
    probe: str
    match: str
    mismatch: str
    placed: str
    displaced: str
    removed: str
    shifted: str
    moved: str
    cursor: str
    error: str

    def mark(self, kind: str) -> str:
        """The colour of a mark kind (see :mod:`explorer.model.frames`)."""
        return {
            "visited": self.probe,
            "empty": self.probe,
            "match": self.match,
            "mismatch": self.mismatch,
            "placed": self.placed,
            "updated": self.placed,
            "displaced": self.displaced,
            "tombstone": self.removed,
            "removed": self.removed,
            "vacated": self.removed,
            "shifted": self.shifted,
            "moved": self.moved,
        }.get(kind, self.probe)


LIGHT = Palette(
    name="light",
    window="#f6f6f3",
    surface="#ffffff",
    text="#1b1b1b",
    muted="#5c5f66",
    grid="#c9ccd1",
    slot_empty="#eceef1",
    tile="#d6e9f8",
    tile_text="#10243a",
    tombstone="#f3d9cc",
    home="#0072b2",
    probe="#e69f00",
    match="#009e73",
    mismatch="#cc79a7",
    placed="#009e73",
    displaced="#e69f00",
    removed="#d55e00",
    shifted="#56b4e9",
    moved="#b8a800",
    cursor="#d55e00",
    error="#b3261e",
)

DARK = Palette(
    name="dark",
    window="#1d1f23",
    surface="#26292e",
    text="#f1f1f1",
    muted="#a9adb5",
    grid="#454951",
    slot_empty="#30343a",
    tile="#1f4466",
    tile_text="#eef6ff",
    tombstone="#5a3426",
    home="#56b4e9",
    probe="#e69f00",
    match="#2ec4a0",
    mismatch="#e08fc0",
    placed="#2ec4a0",
    displaced="#e69f00",
    removed="#ff7a3d",
    shifted="#56b4e9",
    moved="#f0e442",
    cursor="#ff7a3d",
    error="#ff8a80",
)

THEMES = {"light": LIGHT, "dark": DARK}
