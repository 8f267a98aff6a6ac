"""``with engine.trace(m) as events:`` collects the trace events of every operation.

Outside a trace block a map checks one attribute per operation (``self._tracer is None``)
and runs its untraced fast path; nothing else is paid.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from engine.tracing.events import TraceEvent, TraceSink

__all__ = ["Traceable", "trace"]


class Traceable(Protocol):
    """What :func:`trace` needs from a map."""

    def _set_tracer(self, tracer: TraceSink | None) -> None: ...

    def _get_tracer(self) -> TraceSink | None: ...


@contextmanager
def trace(mapping: Traceable, into: list[TraceEvent] | None = None) -> Iterator[list[TraceEvent]]:
    """Collect the events of every operation on ``mapping`` inside the block.

    ``into`` receives the events instead of a new list: a ``list`` subclass may react to
    each ``append`` (the explorer captures the layout after structural events this way).
    Blocks may nest: the inner block receives the events while it is open and the outer
    one resumes afterwards.
    """
    events: list[TraceEvent] = [] if into is None else into
    previous = mapping._get_tracer()
    mapping._set_tracer(events)
    try:
        yield events
    finally:
        mapping._set_tracer(previous)
