"""Micro-steps of one operation: the map's physical state after each trace event.

The engine reports *what happened* as trace events. Each frame shows the table as it is
once that event has happened:

* structural events (resize, compact, guardrail, migrate) are emitted by the engine after
  their work is done, so their frame is the map's real ``layout()`` captured at that moment;
* fine-grained events (place, displace, tombstone, remove, backshift) are applied to the
  previous frame's layout exactly as the event states (slot, distance, position);
* the last frame is the real layout after the operation.

A test checks, for every backend, that applying the fine-grained events reproduces the
engine's own layout, so the picture never drifts from the map. Building the frames of one
operation costs O(events × capacity) at worst (one shallow slot-list copy per change).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.jsonsafe import encode_key, encode_value
from engine.tracing.events import (
    CompactEvent,
    GuardrailEvent,
    MigrateEvent,
    ResizeEvent,
    TraceEvent,
)
from engine.tracing.steps import (
    BackshiftEvent,
    CompareEvent,
    DisplaceEvent,
    HashEvent,
    PlaceEvent,
    ProbeEvent,
    RemoveEvent,
    ResultEvent,
    TombstoneEvent,
)
from explorer.model.narration import narrate
from explorer.model.operations import Operation
from explorer.model.pseudocode import Pseudocode, pseudocode_for

__all__ = [
    "STRUCTURAL",
    "Frame",
    "Loc",
    "TableState",
    "build_frames",
    "entry_id",
    "table_entries",
    "tables_of",
]

STRUCTURAL = (ResizeEvent, CompactEvent, MigrateEvent, GuardrailEvent)


@dataclass(frozen=True, slots=True)
class Loc:
    """A place in a table: a Robin Hood ``slot``, or a chaining ``bucket``/``group`` with
    an optional chain ``position`` (None names the whole group)."""

    table: str
    slot: int | None = None
    bucket: int | None = None
    group: int | None = None
    position: int | None = None


@dataclass(frozen=True, slots=True)
class TableState:
    """One table of the map: its ``role`` (active, source or target) and its layout."""

    role: str
    layout: Mapping[str, Any]

    @property
    def kind(self) -> str:
        return str(self.layout["kind"])


@dataclass(frozen=True)
class Frame:
    """What the explorer shows at one micro-step."""

    index: int
    event: TraceEvent | None
    tables: tuple[TableState, ...]
    narration: str
    pseudocode: Pseudocode | None
    line: int | None
    marks: Mapping[Loc, str] = field(default_factory=dict)
    home: Loc | None = None
    home_label: str = ""
    focus: Loc | None = None
    carried: Mapping[str, Any] | None = None
    migration: Mapping[str, Any] | None = None

    @property
    def title(self) -> str:
        return "start" if self.event is None else self.event.kind


def tables_of(layout: Mapping[str, Any]) -> tuple[tuple[TableState, ...], Mapping[str, Any] | None]:
    """Split a map's ``layout()`` into its tables and its migration progress."""
    if layout["kind"] == "adaptive":
        tables = tuple(TableState(t["role"], t["layout"]) for t in layout["tables"])
        return tables, layout.get("migration")
    return (TableState("active", layout),), None


def _entry_loc(kind: str, event: Any) -> Loc:
    if getattr(event, "slot", None) is not None:
        return Loc(kind, slot=event.slot)
    return Loc(kind, bucket=event.bucket, group=event.group, position=event.position)


