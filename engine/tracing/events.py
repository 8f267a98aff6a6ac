"""Typed, frozen trace events emitted by the maps while a :func:`engine.trace` block is open.

This module holds the base class, the sink protocol and the structural events every map
records in its history (resize, compact, migrate, guardrail); the step events of a
traced operation are in :mod:`.steps`, loaded on first use (they are still importable
from here).

Every event has a ``kind`` (a class constant), the ``table`` that emitted it (the backend
kind: ``"chaining"`` or ``"robinhood"``, or ``"adaptive"`` for migration bookkeeping),
``to_dict()`` for JSON and ``describe()`` for a one-line plain-language explanation.
Location fields: open addressing uses ``slot``; chaining uses ``bucket``, ``group`` and
``position`` (index within the group's chain).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from engine.jsonsafe import encode_key, encode_value
from engine.records import FrozenRecord, field, fields

if TYPE_CHECKING:
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

__all__ = [
    "EVENT_KINDS",
    "STEPS",
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


class TraceEvent(FrozenRecord, kw_only=True, slots=True):
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


class ResizeEvent(TraceEvent, kw_only=True, slots=True):
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


class CompactEvent(TraceEvent, kw_only=True, slots=True):
    """Tombstones were purged by rebuilding the table."""

    kind: ClassVar[str] = "compact"
    tombstones_removed: int
    capacity: int

    def describe(self) -> str:
        return f"compact: {self.tombstones_removed} tombstones removed (capacity {self.capacity})"


class MigrateEvent(TraceEvent, kw_only=True, slots=True):
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


class GuardrailEvent(TraceEvent, kw_only=True, slots=True):
    """An adaptive guardrail tripped: ``metric`` exceeded ``threshold``."""

    kind: ClassVar[str] = "guardrail"
    metric: str
    value: float
    threshold: float
    action: str

    def describe(self) -> str:
        return f"guardrail {self.metric} = {self.value:g} > {self.threshold:g}: {self.action}"


#: Every event kind, in the order an operation's events come (the step events of
#: :mod:`.steps`, then the structural ones, the result last); a test holds it to the
#: classes' own ``kind``.
EVENT_KINDS: tuple[str, ...] = (
    "hash",
    "probe",
    "compare",
    "displace",
    "place",
    "remove",
    "tombstone",
    "backshift",
    "resize",
    "compact",
    "migrate",
    "guardrail",
    "result",
)

_STEP_EVENTS: frozenset[str] = frozenset(
    {
        "BackshiftEvent",
        "CompareEvent",
        "DisplaceEvent",
        "HashEvent",
        "PlaceEvent",
        "ProbeEvent",
        "RemoveEvent",
        "ResultEvent",
        "TombstoneEvent",
    }
)


class _StepEvents:
    """The step event classes as attributes, loaded from :mod:`.steps` when the first is
    asked for and then kept: the maps' traced code reaches them through :data:`STEPS`,
    so a program that never traces never loads them, and a traced operation pays one
    attribute lookup an event (a function-level import costs about a microsecond)."""

    def __getattr__(self, name: str) -> Any:
        if name not in _STEP_EVENTS:
            raise AttributeError(f"no step event {name!r}")
        from engine.tracing import steps

        for each in _STEP_EVENTS:
            setattr(self, each, getattr(steps, each))
        return getattr(steps, name)


if TYPE_CHECKING:
    from engine.tracing import steps as STEPS
else:
    STEPS = _StepEvents()


def __getattr__(name: str) -> Any:
    """The step events, still importable from here: :mod:`.steps` loads on first use."""
    if name in _STEP_EVENTS:
        return getattr(STEPS, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
