"""Pictures for IPython's rich display: maps, traced operations and sessions.

``show(obj)`` displays (and returns) the picture of an engine map, of a trace (the
micro-steps of each operation as a strip of frames, each with its narration), of a
:class:`~explorer.model.Session` (its current frame with narration and pseudocode) or of a
list of frames. A :class:`Picture` is plain SVG (``_repr_svg_``): it needs no kernel to
be seen again, so it survives nbconvert's HTML export and GitHub's notebook viewer.

:func:`trace` is :func:`engine.trace` plus what pictures need: the map's layout before
the block, after each operation and after each structural event, so that
:func:`explorer.model.frames.build_frames` (the explorer's own) can rebuild every
micro-step. A plain list from :func:`engine.trace` has only the events; it is drawn as
narrated cards without tables.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine import BaseMap, HashEvent, PlaceEvent, ResultEvent, TraceEvent
from engine import trace as engine_trace
from engine.jsonsafe import encode_key
from explorer.model.frames import (
    STRUCTURAL,
    Frame,
    build_frames,
    entry_id,
    table_entries,
    tables_of,
)
from explorer.model.narration import narrate
from explorer.model.operations import Operation
from explorer.model.session import Session
from explorer.notebook.render import draw_frame_tables, draw_layout
from explorer.notebook.svg import COLOURS, Drawing, document, esc, wrap

__all__ = [
    "MAX_STRIP_FRAMES",
    "Picture",
    "Trace",
    "TracedOperation",
    "frames_picture",
    "map_picture",
    "picture",
    "session_picture",
    "show",
    "trace",
]

#: A strip draws at most this many frames (then says how many it left out).
MAX_STRIP_FRAMES = 48
PANEL_TEXT_W = 520.0
MAX_SHOWN_WIDTH = 1100.0


class Picture:
    """An SVG picture. Displayed by IPython through ``_repr_svg_``; ``svg`` is the text."""

    def __init__(self, svg: str, summary: str) -> None:
        self.svg = svg
        self.summary = summary

    def _repr_svg_(self) -> str:
        return self.svg

    def __repr__(self) -> str:
        return f"<Picture: {self.summary} ({len(self.svg):,} bytes of SVG)>"

    def save(self, path: str | Path) -> Path:
        """Write the SVG to ``path`` (UTF-8)."""
        out = Path(path)
        out.write_text(self.svg, encoding="utf-8")
        return out


# --------------------------------------------------------------------------- traces


@dataclass(frozen=True)
class TracedOperation:
    """One operation of a trace: the operation, its events, and the layouts around it."""

    op: Operation
    backend: str
    before: Mapping[str, Any]
    recorded: tuple[tuple[TraceEvent, Mapping[str, Any] | None], ...]
    after: Mapping[str, Any]

    def frames(self) -> list[Frame]:
        """The explorer's frames of this operation (start, then one per event)."""
        return build_frames(self.op, self.backend, self.before, list(self.recorded), self.after)


class Trace(list[TraceEvent]):
    """The events of a :func:`trace` block, with the map's layouts around them."""

    def __init__(self, mapping: BaseMap) -> None:
        super().__init__()
        self.mapping = mapping
        self.backend = str(mapping.layout()["kind"])
        self.before: Mapping[str, Any] = mapping.layout()
        self.after: Mapping[str, Any] | None = None
        self._captured: dict[int, Mapping[str, Any]] = {}

    def append(self, event: TraceEvent) -> None:
        super().append(event)
        if isinstance(event, (*STRUCTURAL, ResultEvent)):
            # The adaptive map takes its result event back to check guardrails and appends
            # it again: the later capture (the operation's real end) replaces the first.
            self._captured[id(event)] = self.mapping.layout()

    def close(self) -> None:
        self.after = self.mapping.layout()

    def operations(self) -> list[TracedOperation]:
        """The trace cut into operations: each ends with its result event; a compaction
        (which has none) is the structural events before an operation's first hash, or
        after the last result. A compaction with nothing to do emits no event and is not
        seen."""
        segments: list[list[TraceEvent]] = [[]]
        for event in self:
            segments[-1].append(event)
            if isinstance(event, ResultEvent):
                segments.append([])
        pieces: list[list[TraceEvent]] = []
        for segment in segments:
            first_hash = next(
                (i for i, e in enumerate(segment) if isinstance(e, HashEvent)), len(segment)
            )
            # Every operation but a compaction starts by hashing its key: structural
            # events before the first hash are a compaction's (a migration finished first,
            # then the rebuild).
            if 0 < first_hash < len(segment):
                pieces.append(segment[:first_hash])
                segment = segment[first_hash:]
            if segment:
                pieces.append(segment)
        out: list[TracedOperation] = []
        before = self.before
        for piece in pieces:
            last = piece[-1]
            after = self._captured.get(id(last))
            if after is None:
                after = self.after if self.after is not None else self.mapping.layout()
            recorded = tuple((e, self._captured.get(id(e))) for e in piece)
            out.append(
                TracedOperation(_operation_of(piece, after), self.backend, before, recorded, after)
            )
            before = after
        return out

    def frames(self) -> list[Frame]:
        """Every operation's frames, one after the other."""
        return [frame for op in self.operations() for frame in op.frames()]

    def _repr_svg_(self) -> str:
        return trace_picture(self).svg


