"""Typed, frozen trace events emitted by the maps while a :func:`engine.trace` block is open.

Every event has a ``kind`` (a class constant), the ``table`` that emitted it (the backend
kind: ``"chaining"`` or ``"robinhood"``, or ``"adaptive"`` for migration bookkeeping),
``to_dict()`` for JSON and ``describe()`` for a one-line plain-language explanation.
Location fields: open addressing uses ``slot``; chaining uses ``bucket``, ``group`` and
``position`` (index within the group's chain).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Protocol

from engine.jsonsafe import encode_key, encode_value
from engine.records import FrozenRecord

__all__ = [
    "EVENT_KINDS",
    "BackshiftEvent",
    "CompactEvent",
    "CompareEvent",
    "DisplaceEvent",
    "GuardrailEvent",
    "HashEvent",
    "MigrateEvent",
    "PlaceEvent",
    "ProbeEvent",
    "RemoveEvent",
    "ResizeEvent",
    "ResultEvent",
    "TombstoneEvent",
    "TraceEvent",
    "TraceSink",
]

_KEY_FIELDS = frozenset({"key", "other", "incoming", "evicted"})


def _where(slot: int | None, bucket: int | None, group: int | None, position: int | None) -> str:
    if slot is not None:
        return f"slot {slot}"
    return f"bucket {bucket}, group {group}, position {position}"


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class TraceEvent(FrozenRecord):
    """Base of all events."""

    kind: ClassVar[str] = "event"
    table: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict: ``kind`` plus every field, keys and values encoded."""
        out: dict[str, Any] = {"kind": self.kind}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.metadata.get("omit_default") and value == f.default:
                continue  # a field added later: older readers and stored bytes unchanged
            if f.name in _KEY_FIELDS:
                out[f.name] = encode_key(value)
            elif f.name == "keys":
                out[f.name] = [encode_key(k) for k in value]
            else:
                out[f.name] = encode_value(value)
        return out

    def describe(self) -> str:
        """One line of plain language for narration and the CLI."""
        return self.kind


