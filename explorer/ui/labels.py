"""Short texts the window shows: the settings line and the legend of the map's marks."""

from __future__ import annotations

from explorer.model.map_config import MapConfig
from explorer.ui.palette import Palette

__all__ = ["config_label", "legend_html"]


def legend_html(palette: Palette) -> str:
    """The key to the map's symbols and colours (each mark has a symbol, not only a colour)."""
    entries = [
        (palette.home, "\u2302 home"),
        (palette.probe, "\u2022 probed"),
        (palette.match, "\u2713 match \u2605 placed"),
        (palette.mismatch, "\u2717 no match"),
        (palette.displaced, "\u21c4 swap"),
        (palette.shifted, "\u21a4 shifted"),
        (palette.removed, "\u2020 tombstone \u2212 removed"),
        (palette.moved, "\u2192 migrated"),
    ]
    spans = [f'<span style="color:{colour}">\u25a0</span> {text}' for colour, text in entries]
    return "&nbsp; ".join(spans) + "&nbsp; d<i>n</i>: distance from home (DIB)"


def config_label(config: MapConfig, capacity: str | None = None) -> str:
    """The map's settings. ``capacity``: what the table on screen really has (it grows,
    and a requested 10 is 16 slots); the requested one when not given."""
    shown = capacity if capacity is not None else str(config.capacity)
    parts = [config.backend, f"capacity {shown}"]
    if config.max_load_factor is not None:
        parts.append(f"max load {config.max_load_factor:g}")
    if config.backend != "chaining":
        parts.append(f"{config.deletion} deletes")
    parts.append(f"{config.hash} hash")
    return ", ".join(parts)


def fill_message(asked: int, added: int) -> str:
    """What a random fill did: random keys can repeat one already there (an update)."""
    if added == asked:
        return f"Inserted {asked:,} random keys"
    return (
        f"Inserted {added:,} new keys: {asked - added:,} of the {asked:,} random keys were "
        "already in the map, so those puts updated a value instead"
    )
