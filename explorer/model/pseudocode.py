"""The algorithms' pseudocode, and which line each trace event corresponds to.

The lines follow the engine's own order of work (for instance, a Robin Hood insert first
searches for the key, then grows the table if needed, then places with swaps).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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

__all__ = ["PSEUDOCODE", "Pseudocode", "pseudocode_for"]

LineRule = Callable[[TraceEvent, bool, bool], int | None]


@dataclass(frozen=True)
class Pseudocode:
    """A titled listing; ``rule(event, displaced, resized)`` names the line for an event."""

    title: str
    lines: tuple[str, ...]
    rule: LineRule

    def line_for(self, event: TraceEvent, displaced: bool = False, resized: bool = False) -> int:
        found = self.rule(event, displaced, resized)
        return len(self.lines) - 1 if found is None else found


def _rh_put(e: TraceEvent, displaced: bool, resized: bool) -> int | None:
    inserting = displaced or resized
    if isinstance(e, HashEvent):
        return 7 if resized else 1
    if isinstance(e, ProbeEvent):
        if not inserting:
            return 2
        return 9 if e.state in ("empty", "tombstone") else 8
    if isinstance(e, CompareEvent):
        return 3
    if isinstance(e, PlaceEvent):
        return 4 if e.replaced else 9
    if isinstance(e, ResizeEvent):
        return 6
    if isinstance(e, DisplaceEvent):
        return 10
    return None


RH_PUT = Pseudocode(
    "Robin Hood insert",
    (
        "put(key, value):",
        "  h = hash(key); i = h & (cap-1); d = 0",
        "  while slot[i].dib >= d:       # search",
        "    if slot[i].key == key:",
        "      slot[i].value = value; return",
        "    i = (i+1) & (cap-1); d = d + 1",
        "  if too full: grow x2, re-place all",
        "    i = h & (cap-1); d = 0",
        "  loop:                         # insert",
        "    if slot[i] is free: store (key, d)",
        "    elif slot[i].dib < d: swap with it",
        "    i = (i+1) & (cap-1); d = d + 1",
        "  return",
    ),
    _rh_put,
)


def _rh_get(e: TraceEvent, displaced: bool, resized: bool) -> int | None:
    if isinstance(e, HashEvent):
        return 1
    if isinstance(e, ProbeEvent):
        rich = e.resident_dib is not None and e.resident_dib < e.distance
        return 4 if e.state == "empty" or rich else 2
    if isinstance(e, CompareEvent):
        return 5
    if isinstance(e, ResultEvent):
        return 5 if e.found else 4
    return None


RH_GET = Pseudocode(
    "Robin Hood lookup",
    (
        "get(key):",
        "  h = hash(key); i = h & (cap-1); d = 0",
        "  loop:",
        "    if slot[i] empty or slot[i].dib < d:",
        "      return not found     # early exit",
        "    if slot[i].key == key: return value",
        "    i = (i+1) & (cap-1); d = d + 1",
        "  return",
    ),
    _rh_get,
)


def _rh_del(e: TraceEvent, displaced: bool, resized: bool) -> int | None:
    if isinstance(e, HashEvent | ProbeEvent | CompareEvent):
        return 1
    if isinstance(e, TombstoneEvent):
        return 4
    if isinstance(e, RemoveEvent):
        return 6
    if isinstance(e, BackshiftEvent):
        return 8
    return None


RH_DEL = Pseudocode(
    "Robin Hood delete",
    (
        "del(key):",
        "  find key as in get(key)",
        "  if not found: return",
        "  if deletion == tombstone:",
        "    mark slot[i] a tombstone (keeps dib)",
        "  else:                # backward shift",
        "    empty slot[i]",
        "    while slot[i+1].dib > 0:",
        "      move it back to i (dib-1); i += 1",
        "  return",
    ),
    _rh_del,
)


def _ch_common(e: TraceEvent) -> int | None:
    if isinstance(e, HashEvent):
        return 1
    if isinstance(e, ProbeEvent | CompareEvent):
        return 3
    return None


def _ch_put(e: TraceEvent, displaced: bool, resized: bool) -> int | None:
    if isinstance(e, HashEvent) and resized:
        return 6
    if isinstance(e, CompareEvent):
        return 4
    if isinstance(e, PlaceEvent):
        return 4 if e.replaced else 7
    if isinstance(e, ResizeEvent):
        return 6
    return _ch_common(e)


CH_PUT = Pseudocode(
    "Two-level chaining insert",
    (
        "put(key, value):",
        "  h = hash(key); b = h & (buckets-1)",
        "  g = top bits of h    # group in bucket",
        "  for each entry e in chain(b, g):",
        "    if e.key == key: e.value = value",
        "  if size + 1 > max_load * buckets:",
        "    double buckets, re-link every entry",
        "  append (key, value) to chain(b, g)",
        "  return",
    ),
    _ch_put,
)


def _ch_get(e: TraceEvent, displaced: bool, resized: bool) -> int | None:
    if isinstance(e, CompareEvent) or (isinstance(e, ResultEvent) and e.found):
        return 4
    return _ch_common(e)


CH_GET = Pseudocode(
    "Two-level chaining lookup",
    (
        "get(key):",
        "  h = hash(key); b = h & (buckets-1)",
        "  g = top bits of h    # group in bucket",
        "  for each entry e in chain(b, g):",
        "    if e.key == key: return e.value",
        "  return not found",
    ),
    _ch_get,
)


def _ch_del(e: TraceEvent, displaced: bool, resized: bool) -> int | None:
    if isinstance(e, RemoveEvent | CompareEvent) or (isinstance(e, ResultEvent) and e.found):
        return 4
    return _ch_common(e)


CH_DEL = Pseudocode(
    "Two-level chaining delete",
    (
        "del(key):",
        "  h = hash(key); b = h & (buckets-1)",
        "  g = top bits of h    # group in bucket",
        "  for each entry e in chain(b, g):",
        "    if e.key == key: unlink e, return",
        "  return not found",
    ),
    _ch_del,
)


def _adaptive(e: TraceEvent, displaced: bool, resized: bool) -> int | None:
    if isinstance(e, GuardrailEvent):
        return 2
    if isinstance(e, MigrateEvent):
        return {"start": 3, "batch": 6, "end": 7}.get(e.phase)
    return None


ADAPTIVE = Pseudocode(
    "Adaptive map, around every operation",
    (
        "operation(key):",
        "  run it on the active table",
        "  if a guardrail is crossed:",
        "    start migrating: new table, cursor 0",
        "  while migrating, on every operation:",
        "    reads: target, then source",
        "    move a batch at the cursor to target",
        "    cursor at end: target becomes active",
        "  return",
    ),
    _adaptive,
)


def _compact(e: TraceEvent, displaced: bool, resized: bool) -> int | None:
    if isinstance(e, MigrateEvent):
        return 1
    if isinstance(e, CompactEvent):
        return 2
    return None


COMPACT = Pseudocode(
    "Compaction",
    (
        "compact():",
        "  (adaptive: finish a migration first)",
        "  rebuild at the same capacity from",
        "  the live entries: no tombstones left",
        "  return",
    ),
    _compact,
)

PSEUDOCODE: dict[tuple[str, str], Pseudocode] = {
    ("robinhood", "put"): RH_PUT,
    ("robinhood", "get"): RH_GET,
    ("robinhood", "del"): RH_DEL,
    ("chaining", "put"): CH_PUT,
    ("chaining", "get"): CH_GET,
    ("chaining", "del"): CH_DEL,
}


def pseudocode_for(backend: str, op: str, family: str) -> Pseudocode | None:
    """The listing to show for ``op`` on ``backend`` while ``family``'s table works."""
    if op == "compact":
        return COMPACT
    if family == "adaptive" or (backend == "adaptive" and family not in ("robinhood", "chaining")):
        return ADAPTIVE
    return PSEUDOCODE.get((family, op))
