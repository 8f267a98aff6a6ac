"""``%load_ext explorer.notebook``: every engine map displays as its picture.

The extension registers an ``image/svg+xml`` formatter for :class:`engine.BaseMap`
(the three maps and their subclasses), so a map that is a cell's last expression is drawn
instead of printed. ``%unload_ext explorer.notebook`` takes the formatter away again.
"""

from __future__ import annotations

from typing import Any

from engine import BaseMap

__all__ = ["load_ipython_extension", "map_svg", "unload_ipython_extension"]

_MIME = "image/svg+xml"


def map_svg(mapping: BaseMap) -> str:
    from explorer.notebook.views import map_picture

    return map_picture(mapping).svg


def load_ipython_extension(ipython: Any) -> None:
    formatter = ipython.display_formatter.formatters[_MIME]
    formatter.for_type(BaseMap, map_svg)


def unload_ipython_extension(ipython: Any) -> None:
    formatter = ipython.display_formatter.formatters[_MIME]
    formatter.pop(BaseMap, None)
