"""Plain-language narration of each micro-step, for the explorer's narration panel.

Each sentence says what happened and why, in the terms a first course on hash tables uses;
the engine's own one-line ``describe()`` carries the exact numbers.
"""

from __future__ import annotations

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
from explorer.model.operations import Operation

__all__ = ["narrate"]


#: keys and values longer than this are shown elided in the middle, so a sentence wraps
#: inside the panel and crafted keys that differ at either end stay told apart
SHOWN_CHARS = 36


def _q(value: object) -> str:
    """``repr(value)``, elided in the middle past :data:`SHOWN_CHARS` characters."""
    text = repr(value)
    if len(text) <= SHOWN_CHARS:
        return text
    half = (SHOWN_CHARS - 1) // 2
    return text[:half] + "\u2026" + text[-half:]


def _keys(keys: tuple[object, ...], shown: int = 4) -> str:
    """``'a', 'b' and 'c'`` (at most ``shown`` named, then how many more)."""
    names = [_q(k) for k in keys[:shown]]
    if len(keys) > shown:
        names.append(f"{len(keys) - shown} more")
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]


def _count(n: int, word: str, plural: str = "") -> str:
    return f"{n} {word if n == 1 else plural or word + 's'}"


_OPENING = {
    "put": "Insert {key} with value {value}. Step forward to hash the key.",
    "get": "Look up {key}. Step forward to hash the key.",
    "del": "Delete {key}. Step forward to hash the key.",
    "compact": "Compact the table: rebuild it without tombstones.",
}


def _opening(op: Operation) -> str:
    return _OPENING[op.op].format(key=_q(op.key), value=_q(op.value))


#: What each hash function computes, by key type, in words.
_HASH_WORDS: dict[str, dict[type, str]] = {
    "crc32": {
        str: "crc32: the CRC-32 of its UTF-8 bytes",
        bytes: "crc32: the CRC-32 of its bytes, started from a tag so b'a' and 'a' differ",
        int: "crc32: the low 32 bits of the fmix64 finaliser of the int",
    },
    "fast": {
        str: "fast: its CRC-32, scrambled and spread to 64 bits",
        bytes: "fast: its CRC-32, scrambled and spread to 64 bits",
        int: "fast: the fmix64 finaliser of the int",
    },
    "keyed": dict.fromkeys((str, bytes, int), "keyed: BLAKE2b with the map's secret seed"),
}


def _hash_words(key: object, hash_name: str | None) -> str:
    words = _HASH_WORDS.get(hash_name or "", {})
    kind = int if isinstance(key, int) else type(key)
    return f" ({words[kind]})" if kind in words else ""


def _hash(e: HashEvent, hash_name: str | None) -> str:
    text = (
        f"hash({_q(e.key)}) = {e.hash:#x}{_hash_words(e.key, hash_name)}. Its home is "
        f"{e.hash:#x} & {e.capacity - 1} = {e.index}: the low bits of the hash pick "
    )
    if e.group is None:
        return text + f"slot {e.index} of {e.capacity}."
    return (
        text + f"bucket {e.index} of {e.capacity}; the top bits pick group {e.group} "
        f"of {e.groups} inside it."
    )


def _probe(e: ProbeEvent) -> str:
    if e.slot is None:
        if e.state == "empty":
            return f"Group {e.group} of bucket {e.bucket} is empty: nothing to compare."
        return f"Look at entry {e.position} of the chain in bucket {e.bucket}, group {e.group}."
    where = f"Slot {e.slot} (distance {e.distance} from home)"
    if e.state == "empty":
        return f"{where} is empty: the walk stops here."
    if e.state == "tombstone":
        return f"{where} holds a tombstone: keep walking, a key may lie beyond it."
    dib = e.resident_dib
    if dib is not None and dib < e.distance:
        return (
            f"{where} holds a key only {dib} from its home, closer than we are: "
            "in a Robin Hood table our key would have taken this slot, so it cannot be further on."
        )
    return f"{where} is occupied by a key {dib} from its home."


def _compare(e: CompareEvent) -> str:
    if e.equal:
        return f"Compare {_q(e.key)} with {_q(e.other)}: they match."
    return f"Compare {_q(e.key)} with {_q(e.other)}: different keys, keep going."