class _Patcher:
    """Applies fine-grained events to a copy-on-write list of table layouts."""

    def __init__(self, tables: tuple[TableState, ...], op: Operation, carry: bool) -> None:
        self.tables = list(tables)
        self.op = op
        self.hashes: dict[object, int] = {}
        self.carried: dict[str, Any] | None = None
        # A put of a new key shows the key "in hand" from its hash until it is stored.
        self.carry_incoming = carry

    def reset(self, tables: tuple[TableState, ...]) -> None:
        self.tables = list(tables)

    def _table(self, kind: str) -> tuple[int, dict[str, Any]]:
        for i, table in enumerate(self.tables):
            if table.kind == kind:
                layout = dict(table.layout)
                self.tables[i] = TableState(table.role, layout)
                return i, layout
        raise LookupError(f"no {kind} table in this frame")

    def _entry(self, key: object, value: object, dib: int | None, mask: int) -> dict[str, Any]:
        h = self.hashes[key]
        entry: dict[str, Any] = {"key": encode_key(key), "value": encode_value(value), "hash": h}
        if dib is not None:
            entry = {"state": "occupied", **entry, "dib": dib, "home": h & mask}
        return entry

    def apply(self, event: TraceEvent) -> None:
        if isinstance(event, HashEvent):
            self.hashes[event.key] = event.hash
            if self.carry_incoming and self.carried is None:
                dib = None if event.group is not None else 0
                self.carried = self._entry(event.key, self.op.value, dib, event.capacity - 1)
            return
        if isinstance(event, ProbeEvent):
            if self.carried is not None:
                self.carried = {**self.carried, "dib": event.distance}
            return
        changes = PlaceEvent | DisplaceEvent | TombstoneEvent | RemoveEvent | BackshiftEvent
        if not isinstance(event, changes):
            return
        _, layout = self._table(event.table)
        if "slots" in layout:
            self._apply_slots(event, layout)
        else:
            self._apply_chains(event, layout)

    def _apply_slots(self, event: TraceEvent, layout: dict[str, Any]) -> None:
        slots = list(layout["slots"])
        layout["slots"] = slots
        mask = int(layout["capacity"]) - 1
        if isinstance(event, PlaceEvent):
            assert event.slot is not None
            if event.replaced:
                slots[event.slot] = {**slots[event.slot], "value": encode_value(event.value)}
                return
            if self.carried is not None and self.carried["key"] == encode_key(event.key):
                entry = _as_slot(self.carried, event.dib, mask)
                self.carried = None
                self.carry_incoming = False
            else:
                entry = self._entry(event.key, event.value, event.dib, mask)
            if slots[event.slot]["state"] == "tombstone":
                layout["tombstones"] = layout["tombstones"] - 1
            slots[event.slot] = entry
            layout["size"] = layout["size"] + 1
        elif isinstance(event, DisplaceEvent):
            evicted = dict(slots[event.slot])
            if self.carried is not None:
                incoming = _as_slot(self.carried, event.incoming_dib, mask)
            else:
                incoming = self._entry(event.incoming, self.op.value, event.incoming_dib, mask)
            slots[event.slot] = incoming
            self.carried = evicted
        elif isinstance(event, TombstoneEvent):
            old = slots[event.slot]
            slots[event.slot] = {
                "state": "tombstone",
                "dib": event.dib,
                "hash": old["hash"],
                "home": old["home"],
            }
            layout["size"] = layout["size"] - 1
            layout["tombstones"] = layout["tombstones"] + 1
        elif isinstance(event, RemoveEvent):
            assert event.slot is not None
            slots[event.slot] = {"state": "empty"}
            layout["size"] = layout["size"] - 1
        elif isinstance(event, BackshiftEvent):
            slots[event.to_slot] = {**slots[event.from_slot], "dib": event.dib}
            slots[event.from_slot] = {"state": "empty"}

    def _apply_chains(self, event: TraceEvent, layout: dict[str, Any]) -> None:
        assert isinstance(event, PlaceEvent | RemoveEvent)
        assert event.bucket is not None and event.group is not None and event.position is not None
        buckets = list(layout["buckets"])
        layout["buckets"] = buckets
        bucket = list(buckets[event.bucket])
        buckets[event.bucket] = bucket
        chain = list(bucket[event.group])
        bucket[event.group] = chain
        if isinstance(event, PlaceEvent):
            if event.replaced:
                chain[event.position] = {
                    **chain[event.position],
                    "value": encode_value(event.value),
                }
                return
            chain.insert(event.position, self._entry(event.key, event.value, None, 0))
            layout["size"] = layout["size"] + 1
            if self.carried is not None and self.carried["key"] == encode_key(event.key):
                self.carried = None
                self.carry_incoming = False
        else:
            del chain[event.position]
            layout["size"] = layout["size"] - 1


def entry_id(encoded_key: object) -> object:
    """A hashable identity for an encoded key (bytes keys are encoded as dicts)."""
    if isinstance(encoded_key, dict):
        return tuple(sorted(encoded_key.items()))
    return encoded_key


def table_entries(table: TableState) -> Iterator[tuple[Loc, Mapping[str, Any]]]:
    """Every stored entry of a table with its place: occupied slots, or chain entries
    with bucket, group and position. O(capacity)."""
    layout = table.layout
    if "slots" in layout:
        for i, slot in enumerate(layout["slots"]):
            if slot["state"] == "occupied":
                yield Loc(table.kind, slot=i), slot
        return
    for b, bucket in enumerate(layout["buckets"]):
        for g, chain in enumerate(bucket):
            for p, entry in enumerate(chain):
                yield Loc(table.kind, bucket=b, group=g, position=p), entry


def _moved_locs(tables: Sequence[TableState], kind: str, keys: Sequence[object]) -> list[Loc]:
    """Where the migrated ``keys`` now sit in the ``kind`` table. O(capacity)."""
    wanted = {entry_id(encode_key(k)) for k in keys}
    return [
        loc
        for table in tables
        if table.kind == kind
        for loc, entry in table_entries(table)
        if entry_id(entry["key"]) in wanted
    ]


def _as_slot(entry: Mapping[str, Any], dib: int | None, mask: int) -> dict[str, Any]:
    """A carried entry as an open-addressing slot at distance ``dib``."""
    h = int(entry["hash"])
    return {
        "state": "occupied",
        "key": entry["key"],
        "value": entry["value"],
        "dib": dib,
        "hash": h,
        "home": h & mask,
    }