class TraceSink(Protocol):
    """Where a map appends the events of an open trace: a ``list`` of events, or an object
    that reacts to each ``append`` (a ``list`` subclass that overrides it, say).

    The maps type their tracer with this protocol, not ``list``, so that every call goes
    through the object's own methods: the compiled build (mypyc) calls a ``list``'s methods
    directly in C and would bypass an override.
    """

    def append(self, event: TraceEvent, /) -> None: ...

    def pop(self) -> TraceEvent: ...

    def __getitem__(self, index: int, /) -> TraceEvent: ...

    def __len__(self) -> int: ...


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class HashEvent(TraceEvent):
    """The key was hashed and its home position computed: ``index = hash & (capacity - 1)``."""

    kind: ClassVar[str] = "hash"
    key: object
    hash: int
    capacity: int
    index: int
    group: int | None = None
    groups: int | None = None

    def describe(self) -> str:
        text = (
            f"hash({self.key!r}) = {self.hash:#x}; home = hash & {self.capacity - 1} = {self.index}"
        )
        if self.group is not None:
            text += f"; group = top bits of hash = {self.group} of {self.groups}"
        return text


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class ProbeEvent(TraceEvent):
    """A position was inspected. ``state``: empty, occupied, tombstone (slots) or entry."""

    kind: ClassVar[str] = "probe"
    distance: int
    state: str
    slot: int | None = None
    bucket: int | None = None
    group: int | None = None
    position: int | None = None
    resident_dib: int | None = None

    def describe(self) -> str:
        text = f"probe {_where(self.slot, self.bucket, self.group, self.position)}"
        text += f" at distance {self.distance}: {self.state}"
        if self.resident_dib is not None:
            text += f" (resident's distance {self.resident_dib})"
        return text


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class CompareEvent(TraceEvent):
    """The searched key was compared with a resident key."""

    kind: ClassVar[str] = "compare"
    key: object
    other: object
    equal: bool
    slot: int | None = None
    bucket: int | None = None
    group: int | None = None
    position: int | None = None

    def describe(self) -> str:
        verdict = "match" if self.equal else "no match"
        return f"compare {self.key!r} with {self.other!r}: {verdict}"


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class DisplaceEvent(TraceEvent):
    """Robin Hood swap: the incoming entry is farther from home than the resident, so it
    takes the slot and the resident (the richer one) moves on."""

    kind: ClassVar[str] = "displace"
    slot: int
    incoming: object
    incoming_dib: int
    evicted: object
    evicted_dib: int

    def describe(self) -> str:
        return (
            f"slot {self.slot}: {self.incoming!r} (distance {self.incoming_dib}) is poorer than "
            f"{self.evicted!r} (distance {self.evicted_dib}); they trade places and "
            f"{self.evicted!r} moves on"
        )


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class PlaceEvent(TraceEvent):
    """An entry was stored (``replaced``: an existing key's value was overwritten)."""

    kind: ClassVar[str] = "place"
    key: object
    value: object
    replaced: bool = False
    reused_tombstone: bool = False
    slot: int | None = None
    dib: int | None = None
    bucket: int | None = None
    group: int | None = None
    position: int | None = None

    def describe(self) -> str:
        where = _where(self.slot, self.bucket, self.group, self.position)
        if self.replaced:
            return f"{self.key!r} found at {where}: value replaced"
        text = f"place {self.key!r} at {where}"
        if self.dib is not None:
            text += f" with distance {self.dib}"
        if self.reused_tombstone:
            text += " (reusing a tombstone)"
        return text


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class RemoveEvent(TraceEvent):
    """An entry was unlinked (chaining) or emptied before a backward shift (Robin Hood)."""

    kind: ClassVar[str] = "remove"
    key: object
    slot: int | None = None
    bucket: int | None = None
    group: int | None = None
    position: int | None = None

    def describe(self) -> str:
        return (
            f"remove {self.key!r} from {_where(self.slot, self.bucket, self.group, self.position)}"
        )


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class TombstoneEvent(TraceEvent):
    """A deleted slot was marked as a tombstone, keeping its distance so probes pass it."""

    kind: ClassVar[str] = "tombstone"
    key: object
    slot: int
    dib: int

    def describe(self) -> str:
        return f"mark slot {self.slot} as a tombstone (was {self.key!r})"


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class BackshiftEvent(TraceEvent):
    """Backward-shift deletion moved an entry one slot closer to its home."""

    kind: ClassVar[str] = "backshift"
    key: object
    from_slot: int
    to_slot: int
    dib: int

    def describe(self) -> str:
        return (
            f"shift {self.key!r} back from slot {self.from_slot} to {self.to_slot} "
            f"(distance now {self.dib})"
        )


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class ResizeEvent(TraceEvent):
    """The table was rebuilt with ``new_capacity`` (all entries re-placed)."""

    kind: ClassVar[str] = "resize"
    old_capacity: int
    new_capacity: int
    size: int
    reason: str

    def describe(self) -> str:
        return (
            f"resize {self.old_capacity} -> {self.new_capacity} ({self.reason}); "
            f"{self.size} entries re-placed"
        )


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class CompactEvent(TraceEvent):
    """Tombstones were purged by rebuilding the table."""

    kind: ClassVar[str] = "compact"
    tombstones_removed: int
    capacity: int

    def describe(self) -> str:
        return f"compact: {self.tombstones_removed} tombstones removed (capacity {self.capacity})"


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class MigrateEvent(TraceEvent):
    """Adaptive migration: ``phase`` is start, batch or end. ``moved`` counts this batch,
    which scanned source positions ``start`` to ``cursor - 1`` for at most ``batch``."""

    kind: ClassVar[str] = "migrate"
    phase: str
    source: str
    target: str
    moved: int
    moved_total: int
    total: int
    cursor: int
    keys: tuple[object, ...] = ()
    reason: str = ""
    # a batch's limit (at most this many entries move per operation), and where its
    # cursor began (it ends at ``cursor``); 0 and left out of ``to_dict`` for start and end
    batch: int = field(default=0, metadata={"omit_default": True})
    start: int = field(default=0, metadata={"omit_default": True})

    def describe(self) -> str:
        if self.phase == "start":
            return (
                f"start migrating {self.total} entries {self.source} -> {self.target}: "
                f"{self.reason}"
            )
        if self.phase == "end":
            return f"migration {self.source} -> {self.target} done ({self.moved_total} moved)"
        return (
            f"migration batch: {self.moved} moved ({self.moved_total}/{self.total}), "
            f"cursor at {self.cursor}"
        )


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class GuardrailEvent(TraceEvent):
    """An adaptive guardrail tripped: ``metric`` exceeded ``threshold``."""

    kind: ClassVar[str] = "guardrail"
    metric: str
    value: float
    threshold: float
    action: str

    def describe(self) -> str:
        return f"guardrail {self.metric} = {self.value:g} > {self.threshold:g}: {self.action}"


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class ResultEvent(TraceEvent):
    """The operation finished. ``probes``: positions inspected in total."""

    kind: ClassVar[str] = "result"
    op: str
    key: object
    found: bool
    probes: int
    value: object = None

    def describe(self) -> str:
        outcome = "found" if self.found else "not found"
        if self.op == "put":
            outcome = "updated" if self.found else "inserted"
        return f"{self.op} {self.key!r}: {outcome} after {self.probes} probe(s)"


EVENT_KINDS: tuple[str, ...] = tuple(
    cls.kind
    for cls in (
        HashEvent,
        ProbeEvent,
        CompareEvent,
        DisplaceEvent,
        PlaceEvent,
        RemoveEvent,
        TombstoneEvent,
        BackshiftEvent,
        ResizeEvent,
        CompactEvent,
        MigrateEvent,
        GuardrailEvent,
        ResultEvent,
    )
)
