"""The explorer's Qt-free model: operations, timeline, frames, narration, demos."""

from __future__ import annotations

from explorer.model.demos import DEMOS, Demo, load_demo
from explorer.model.frames import Frame, Loc, TableState
from explorer.model.map_config import MapConfig, MapConfigError
from explorer.model.operations import CommandError, Operation, parse_command
from explorer.model.session import Position, Session
from explorer.model.sources import WorkloadLoadError, load_workload, random_fill
from explorer.model.timeline import OpRecord, Timeline

__all__ = [
    "DEMOS",
    "CommandError",
    "Demo",
    "Frame",
    "Loc",
    "MapConfig",
    "MapConfigError",
    "OpRecord",
    "Operation",
    "Position",
    "Session",
    "TableState",
    "Timeline",
    "WorkloadLoadError",
    "load_demo",
    "load_workload",
    "parse_command",
    "random_fill",
]
