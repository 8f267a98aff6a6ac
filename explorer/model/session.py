"""The explorer's model: a timeline of operations and the position being shown.

No Qt here: views subscribe with :meth:`Session.subscribe` and redraw from
:meth:`Session.frame`. A position is ``(op, step)``: micro-step ``step`` of operation
``op``; ``op == len(timeline)`` is the end (the state after every operation).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from explorer.model.frames import Frame, tables_of
from explorer.model.jump import JumpIn
from explorer.model.map_config import MapConfig
from explorer.model.operations import Operation, parse_command
from explorer.model.pseudocode import pseudocode_for
from explorer.model.sources import load_workload, random_fill
from explorer.model.timeline import OpRecord, Timeline

__all__ = ["Listener", "Position", "Session"]

Listener = Callable[[str], None]


@dataclass(frozen=True, order=True, slots=True)
class Position:
    op: int
    step: int


@dataclass(frozen=True)
class SessionState:
    """What a session shows: kept by a reset, so that it can be undone."""

    timeline: Timeline
    twin: Timeline | None
    position: Position
    end_frames: dict[int, Frame]
    title: str
    description: str


class Session:
    """Operations, the current position, and an optional twin map run on the same
    operations (the side-by-side comparison some demos use)."""

    #: what the end frame suggests doing next (a notebook session says it its own way)
    next_hint = "Type an operation such as 'put apple 1'"

    def __init__(
        self,
        config: MapConfig | None = None,
        *,
        twin: MapConfig | None = None,
        checkpoint_every: int = 64,
    ) -> None:
        self._checkpoint_every = checkpoint_every
        self._listeners: list[Listener] = []
        self.title = ""
        self.description = ""
        self._install(config or MapConfig(), twin)

    # ------------------------------------------------------------------ plumbing
    def _install(self, config: MapConfig, twin: MapConfig | None) -> None:
        self.timeline = Timeline(config, self._checkpoint_every)
        self.twin = None if twin is None else Timeline(twin, self._checkpoint_every)
        self.position = Position(0, 0)
        self._end_frames: dict[int, Frame] = {}

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(reason)`` after every change; reason is ``position``,
        ``operations`` or ``reset``."""
        self._listeners.append(listener)

    def _notify(self, reason: str) -> None:
        for listener in list(self._listeners):
            listener(reason)

    @property
    def config(self) -> MapConfig:
        return self.timeline.config

    def __len__(self) -> int:
        return len(self.timeline)

    @property
    def at_end(self) -> bool:
        return self.position.op >= len(self.timeline)

    # ------------------------------------------------------------------ what is shown
    def frames_here(self) -> list[Frame]:
        """Micro-steps of the current operation (empty at the end)."""
        return [] if self.at_end else self.timeline.frames(self.position.op)

    def frame(self) -> Frame:
        """The frame at the current position."""
        return self._frame_of(self.timeline, 0)

    def twin_frame(self) -> Frame | None:
        """The twin map's frame for the same operation and micro-step (clamped)."""
        return None if self.twin is None else self._frame_of(self.twin, 1)

    def _frame_of(self, timeline: Timeline, slot: int) -> Frame:
        if self.position.op >= len(timeline):
            key = (slot << 32) | len(timeline)
            end = self._end_frames.get(key)
            if end is None:
                tables, migration = tables_of(timeline.layout_at(len(timeline)))
                done = len(timeline)
                ops = "1 operation" if done == 1 else f"{done} operations"
                end = Frame(
                    index=0,
                    event=None,
                    tables=tables,
                    narration=(
                        f"{ops} done. {self.next_hint}, or step back to replay them."
                        if done
                        else f"An empty map. {self.next_hint}."
                    ),
                    # what the next operation typed will run: an insert, nothing lit yet
                    pseudocode=pseudocode_for(timeline.config.backend, "put", tables[-1].kind),
                    line=None,
                    migration=migration,
                )
                self._end_frames[key] = end
            return end
        frames = timeline.frames(self.position.op)
        return frames[min(self.position.step, len(frames) - 1)]

    def prefetch(self) -> None:
        """Build the frames of the operations either side of the current one, so the
        next step in either direction is instant (call it when the app is idle)."""
        op = self.position.op
        for index in (op - 1, op + 1):
            if 0 <= index < len(self.timeline):
                self.timeline.frames(index)

    def record(self, index: int) -> OpRecord:
        return self.timeline.record(index)

    # ------------------------------------------------------------------ moving
    def _move(self, position: Position) -> bool:
        if position == self.position:
            return False
        self.position = position
        self._notify("position")
        return True

    def step_forward(self) -> bool:
        """Next micro-step (into the next operation after the last one). False at the end."""
        if self.at_end:
            return False
        op, step = self.position.op, self.position.step
        if step + 1 < len(self.timeline.frames(op)):
            return self._move(Position(op, step + 1))
        return self._move(Position(op + 1, 0))

    def step_back(self) -> bool:
        """Previous micro-step (the last one of the previous operation). False at the start."""
        op, step = self.position.op, self.position.step
        if step > 0:
            return self._move(Position(op, step - 1))
        if op == 0:
            return False
        return self._move(Position(op - 1, len(self.timeline.frames(op - 1)) - 1))

    def op_forward(self) -> bool:
        """Finish the current operation: go to the start of the next one."""
        if self.at_end:
            return False
        return self._move(Position(self.position.op + 1, 0))

    def op_back(self) -> bool:
        """Back to the start of this operation, or of the previous one if already there."""
        if self.position.step > 0:
            return self._move(Position(self.position.op, 0))
        if self.position.op == 0:
            return False
        return self._move(Position(self.position.op - 1, 0))

    def seek(self, op: int) -> bool:
        """Jump to the start of operation ``op`` (clamped; ``len(self)`` is the end)."""
        return self._move(Position(max(0, min(op, len(self.timeline))), 0))

    def to_start(self) -> bool:
        return self.seek(0)

    def to_end(self) -> bool:
        return self.seek(len(self.timeline))

    # ------------------------------------------------------------------ changing
    def execute(self, op: Operation | str) -> OpRecord:
        """Record one operation after the last one and move to its first micro-step.
        Nothing recorded is ever dropped: from a position in the past, the new operation
        still goes to the end of the timeline (use :meth:`truncate` to cut it first)."""
        operation = parse_command(op) if isinstance(op, str) else op
        self._end_frames.clear()
        record = self.timeline.append(operation)
        if self.twin is not None:
            self.twin.append(operation)
        self.position = Position(len(self.timeline) - 1, 0)
        self._notify("operations")
        return record

    def add_operations(self, ops: Sequence[Operation], *, go_to: str = "end") -> int:
        """Record many operations; then show the end (``go_to="end"``) or the first new
        one (``"first"``)."""
        self._end_frames.clear()
        first = len(self.timeline)
        self.timeline.extend(ops)
        if self.twin is not None:
            self.twin.extend(ops)
        target = first if go_to == "first" and ops else len(self.timeline)
        self.position = Position(target, 0)
        self._notify("operations")
        return len(ops)

    def truncate(self) -> int:
        """Drop every operation from the current one on, so the next one starts from the
        state on screen; returns how many were dropped."""
        dropped = len(self.timeline) - self.position.op
        if dropped > 0:
            self.timeline.truncate(self.position.op)
            if self.twin is not None:
                self.twin.truncate(self.position.op)
            self.position = Position(self.position.op, 0)
            self._end_frames.clear()
            self._notify("operations")
        return max(0, dropped)

    def snapshot_state(self) -> SessionState:
        """Everything :meth:`restore_state` needs to come back here (shared, not copied:
        a reset replaces the timelines, it never changes them). O(1)."""
        return SessionState(
            self.timeline, self.twin, self.position, self._end_frames, self.title,
            self.description,
        )

    def restore_state(self, state: SessionState) -> None:
        """Return to a :meth:`snapshot_state` (undo a reset)."""
        self.timeline, self.twin, self.position = state.timeline, state.twin, state.position
        self._end_frames = state.end_frames
        self.title, self.description = state.title, state.description
        self._notify("reset")

    def reset(self, config: MapConfig | None = None, *, twin: MapConfig | None = None) -> None:
        """Start again with an empty map (``config`` defaults to the current one)."""
        if config is None:
            config = self.config
            twin = None if self.twin is None else self.twin.config
        self._install(config, twin)
        self.title = self.description = ""
        self._notify("reset")

    def load_workload(self, path: str | Path) -> int:
        """Replace the operations by a workload CSV's (validated first: a bad file
        changes nothing) and go to its first operation."""
        return self.adopt(self.prepare_workload(path))

    def prepare_workload(self, path: str | Path) -> tuple[Timeline, Timeline | None]:
        """Read ``path`` and record its operations on fresh maps, touching nothing of
        this session's state (so it may run on a worker thread). O(rows)."""
        ops = load_workload(path)
        timeline = Timeline(self.config, self._checkpoint_every)
        timeline.extend(ops)
        twin = None
        if self.twin is not None:
            twin = Timeline(self.twin.config, self._checkpoint_every)
            twin.extend(ops)
        return timeline, twin

    def adopt(self, prepared: tuple[Timeline, Timeline | None]) -> int:
        """Show timelines made by :meth:`prepare_workload`, from their first operation."""
        self.timeline, self.twin = prepared
        self.position = Position(0, 0)
        self._end_frames = {}
        self.title = self.description = ""
        self._notify("reset")
        return len(self.timeline)

    def jump_in(self, jump: JumpIn) -> int:
        """Show a moment of a run: ``jump.start`` (the map just before operation
        ``jump.first_op`` of the workload) with the operations that follow as the
        timeline, from the first."""
        timeline = Timeline(jump.config, self._checkpoint_every, start=jump.start)
        timeline.extend(jump.operations)
        self.adopt((timeline, None))
        self.title = f"Operation {jump.first_op:,} of {jump.source}"
        self.description = jump.description
        self._notify("reset")
        return len(timeline)

    def fill(self, count: int, *, adversarial: int = 0, seed: int | None = None) -> int:
        """Insert ``count`` random keys (some crafted to collide) and show the result."""
        base = len(self.timeline) if seed is None else seed
        fill = random_fill(count, adversarial=adversarial, seed=base, hash=self.config.hash)
        return self.add_operations(fill)

    def replay(self, ops: Iterable[Operation]) -> None:
        """Start over from an empty map with ``ops`` queued, positioned at the first."""
        self._install(self.config, None if self.twin is None else self.twin.config)
        self.add_operations(list(ops), go_to="first")