def _place(e: PlaceEvent) -> str:
    if e.replaced:
        return f"{_q(e.key)} is already here: only its value changes, to {_q(e.value)}."
    if e.slot is not None:
        extra = " It reuses a tombstone's slot." if e.reused_tombstone else ""
        steps = "at its home" if e.dib == 0 else f"{_count(e.dib or 0, 'step')} from its home"
        return f"Store {_q(e.key)} in slot {e.slot}, {steps}.{extra}"
    return (
        f"Append {_q(e.key)} to the chain of bucket {e.bucket}, group {e.group} "
        f"(position {e.position})."
    )


def _displace(e: DisplaceEvent) -> str:
    return (
        f"Robin Hood swap at slot {e.slot}: {_q(e.incoming)} is {e.incoming_dib} from home, "
        f"{_q(e.evicted)} only {e.evicted_dib}. The poorer key takes the slot and the richer "
        f"one, {_q(e.evicted)}, moves on to find another."
    )


def _result(e: ResultEvent) -> str:
    probes = _count(e.probes, "probe")
    if e.op == "get":
        if e.found:
            return f"Found {_q(e.key)} = {_q(e.value)} after {probes}."
        return f"{_q(e.key)} is not in the map ({probes})."
    if e.op == "put":
        return f"{_q(e.key)} {'updated' if e.found else 'inserted'} after {probes}."
    return f"{_q(e.key)} {'deleted' if e.found else 'was not in the map'} ({probes})."


def _migrate(e: MigrateEvent) -> str:
    if e.phase == "start":
        return (
            f"Migration starts: {e.total} entries will move from {e.source} to {e.target}, "
            f"a few on every operation, so no single operation pays for all of them "
            f"({e.reason})."
        )
    if e.phase == "end":
        return f"Migration done: all {e.moved_total} entries now live in the {e.target} table."
    limit = f" (at most {e.batch} per operation)" if e.batch else ""
    moved = f"{_keys(e.keys)} moved" if e.keys else f"{_count(e.moved, 'entry', 'entries')} moved"
    why = ""
    if e.batch and e.moved < e.batch:
        held = "held only one" if e.moved == 1 else f"held only {e.moved}"
        span = f"position {e.start}" if e.cursor - e.start <= 1 else (
            f"positions {e.start}\u2013{e.cursor - 1}"
        )
        why = f"; {span} {held}"
    return (
        f"Migration batch{limit}: {moved} from {e.source} to {e.target}{why}. "
        f"{e.moved_total} of {e.total} moved; the cursor is now at {e.cursor}."
    )


def narrate(
    event: TraceEvent | None, *, op: Operation, backend: str, hash_name: str | None = None
) -> str:
    """One or two plain sentences for a micro-step (``None``: the operation's start);
    ``hash_name`` (the map's hash function) lets the hash step say what was computed."""
    del backend  # the events carry their table; kept for future per-backend wording
    if event is None:
        return _opening(op)
    if isinstance(event, HashEvent):
        return _hash(event, hash_name)
    if isinstance(event, ProbeEvent):
        return _probe(event)
    if isinstance(event, CompareEvent):
        return _compare(event)
    if isinstance(event, PlaceEvent):
        return _place(event)
    if isinstance(event, DisplaceEvent):
        return _displace(event)
    if isinstance(event, TombstoneEvent):
        return (
            f"Mark slot {event.slot} as a tombstone ({_q(event.key)} was here). It keeps its "
            "distance so later lookups walk past it instead of stopping early."
        )
    if isinstance(event, RemoveEvent):
        if event.slot is not None:
            return f"Empty slot {event.slot} ({_q(event.key)} was here); now close the gap."
        return f"Unlink {_q(event.key)} from its chain; the entries after it move up."
    if isinstance(event, BackshiftEvent):
        return (
            f"Backward shift: {_q(event.key)} moves from slot {event.from_slot} back to "
            f"{event.to_slot}, one step closer to home (distance {event.dib})."
        )
    if isinstance(event, ResizeEvent):
        return (
            f"The table is too full ({event.reason}): grow from {event.old_capacity} to "
            f"{event.new_capacity} and re-place all {event.size} entries by their hashes."
        )
    if isinstance(event, CompactEvent):
        return (
            f"Compaction removed {_count(event.tombstones_removed, 'tombstone')} by rebuilding the "
            f"table at capacity {event.capacity}."
        )
    if isinstance(event, GuardrailEvent):
        return (
            f"Guardrail crossed: {event.metric} is {event.value:g}, above {event.threshold:g}. "
            f"The adaptive map decides to {event.action}."
        )
    if isinstance(event, MigrateEvent):
        return _migrate(event)
    if isinstance(event, ResultEvent):
        return _result(event)
    return event.describe()