def _operation_of(events: Sequence[TraceEvent], after: Mapping[str, Any]) -> Operation:
    """The operation a piece of trace did; a put's value is in its place event, or (when
    a Robin Hood swap stored the key) in the layout after it."""
    result = next((e for e in reversed(events) if isinstance(e, ResultEvent)), None)
    if result is None:
        return Operation("compact")
    value = None
    if result.op == "put":
        placed = [e for e in events if isinstance(e, PlaceEvent) and e.key == result.key]
        if placed:
            value = placed[-1].value
        else:
            wanted = entry_id(encode_key(result.key))
            tables, _ = tables_of(after)
            value = next(
                (
                    decode_value(entry.get("value"))
                    for table in tables
                    for _, entry in table_entries(table)
                    if entry_id(entry["key"]) == wanted
                ),
                None,
            )
    op = result.op if result.op in ("put", "get", "del") else "get"
    return Operation(op, result.key, value)  # type: ignore[arg-type]


@contextmanager
def trace(mapping: BaseMap) -> Iterator[Trace]:
    """``with trace(m) as events: m["k"] = 1`` — like :func:`engine.trace`, but the events
    remember the layouts a picture needs: ``show(events)`` draws every micro-step."""
    events = Trace(mapping)
    try:
        with engine_trace(mapping, into=events):
            yield events
    finally:
        events.close()


# --------------------------------------------------------------------------- pictures


def map_picture(mapping: BaseMap, *, detail: bool | None = None) -> Picture:
    """The map as its ``layout()`` says, cell by cell (or as an overview when large)."""
    layout = mapping.layout()
    drawing = draw_layout(layout, detail=detail)
    pad = _padded(drawing, 12)
    summary = f"{layout['kind']} map, {len(mapping)} keys"
    return Picture(document(pad, title=summary, max_width=MAX_SHOWN_WIDTH), summary)


def _padded(drawing: Drawing, pad: float) -> Drawing:
    out = Drawing(drawing.width + 2 * pad, drawing.height + 2 * pad)
    out.place(drawing, pad, pad)
    return out


def _code_lines(frame: Frame, only_current: bool) -> list[tuple[str, bool]]:
    code = frame.pseudocode
    if code is None:
        return []
    if only_current:
        if frame.line is None:
            return []
        return [(code.lines[frame.line].strip(), True)]
    return [(line, i == frame.line) for i, line in enumerate(code.lines)]