def _holds(tables: Sequence[TableState], key: object) -> bool:
    """Whether any table stores ``key``. O(capacity)."""
    wanted = entry_id(encode_key(key))
    return any(
        entry_id(entry["key"]) == wanted for table in tables for _, entry in table_entries(table)
    )


def _family(tables: Sequence[TableState], event: TraceEvent | None) -> str:
    """Whose algorithm the step belongs to: a backend's, or the adaptive map's own."""
    if event is not None and event.table in ("robinhood", "chaining", "adaptive"):
        return event.table
    return tables[-1].kind


def build_frames(
    op: Operation,
    backend: str,
    before: Mapping[str, Any],
    recorded: Sequence[tuple[TraceEvent, Mapping[str, Any] | None]],
    after: Mapping[str, Any],
) -> list[Frame]:
    """Frames for one operation: the start, then one per event.

    ``recorded`` pairs each event with the map's layout captured when it was emitted
    (needed for structural events only; None otherwise).
    """
    tables, migration = tables_of(before)
    spec = before.get("hash")
    hash_name = spec.get("name") if isinstance(spec, dict) else None
    patcher = _Patcher(tables, op, carry=op.op == "put" and not _holds(tables, op.key))
    code = pseudocode_for(backend, op.op, tables[-1].kind)
    frames = [
        Frame(
            index=0,
            event=None,
            tables=tables,
            narration=narrate(None, op=op, backend=backend),
            pseudocode=code,
            line=0 if code else None,
            migration=migration,
        )
    ]
    marks: dict[Loc, str] = {}
    home: Loc | None = None
    home_label = ""
    phase = {"displaced": False, "resized": False}
    for number, (event, captured) in enumerate(recorded, start=1):
        focus: Loc | None = None
        if isinstance(event, ResultEvent):
            tables, migration = tables_of(after)
            patcher.reset(tables)
        elif isinstance(event, STRUCTURAL) and captured is not None:
            tables, migration = tables_of(captured)
            patcher.reset(tables)
            if isinstance(event, ResizeEvent | CompactEvent):
                marks = {}
                home = None
                home_label = ""
                phase["resized"] = True
            if isinstance(event, MigrateEvent) and event.phase == "batch":
                marks = {loc: "moved" for loc in _moved_locs(tables, event.target, event.keys)}
                focus = next(iter(marks), None)  # the batch's first entry, where it landed
        else:
            patcher.apply(event)
            tables = tuple(patcher.tables)
        if isinstance(event, HashEvent):
            home_label = f"home: h & {event.capacity - 1} = {event.index}"
            if event.group is not None:
                home = Loc(event.table, bucket=event.index, group=event.group)
                home_label += f", group {event.group}"
            else:
                home = Loc(event.table, slot=event.index)
            focus = home
        elif isinstance(event, ProbeEvent):
            focus = _entry_loc(event.table, event)
            if event.state == "empty" and event.slot is None:
                focus = Loc(event.table, bucket=event.bucket, group=event.group)
            marks[focus] = "empty" if event.state == "empty" else "visited"
        elif isinstance(event, CompareEvent):
            focus = _entry_loc(event.table, event)
            marks[focus] = "match" if event.equal else "mismatch"
        elif isinstance(event, PlaceEvent):
            focus = _entry_loc(event.table, event)
            marks[focus] = "updated" if event.replaced else "placed"
        elif isinstance(event, DisplaceEvent):
            focus = Loc(event.table, slot=event.slot)
            marks[focus] = "displaced"
            phase["displaced"] = True
        elif isinstance(event, TombstoneEvent):
            focus = Loc(event.table, slot=event.slot)
            marks[focus] = "tombstone"
        elif isinstance(event, RemoveEvent):
            focus = _entry_loc(event.table, event)
            marks[focus] = "removed"
        elif isinstance(event, BackshiftEvent):
            focus = Loc(event.table, slot=event.to_slot)
            marks[Loc(event.table, slot=event.from_slot)] = "vacated"
            marks[focus] = "shifted"
        family = _family(tables, event)
        code = pseudocode_for(backend, op.op, family)
        frames.append(
            Frame(
                index=number,
                event=event,
                tables=tables,
                narration=narrate(event, op=op, backend=backend, hash_name=hash_name),
                pseudocode=code,
                line=None if code is None else code.line_for(event, **phase),
                marks=dict(marks),
                home=home,
                home_label=home_label,
                focus=focus,
                carried=None if patcher.carried is None else dict(patcher.carried),
                migration=migration,
            )
        )
    if not recorded:
        tables, migration = tables_of(after)
        frames.append(
            Frame(
                index=1,
                event=None,
                tables=tables,
                narration="Nothing to do: the table holds no tombstones.",
                pseudocode=code,
                line=None if code is None else len(code.lines) - 1,
                migration=migration,
            )
        )
    return frames
