"""The operation timeline: every operation done so far, with checkpoints.

Going back is instant because the timeline keeps a copy of the map every
``checkpoint_every`` operations: the state before operation ``i`` is the nearest earlier
checkpoint plus at most ``checkpoint_every - 1`` untraced operations. The frames of an
operation are rebuilt on demand from that state (and cached for the few most recent).
"""

from __future__ import annotations

import gc
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from engine import BaseMap, ResultEvent, TraceEvent, trace
from explorer.model.frames import STRUCTURAL, Frame, build_frames
from explorer.model.map_config import MapConfig
from explorer.model.operations import Operation

__all__ = ["OpRecord", "Timeline", "apply_operation"]

FRAME_CACHE = 8


@dataclass(frozen=True, slots=True)
class OpRecord:
    """What one operation did: its result and which structural events it caused."""

    op: Operation
    result: ResultEvent | None
    structural: tuple[str, ...]

    @property
    def summary(self) -> str:
        if self.result is None:
            return self.op.text()
        return self.result.describe()


def apply_operation(mapping: BaseMap, op: Operation) -> None:
    """Run ``op`` on ``mapping`` (a missing key is a normal outcome, not an error)."""
    if op.op == "put":
        mapping[op.key] = op.value
    elif op.op == "get":
        mapping.get(op.key)
    elif op.op == "del":
        mapping.discard(op.key)
    else:
        mapping.compact()


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Building a frame allocates tens of thousands of small containers; with the
    checkpoints' objects in the heap, a full cyclic collection triggered mid-build costs
    more than the build. Nothing built here forms cycles, so reference counting frees it;
    the collector runs again afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _CapturingTrace(list[TraceEvent]):
    """A trace list that keeps the map's layout after each structural event."""

    def __init__(self, mapping: BaseMap) -> None:
        super().__init__()
        self.mapping = mapping
        self.captured: dict[int, Mapping[str, Any]] = {}

    def append(self, event: TraceEvent) -> None:
        super().append(event)
        if isinstance(event, STRUCTURAL):
            self.captured[id(event)] = self.mapping.layout()


class Timeline:
    """Operations, their records, checkpoints and the live map (state after the last)."""

    def __init__(
        self, config: MapConfig, checkpoint_every: int = 64, start: BaseMap | None = None
    ) -> None:
        """``start``: the map before the first operation (a copy is kept); by default an
        empty map built from ``config``."""
        if checkpoint_every < 1:
            raise ValueError("checkpoint_every must be at least 1")
        self.config = config
        self.checkpoint_every = checkpoint_every
        self._live = start.copy() if start is not None else config.build()
        self._ops: list[Operation] = []
        self._records: list[OpRecord] = []
        self._records_view: tuple[OpRecord, ...] | None = None
        self._checkpoints: dict[int, BaseMap] = {0: self._live.copy()}
        self._frames: OrderedDict[int, list[Frame]] = OrderedDict()
        self._layouts: OrderedDict[int, Mapping[str, Any]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._ops)

    @property
    def live(self) -> BaseMap:
        """The map after the last operation (do not modify it)."""
        return self._live

    def operation(self, index: int) -> Operation:
        return self._ops[index]

    def record(self, index: int) -> OpRecord:
        return self._records[index]

    @property
    def records(self) -> tuple[OpRecord, ...]:
        """Every operation's record; the same tuple until the timeline changes (a view
        can tell by identity that nothing changed). O(1), O(operations) after a change."""
        if self._records_view is None:
            self._records_view = tuple(self._records)
        return self._records_view

    def append(self, op: Operation) -> OpRecord:
        """Run ``op`` on the live map and record it. O(1) expected, plus a checkpoint copy
        (O(n)) every ``checkpoint_every`` operations."""
        index = len(self._ops)
        if index % self.checkpoint_every == 0 and index not in self._checkpoints:
            self._checkpoints[index] = self._live.copy()
        with trace(self._live) as events:
            apply_operation(self._live, op)
        result = next((e for e in reversed(events) if isinstance(e, ResultEvent)), None)
        structural = tuple(e.kind for e in events if isinstance(e, STRUCTURAL))
        record = OpRecord(op, result, structural)
        self._ops.append(op)
        self._records.append(record)
        self._records_view = None
        self._layouts.pop(index, None)  # the live state moved on
        return record

    def extend(self, ops: Iterable[Operation]) -> int:
        """Append many operations; returns how many."""
        count = 0
        for op in ops:
            self.append(op)
            count += 1
        return count

    def truncate(self, length: int) -> None:
        """Forget every operation from ``length`` on (the live map goes back too)."""
        if not 0 <= length <= len(self._ops):
            raise IndexError(f"cannot truncate to {length} of {len(self._ops)} operations")
        if length == len(self._ops):
            return
        self._live = self.state_before(length)
        del self._ops[length:]
        del self._records[length:]
        self._records_view = None
        for index in [i for i in self._checkpoints if i > length]:
            del self._checkpoints[index]
        for index in [i for i in self._frames if i >= length]:
            del self._frames[index]
        for index in [i for i in self._layouts if i > length]:
            del self._layouts[index]

    def state_before(self, index: int) -> BaseMap:
        """A fresh copy of the map as it was before operation ``index``
        (``index == len(self)``: after the last). O(n + checkpoint_every)."""
        if not 0 <= index <= len(self._ops):
            raise IndexError(f"no operation {index} (have {len(self._ops)})")
        base = max(i for i in self._checkpoints if i <= index)
        mapping = self._checkpoints[base].copy()
        for op in self._ops[base:index]:
            apply_operation(mapping, op)
        return mapping

    def frames(self, index: int) -> list[Frame]:
        """The micro-steps of operation ``index`` (cached for the most recent few)."""
        cached = self._frames.get(index)
        if cached is not None:
            self._frames.move_to_end(index)
            return cached
        with _cyclic_gc_paused():
            frames = self._build_frames(index)
        self._frames[index] = frames
        if len(self._frames) > FRAME_CACHE:
            self._frames.popitem(last=False)
        return frames

    def _build_frames(self, index: int) -> list[Frame]:
        op = self._ops[index]
        mapping = self.state_before(index)
        before = self._layouts.get(index) or self._remember(index, mapping.layout())
        capture = _CapturingTrace(mapping)
        with trace(mapping, into=capture):
            apply_operation(mapping, op)
        recorded = [(event, capture.captured.get(id(event))) for event in capture]
        after = self._layouts.get(index + 1) or self._remember(index + 1, mapping.layout())
        return build_frames(op, self.config.backend, before, recorded, after)

    def layout_at(self, index: int) -> Mapping[str, Any]:
        """The map's layout before operation ``index`` (``len(self)``: the live map),
        cached: the layout after one operation is the layout before the next."""
        cached = self._layouts.get(index)
        if cached is not None:
            return cached
        mapping = self._live if index == len(self._ops) else self.state_before(index)
        return self._remember(index, mapping.layout())

    def _remember(self, index: int, layout: Mapping[str, Any]) -> Mapping[str, Any]:
        self._layouts[index] = layout
        self._layouts.move_to_end(index)
        if len(self._layouts) > 2 * FRAME_CACHE:
            self._layouts.popitem(last=False)
        return layout