def frame_panel(
    frame: Frame,
    heading: str,
    *,
    full_code: bool = False,
    detail: bool | None = None,
    text: bool = True,
) -> Drawing:
    """One frame: a heading, the tables with the step's marks, the narration and the
    pseudocode (its current line, or the whole listing with that line highlighted).
    Without ``text``: the home label and the tables only (the Stepper writes the
    heading, narration and pseudocode beside the picture as HTML)."""
    tables = draw_frame_tables(frame, detail=detail)
    width = max(tables.width, PANEL_TEXT_W) if text else tables.width
    narration = wrap(frame.narration, width - 8, 13) if text else []
    code = _code_lines(frame, only_current=not full_code) if text else []
    header_h = (24.0 if text else 0.0) + (16.0 if frame.home_label else 0.0)
    height = header_h + tables.height + (12 + len(narration) * 17.5 + 8 if text else 0.0)
    if code:
        height += 8 + (18.0 if full_code and frame.pseudocode else 0.0) + len(code) * 17
    d = Drawing(width, height)
    kind = "start" if frame.event is None else frame.event.kind
    d.add(f'<g class="ahm-frame" data-index="{frame.index}" data-event="{esc(kind)}">')
    y = 0.0
    if text:
        d.text(0, 15, heading, 13, weight="bold", fill=COLOURS["home"])
        y = 24.0
    if frame.home_label:
        d.text(0, y + 11, frame.home_label, 11.5, fill=COLOURS["home"], mono=True)
        y += 16
    d.place(tables, 0, y)
    y += tables.height + 12
    if text:
        d.add('<g class="ahm-narration">')
        y = d.lines(4, y + 13, narration, 13) - 13
        d.add("</g>")
    if code:
        y += 8
        d.add('<g class="ahm-code">')
        if full_code and frame.pseudocode is not None:
            d.text(4, y + 13, frame.pseudocode.title, 12, weight="bold", fill=COLOURS["muted"])
            y += 18
        for code_line, current in code:
            if current:
                d.rect(0, y + 1, width, 17, fill=COLOURS["code_line"],
                       extra=' class="ahm-current-line"')
            d.text(8, y + 14, code_line, 12, mono=True, weight="bold" if current else "normal",
                   extra=' xml:space="preserve"')
            y += 17
        d.add("</g>")
    d.add("</g>")
    return d


def frames_picture(
    frames: Sequence[Frame],
    *,
    title: str = "",
    columns: int | None = None,
    headings: Sequence[str] | None = None,
    detail: bool | None = None,
) -> Picture:
    """Frames as a strip: panels left to right, wrapping after ``columns`` (by default
    two when the tables are narrow, else one)."""
    shown = list(frames[:MAX_STRIP_FRAMES])
    names = list(headings) if headings is not None else [
        f"step {i}/{len(frames) - 1}: {f.title}" for i, f in enumerate(frames)
    ]
    panels = [frame_panel(f, names[i], detail=detail) for i, f in enumerate(shown)]
    if columns is None:
        widest = max((p.width for p in panels), default=0.0)
        columns = 2 if widest <= 620 else 1
    columns = max(1, columns)
    gap = 26.0
    col_w = max((p.width for p in panels), default=PANEL_TEXT_W)
    rows = [panels[i : i + columns] for i in range(0, len(panels), columns)]
    title_h = 30.0 if title else 0.0
    more = len(frames) - len(shown)
    height = title_h + sum(max(p.height for p in row) + gap for row in rows) + (24 if more else 0)
    width = columns * col_w + (columns - 1) * gap if rows else PANEL_TEXT_W
    d = Drawing(width, height)
    if title:
        d.text(0, 18, title, 15, weight="bold")
    y = title_h
    for row in rows:
        for c, panel in enumerate(row):
            x = c * (col_w + gap)
            d.rect(x - 6, y - 6, panel.width + 12, panel.height + 12, fill="none",
                   stroke=COLOURS["grid"], rx=8)
            d.place(panel, x, y)
        y += max(p.height for p in row) + gap
    if more:
        d.text(0, y + 10, f"\u2026 and {more} more step(s) not drawn", 12, fill=COLOURS["muted"])
    summary = f"{len(frames)} frame(s)"
    return Picture(document(_padded(d, 14), title=title or summary, max_width=MAX_SHOWN_WIDTH),
                   summary)


def decode_value(encoded: object) -> object:
    """A layout's value back as the map holds it, where JSON can say (bytes, scalars)."""
    if isinstance(encoded, dict) and set(encoded) == {"bytes"}:
        return bytes.fromhex(str(encoded["bytes"]))
    return encoded


