"""Drawing a map's tables as SVG, from what ``layout()`` says.

* Robin Hood: one cell per slot, in rows of up to 16, numbered; an occupied slot shows
  its key, value, DIB (``d2``) and home slot (``⌂5``), a tombstone its dagger, DIB and
  home.
* Chaining: one block per bucket, one lane per group, the chain's entries as boxes linked
  by arrows.
* Adaptive: its tables one above the other, titled by role (``active``, or ``source`` and
  ``target`` during a migration, with the migration's progress).

A frame adds the step's marks (probed, matched, placed, swapped, shifted, removed…), the
home of the key being worked on and the entry carried by a Robin Hood swap. A table too
large to read cell by cell is drawn as a compact overview instead: one small square per
slot (or bucket) coloured by state and DIB (or chain length), consecutive equal squares
merged, so a 65,536-slot table stays a few hundred kilobytes.

Every cell carries ``data-*`` attributes naming what it shows (slot, state, key, DIB,
home; bucket, group, position) and a ``<title>`` with the full text, which a browser
shows as a tooltip. Qt-free.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engine.jsonsafe import decode_key
from explorer.model.frames import Frame, Loc, TableState, tables_of
from explorer.model.overview import OverviewCell, overview_of
from explorer.notebook.svg import COLOURS, MARKS, Drawing, elide, esc, text_width, wrap

__all__ = [
    "CHAIN_DETAIL_LIMIT",
    "SLOT_DETAIL_LIMIT",
    "draw_frame_tables",
    "draw_layout",
    "draw_tables",
    "key_text",
    "value_text",
]

#: Larger tables are drawn as an overview.
SLOT_DETAIL_LIMIT = 256
CHAIN_DETAIL_LIMIT = 64  # buckets
LANE_DETAIL_LIMIT = 256  # buckets x groups

SLOT_W, SLOT_H, SLOT_GAP = 76.0, 66.0, 6.0
ROW_LABEL_H = 14.0
SLOTS_PER_ROW = 16
KEY_CHARS = 8
ENTRY_W, ENTRY_H, ENTRY_GAP = 96.0, 28.0, 18.0
LANE_H = 34.0
LANE_LABEL_W = 30.0
BUCKET_HEAD_H = 18.0
CHAINS_MAX_W = 1100.0
TITLE_H = 22.0
TABLE_GAP = 22.0
OVERVIEW_MAX_CELLS = 4096


def key_text(encoded: object) -> str:
    """A key as the explorer shows it: strings and ints as they are, bytes as ``b'..'``."""
    try:
        key = decode_key(encoded)
    except ValueError:
        return str(encoded.get("repr", encoded)) if isinstance(encoded, dict) else str(encoded)
    return repr(key) if isinstance(key, bytes) else str(key)


def value_text(encoded: object) -> str:
    if isinstance(encoded, dict) and set(encoded) == {"bytes"}:
        return repr(bytes.fromhex(str(encoded["bytes"])))
    if isinstance(encoded, dict) and set(encoded) == {"repr"}:
        return str(encoded["repr"])
    return repr(encoded) if isinstance(encoded, str) else str(encoded)


class _Decor:
    """What a frame adds on top of the tables."""

    def __init__(self, frame: Frame | None = None) -> None:
        self.marks: Mapping[Loc, str] = {} if frame is None else frame.marks
        self.home: Loc | None = None if frame is None else frame.home
        self.focus: Loc | None = None if frame is None else frame.focus
        self.carried: Mapping[str, Any] | None = None if frame is None else frame.carried


def _mark_attrs(decor: _Decor, loc: Loc) -> tuple[str | None, str]:
    mark = decor.marks.get(loc)
    if mark is None:
        return None, ""
    return mark, f' data-mark="{esc(mark)}"'


def _draw_mark(d: Drawing, mark: str | None, x: float, y: float, w: float, h: float) -> None:
    if mark is None:
        return
    colour_name, symbol = MARKS.get(mark, ("probe", "\u2022"))
    colour = COLOURS[colour_name]
    d.rect(x - 1.5, y - 1.5, w + 3, h + 3, stroke=colour, width=3, rx=6)
    d.rect(x + w - 17, y + 2, 15, 15, fill=colour, rx=7.5)
    d.text(x + w - 9.5, y + 13.5, symbol, 11, fill="#ffffff", anchor="middle", weight="bold")


# --------------------------------------------------------------------------- Robin Hood


def _slot_cell(
    d: Drawing, index: int, slot: Mapping[str, Any], x: float, y: float, decor: _Decor, kind: str
) -> None:
    state = str(slot["state"])
    loc = Loc(kind, slot=index)
    mark, mark_attr = _mark_attrs(decor, loc)
    attrs = f'data-slot="{index}" data-state="{esc(state)}"'
    if state == "occupied":
        key = key_text(slot["key"])
        attrs += (
            f' data-key="{esc(key)}" data-dib="{slot.get("dib")}" data-home="{slot.get("home")}"'
        )
        tip = (
            f"slot {index}: {key} = {value_text(slot.get('value'))}, "
            f"DIB {slot.get('dib')}, home {slot.get('home')}"
        )
    elif state == "tombstone":
        attrs += f' data-dib="{slot.get("dib")}" data-home="{slot.get("home")}"'
        tip = f"slot {index}: tombstone, DIB {slot.get('dib')}, home {slot.get('home')}"
    else:
        tip = f"slot {index}: empty"
    d.add(f'<g class="ahm-slot" {attrs}{mark_attr}><title>{esc(tip)}</title>')
    d.text(x + SLOT_W / 2, y - 5, str(index), 10, fill=COLOURS["muted"], anchor="middle")
    fill = {"occupied": COLOURS["tile"], "tombstone": COLOURS["tombstone"]}.get(
        state, COLOURS["empty"]
    )
    d.rect(x, y, SLOT_W, SLOT_H, fill=fill, stroke=COLOURS["grid"], rx=5)
    if state == "occupied":
        d.text(
            x + SLOT_W / 2, y + 24, elide(key_text(slot["key"]), KEY_CHARS), 13.5,
            fill=COLOURS["tile_text"], anchor="middle", weight="bold",
            extra=' data-role="key"',
        )
        d.text(
            x + SLOT_W / 2, y + 40, "= " + elide(value_text(slot.get("value")), KEY_CHARS - 1),
            11, fill=COLOURS["tile_text"], anchor="middle", extra=' data-role="value"',
        )
    elif state == "tombstone":
        d.text(
            x + SLOT_W / 2, y + 34, "\u2020", 22, fill=COLOURS["removed"], anchor="middle",
            weight="bold", extra=' data-role="tombstone"',
        )
    if state in ("occupied", "tombstone"):
        d.rect(x + 4, y + SLOT_H - 19, 28, 15, fill=COLOURS["home"], rx=7.5)
        d.text(
            x + 18, y + SLOT_H - 7.5, f"d{slot.get('dib')}", 10.5, fill="#ffffff",
            anchor="middle", weight="bold", extra=' data-role="dib"',
        )
        d.text(
            x + SLOT_W - 6, y + SLOT_H - 7.5, f"\u2302{slot.get('home')}", 10.5,
            fill=COLOURS["muted"], anchor="end", extra=' data-role="home"',
        )
    _draw_mark(d, mark, x, y, SLOT_W, SLOT_H)
    d.add("</g>")


def _slots_table(state: TableState, decor: _Decor) -> Drawing:
    slots: Sequence[Mapping[str, Any]] = state.layout["slots"]
    per_row = min(SLOTS_PER_ROW, max(1, len(slots)))
    rows = -(-len(slots) // per_row)
    pitch_x, pitch_y = SLOT_W + SLOT_GAP, ROW_LABEL_H + SLOT_H + SLOT_GAP
    width = per_row * pitch_x - SLOT_GAP
    grid_h = rows * pitch_y
    carried = decor.carried if decor.carried is not None and "dib" in decor.carried else None
    height = grid_h + (SLOT_H + 30 if carried is not None else 0)
    d = Drawing(width, height)
    kind = state.kind
    for i, slot in enumerate(slots):
        row, col = divmod(i, per_row)
        _slot_cell(d, i, slot, col * pitch_x, ROW_LABEL_H + row * pitch_y, decor, kind)
    home = decor.home
    if home is not None and home.table == kind and home.slot is not None:
        row, col = divmod(home.slot, per_row)
        hx, hy = col * pitch_x, ROW_LABEL_H + row * pitch_y
        d.add(f'<g class="ahm-home" data-slot="{home.slot}">')
        d.rect(hx - 3, hy - 3, SLOT_W + 6, SLOT_H + 6, stroke=COLOURS["home"], width=2,
               rx=8, extra=' stroke-dasharray="5 3"')
        d.add("</g>")
    if carried is not None:
        column = 0
        focus = decor.focus
        if focus is not None and focus.table == kind and focus.slot is not None:
            column = focus.slot % per_row
        cx, cy = column * pitch_x, grid_h + 22
        key = key_text(carried["key"])
        dib = carried.get("dib")
        tip = f"in hand: {key}, distance {dib}"
        d.add(
            f'<g class="ahm-carried" data-key="{esc(key)}" data-dib="{dib}">'
            f"<title>{esc(tip)}</title>"
        )
        d.text(cx, cy - 6, "in hand", 11, fill=COLOURS["displaced"], weight="bold")
        d.rect(cx, cy, SLOT_W, SLOT_H, fill=COLOURS["tile"], stroke=COLOURS["displaced"],
               width=2.5, rx=5, extra=' stroke-dasharray="6 3"')
        d.text(cx + SLOT_W / 2, cy + 24, elide(key, KEY_CHARS), 14, fill=COLOURS["tile_text"],
               anchor="middle", weight="bold")
        d.text(cx + SLOT_W / 2, cy + 40, "= " + elide(value_text(carried.get("value")), 8), 11,
               fill=COLOURS["tile_text"], anchor="middle")
        d.text(cx + SLOT_W / 2, cy + SLOT_H - 8, f"d{carried.get('dib')}", 10.5,
               fill=COLOURS["home"], anchor="middle", weight="bold")
        d.add("</g>")
    return d


# --------------------------------------------------------------------------- chaining


def _entry_box(
    d: Drawing, entry: Mapping[str, Any], loc: Loc, x: float, y: float, decor: _Decor
) -> None:
    key = key_text(entry["key"])
    value = value_text(entry.get("value"))
    mark, mark_attr = _mark_attrs(decor, loc)
    tip = f"bucket {loc.bucket}, group {loc.group}, position {loc.position}: {key} = {value}"
    d.add(
        f'<g class="ahm-entry" data-bucket="{loc.bucket}" data-group="{loc.group}" '
        f'data-position="{loc.position}" data-key="{esc(key)}"{mark_attr}>'
        f"<title>{esc(tip)}</title>"
    )
    d.rect(x, y, ENTRY_W, ENTRY_H, fill=COLOURS["tile"], stroke=COLOURS["grid"], rx=4)
    d.text(x + 6, y + 18, elide(key, 8), 12.5, fill=COLOURS["tile_text"], weight="bold",
           extra=' data-role="key"')
    d.text(x + ENTRY_W - 6, y + 18, "=" + elide(value, 4), 10.5, fill=COLOURS["tile_text"],
           anchor="end", extra=' data-role="value"')
    _draw_mark(d, mark, x, y, ENTRY_W, ENTRY_H)
    d.add("</g>")


def _arrow(d: Drawing, x1: float, y: float, x2: float) -> None:
    d.add(
        f'<path class="ahm-link" d="M{x1:g},{y:g} L{x2 - 5:g},{y:g} M{x2 - 5:g},{y - 4:g} '
        f'L{x2:g},{y:g} L{x2 - 5:g},{y + 4:g}" fill="none" stroke="{COLOURS["muted"]}" '
        'stroke-width="1.4"/>'
    )


def _chains_table(state: TableState, decor: _Decor) -> Drawing:
    buckets: Sequence[Sequence[Sequence[Mapping[str, Any]]]] = state.layout["buckets"]
    groups = int(state.layout["groups"])
    kind = state.kind
    longest = max((len(chain) for bucket in buckets for chain in bucket), default=0)
    carried = decor.carried is not None and bool(decor.carried)
    lane_slots = max(2, longest + (1 if carried else 0))
    block_w = LANE_LABEL_W + lane_slots * (ENTRY_W + ENTRY_GAP)
    block_h = BUCKET_HEAD_H + groups * LANE_H
    columns = max(1, min(len(buckets), int((CHAINS_MAX_W + 16) // (block_w + 16))))
    rows = -(-len(buckets) // columns)
    d = Drawing(columns * (block_w + 16) - 16, rows * (block_h + 10) - 10)
    for b, bucket in enumerate(buckets):
        row, col = divmod(b, columns)
        bx, by = col * (block_w + 16), row * (block_h + 10)
        d.add(f'<g class="ahm-bucket" data-bucket="{b}">')
        d.rect(bx, by, block_w, block_h, fill="#fafafa", stroke=COLOURS["grid"], rx=6)
        d.text(bx + 8, by + 13, f"bucket {b}", 11, fill=COLOURS["muted"], weight="bold")
        for g, chain in enumerate(bucket):
            ly = by + BUCKET_HEAD_H + g * LANE_H
            lane = Loc(kind, bucket=b, group=g)
            mark, mark_attr = _mark_attrs(decor, lane)
            d.add(
                f'<g class="ahm-lane" data-bucket="{b}" data-group="{g}" '
                f'data-length="{len(chain)}"{mark_attr}>'
            )
            is_home = decor.home == lane
            d.text(bx + 8, ly + 19, f"g{g}", 10.5,
                   fill=COLOURS["home"] if is_home else COLOURS["muted"],
                   weight="bold" if is_home else "normal")
            if is_home:
                d.rect(bx + 3, ly + 1, block_w - 6, LANE_H - 2, stroke=COLOURS["home"],
                       width=2, rx=5, extra=' class="ahm-home" stroke-dasharray="5 3"')
            x = bx + LANE_LABEL_W
            if not chain:
                d.text(x + 4, ly + 20, "\u2205", 12, fill=COLOURS["grid"])
            for p, entry in enumerate(chain):
                ex = x + p * (ENTRY_W + ENTRY_GAP)
                if p:
                    _arrow(d, ex - ENTRY_GAP + 2, ly + 3 + ENTRY_H / 2, ex - 2)
                _entry_box(d, entry, Loc(kind, bucket=b, group=g, position=p), ex, ly + 3, decor)
            if mark is not None and not chain:
                _draw_mark(d, mark, x, ly + 3, ENTRY_W / 2, ENTRY_H)
            if is_home and decor.carried is not None:
                ex = x + len(chain) * (ENTRY_W + ENTRY_GAP)
                key = key_text(decor.carried["key"])
                tip = f"about to be linked: {key}"
                d.add(f'<g class="ahm-carried" data-key="{esc(key)}"><title>{esc(tip)}</title>')
                d.rect(ex, ly + 3, ENTRY_W, ENTRY_H, fill=COLOURS["tile"],
                       stroke=COLOURS["displaced"], width=2, rx=4,
                       extra=' stroke-dasharray="6 3"')
                d.text(ex + 6, ly + 21, elide(key, 9), 12.5, fill=COLOURS["tile_text"],
                       weight="bold")
                d.add("</g>")
            d.add("</g>")
        d.add("</g>")
    return d


# --------------------------------------------------------------------------- overview


_RAMP = ((0xCF, 0xE3, 0xF3), (0xF0, 0xC3, 0x5E), (0xC8, 0x37, 0x0A))
TOMBSTONE_SQUARE = "#7b5aa6"


def _heat(value: int, worst: int) -> str:
    """Pale blue (DIB 0) through amber to deep red (the worst DIB of the table)."""
    t = 0.0 if worst <= 0 else min(1.0, value / worst)
    low, high = (_RAMP[0], _RAMP[1]) if t <= 0.5 else (_RAMP[1], _RAMP[2])
    u = t * 2 if t <= 0.5 else (t - 0.5) * 2
    r, g, b = (round(lo + (hi - lo) * u) for lo, hi in zip(low, high, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def _overview_table(state: TableState, decor: _Decor) -> Drawing:
    overview = overview_of(state)
    cells: Sequence[OverviewCell] = overview.cells
    per = max(1, -(-len(cells) // OVERVIEW_MAX_CELLS))  # slots per drawn square
    squares: list[tuple[str, int]] = []
    for start in range(0, len(cells), per):
        chunk = cells[start : start + per]
        occupied = [c.value for c in chunk if c.state == "occupied"]
        if occupied:
            squares.append(("occupied", max(occupied)))
        elif any(c.state == "tombstone" for c in chunk):
            squares.append(("tombstone", 0))
        else:
            squares.append(("empty", 0))
    columns = 64 if len(squares) >= 64 * 8 else max(1, min(len(squares), overview.columns))
    size = 10.0 if len(squares) <= 1024 else 7.0
    rows = -(-len(squares) // columns)
    legend_h = 40.0
    d = Drawing(max(columns * size, 420.0), rows * size + legend_h)
    unit = "bucket" if "buckets" in state.layout else "slot"
    measure = "longest chain" if unit == "bucket" else "DIB"
    counts = {s: sum(1 for c in cells if c.state == s) for s in ("occupied", "tombstone")}
    d.add(
        f'<g class="ahm-overview" data-cells="{len(cells)}" data-per-square="{per}" '
        f'data-occupied="{counts["occupied"]}" data-tombstones="{counts["tombstone"]}" '
        f'data-worst="{overview.worst}">'
    )
    for row in range(rows):
        run_start = row * columns
        end = min(len(squares), run_start + columns)
        i = run_start
        while i < end:
            j = i
            while j + 1 < end and squares[j + 1] == squares[i]:
                j += 1
            state_name, value = squares[i]
            fill = {
                "empty": COLOURS["empty"],
                "tombstone": TOMBSTONE_SQUARE,
            }.get(state_name) or _heat(value, overview.worst)
            d.rect((i - run_start) * size, row * size, (j - i + 1) * size, size, fill=fill)
            i = j + 1
    focus = decor.focus
    index = None
    if focus is not None and focus.table == state.kind:
        index = focus.slot if focus.slot is not None else focus.bucket
    if index is not None:
        square = index // per
        fy, fx = divmod(square, columns)
        d.rect(fx * size - 1, fy * size - 1, size + 2, size + 2, stroke=COLOURS["text"], width=2,
               extra=' class="ahm-focus"')
    y = rows * size + 14
    scale = f"each square = {per} {unit}s; " if per > 1 else ""
    legend = (
        f"overview: {scale}colour = {measure}, pale blue 0 \u2192 red {overview.worst}; "
        + ("purple = tombstone; " if unit == "slot" else "")
        + "grey = empty"
    )
    d.lines(0, y, wrap(legend, d.width, 10.5), 10.5, fill=COLOURS["muted"])
    d.add("</g>")
    return d


# --------------------------------------------------------------------------- tables


def _too_large(state: TableState) -> bool:
    layout = state.layout
    if "slots" in layout:
        return len(layout["slots"]) > SLOT_DETAIL_LIMIT
    buckets = len(layout["buckets"])
    return buckets > CHAIN_DETAIL_LIMIT or buckets * int(layout["groups"]) > LANE_DETAIL_LIMIT


def _table_title(state: TableState) -> str:
    layout = state.layout
    parts = [state.kind if state.role == "active" else f"{state.role}: {state.kind}"]
    unit = "slots" if "slots" in layout else "buckets"
    parts.append(f"{layout['capacity']} {unit}")
    if "groups" in layout:
        parts.append(f"{layout['groups']} groups")
    parts.append(f"{layout['size']} keys")
    if "tombstones" in layout:
        parts.append(f"{layout['tombstones']} tombstones")
    if "deletion" in layout:
        parts.append(f"{layout['deletion']} deletes")
    return " \u00b7 ".join(parts)


def _migration_text(migration: Mapping[str, Any]) -> str:
    known = ", ".join(f"{k} {v}" for k, v in migration.items() if not isinstance(v, dict | list))
    return f"migration in progress: {known}"


def draw_tables(
    tables: Sequence[TableState],
    migration: Mapping[str, Any] | None = None,
    frame: Frame | None = None,
    *,
    detail: bool | None = None,
) -> Drawing:
    """Every table, one above the other, each under its title. ``detail``: force
    (True) or forbid (False) the cell-by-cell drawing; None chooses by size."""
    decor = _Decor(frame)
    drawn: list[tuple[TableState, Drawing, bool]] = []
    for state in tables:
        overview = not detail if detail is not None else _too_large(state)
        if overview:
            body = _overview_table(state, decor)
        elif "slots" in state.layout:
            body = _slots_table(state, decor)
        else:
            body = _chains_table(state, decor)
        drawn.append((state, body, overview))
    extra = TITLE_H if migration else 0.0
    titles = [text_width(_table_title(state), 13) + 20 for state, _, _ in drawn]
    width = max([body.width for _, body, _ in drawn] + titles + [480.0])
    height = extra + sum(TITLE_H + body.height + TABLE_GAP for _, body, _ in drawn) - TABLE_GAP
    d = Drawing(width, max(height, 1.0))
    y = 0.0
    if migration:
        d.add('<g class="ahm-migration">')
        d.text(0, 15, _migration_text(migration), 12, fill=COLOURS["moved"], weight="bold")
        d.add("</g>")
        y += extra
    for state, body, overview in drawn:
        d.add(
            f'<g class="ahm-table" data-kind="{esc(state.kind)}" data-role="{esc(state.role)}" '
            f'data-view="{"overview" if overview else "detail"}">'
        )
        d.text(0, y + 15, _table_title(state), 13, weight="bold")
        d.place(body, 0, y + TITLE_H)
        d.add("</g>")
        y += TITLE_H + body.height + TABLE_GAP
    return d


def draw_layout(layout: Mapping[str, Any], *, detail: bool | None = None) -> Drawing:
    """A map's ``layout()`` drawn as it is (no step marks)."""
    tables, migration = tables_of(layout)
    return draw_tables(tables, migration, detail=detail)


def draw_frame_tables(frame: Frame, *, detail: bool | None = None) -> Drawing:
    """A frame's tables with its marks, home and carried entry."""
    return draw_tables(frame.tables, frame.migration, frame, detail=detail)
