"""The step events of a traced operation: what a map did, slot by slot or key by key.

Hash, probe, compare, displace, place, remove, tombstone, backshift and the result: a
map emits them only while a :func:`engine.trace` block is open, so they load with the
first traced operation, not with the engine (a replay or a command that traces nothing
never needs them). The structural events (resize, compact, migrate, guardrail), which
every map records in its history, and the base class stay in :mod:`.events`, which also
still answers for these names. Location fields: open addressing uses ``slot``; chaining
uses ``bucket``, ``group`` and ``position`` (index within the group's chain).
"""

from __future__ import annotations

from typing import ClassVar

from engine.tracing.events import TraceEvent

__all__ = [
    "BackshiftEvent",
    "CompareEvent",
    "DisplaceEvent",
    "HashEvent",
    "PlaceEvent",
    "ProbeEvent",
    "RemoveEvent",
    "ResultEvent",
    "TombstoneEvent",
]


def _where(slot: int | None, bucket: int | None, group: int | None, position: int | None) -> str:
    if slot is not None:
        return f"slot {slot}"
    return f"bucket {bucket}, group {group}, position {position}"


class HashEvent(TraceEvent, kw_only=True, slots=True):
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


class ProbeEvent(TraceEvent, kw_only=True, slots=True):
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


class CompareEvent(TraceEvent, kw_only=True, slots=True):
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


class DisplaceEvent(TraceEvent, kw_only=True, slots=True):
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


class PlaceEvent(TraceEvent, kw_only=True, slots=True):
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


class RemoveEvent(TraceEvent, kw_only=True, slots=True):
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


class TombstoneEvent(TraceEvent, kw_only=True, slots=True):
    """A deleted slot was marked as a tombstone, keeping its distance so probes pass it."""

    kind: ClassVar[str] = "tombstone"
    key: object
    slot: int
    dib: int

    def describe(self) -> str:
        return f"mark slot {self.slot} as a tombstone (was {self.key!r})"


class BackshiftEvent(TraceEvent, kw_only=True, slots=True):
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


class ResultEvent(TraceEvent, kw_only=True, slots=True):
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