def trace_picture(events: Sequence[TraceEvent]) -> Picture:
    """A trace's micro-steps. A :class:`Trace` gets full frames; a plain event list
    gets one narrated card per event (it does not know the tables)."""
    if isinstance(events, Trace):
        ops = events.operations()
        frames: list[Frame] = []
        headings: list[str] = []
        for number, op in enumerate(ops, start=1):
            op_frames = op.frames()
            label = f"op {number}: {op.op.op} {'' if op.op.key is None else repr(op.op.key)}"
            for i, frame in enumerate(op_frames):
                frames.append(frame)
                headings.append(f"{label.strip()} \u00b7 step {i}/{len(op_frames) - 1}: "
                                f"{frame.title}")
        title = f"{len(ops)} operation{'' if len(ops) == 1 else 's'} on a {events.backend} map"
        return frames_picture(frames, title=title, headings=headings)
    return _event_cards(events)


def _event_cards(events: Sequence[TraceEvent]) -> Picture:
    width = 760.0
    d = Drawing(width, 0)
    y = 0.0
    d.text(0, 16, f"{len(events)} trace event(s) (use explorer.notebook.trace(m) to see the "
           "table at each step)", 13, weight="bold")
    y = 30.0
    op = Operation("get")
    for i, event in enumerate(events[:200]):
        if isinstance(event, HashEvent):
            op = Operation("get", event.key)  # type: ignore[arg-type]
        text = narrate(event, op=op, backend=event.table)
        lines = wrap(text, width - 130, 12.5)
        h = 10 + len(lines) * 17
        d.add(f'<g class="ahm-card" data-index="{i}" data-event="{esc(event.kind)}">')
        d.rect(0, y, width, h, fill="#fafafa", stroke=COLOURS["grid"], rx=5)
        d.text(10, y + 18, f"{i + 1}. {event.kind}", 12.5, weight="bold", fill=COLOURS["home"])
        d.lines(120, y + 18, lines, 12.5)
        d.add("</g>")
        y += h + 6
    if len(events) > 200:
        d.text(0, y + 14, f"\u2026 and {len(events) - 200} more", 12, fill=COLOURS["muted"])
        y += 24
    d.height = y
    summary = f"{len(events)} event(s)"
    return Picture(document(_padded(d, 12), title=summary), summary)


def session_heading(session: Session) -> str:
    """Where the session stands: operation, micro-step and what the operation is."""
    if session.at_end:
        count = len(session)
        if not count:
            return "no operations yet"
        return f"after {count} operation{'s' if count != 1 else ''}"
    pos = session.position
    steps = len(session.frames_here())
    return (
        f"op {pos.op + 1}/{len(session)}: {session.timeline.operation(pos.op).text()} "
        f"\u00b7 step {pos.step}/{steps - 1}"
    )


def session_picture(
    session: Session, *, detail: bool | None = None, text: bool = True
) -> Picture:
    """The session's current frame with its narration and the whole pseudocode listing
    (without ``text``: its tables only)."""
    frame = session.frame()
    heading = session_heading(session)
    if session.title:
        heading = f"{session.title} \u2014 {heading}"
    panel = frame_panel(frame, heading, full_code=True, detail=detail, text=text)
    return Picture(document(_padded(panel, 14), title=heading, max_width=MAX_SHOWN_WIDTH), heading)


def picture(obj: object, **options: Any) -> Picture:
    """The picture of a map, a trace, a session, a frame or a list of frames."""
    if isinstance(obj, Picture):
        return obj
    if isinstance(obj, BaseMap):
        return map_picture(obj, **options)
    if isinstance(obj, Session):
        return session_picture(obj, **options)
    if isinstance(obj, Frame):
        return frames_picture([obj], **options)
    if isinstance(obj, Trace):
        return trace_picture(obj)
    if isinstance(obj, Sequence) and obj and all(isinstance(x, Frame) for x in obj):
        return frames_picture(list(obj), **options)
    if isinstance(obj, Sequence) and all(isinstance(x, TraceEvent) for x in obj):
        return trace_picture(obj)
    raise TypeError(
        f"cannot draw a {type(obj).__name__}: show() takes an engine map, a trace, "
        "a Session, a Frame or a list of frames"
    )


def show(obj: object, **options: Any) -> Picture | None:
    """Display the picture of ``obj`` in the notebook, now (it need not be the cell's
    last expression). Outside IPython nothing can be displayed: the picture is returned
    instead. ``detail=True``/``False`` forces or forbids the cell-by-cell drawing;
    :func:`picture` always returns the picture."""
    pic = picture(obj, **options)
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return pic
    if get_ipython() is None:
        return pic
    display(pic)
    return None
