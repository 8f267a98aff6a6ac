"""A :class:`~explorer.model.Session` for notebook code: ``put``, ``get``, ``delete`` and
``compact`` methods, a picture of its current step, and a start from an existing map.

The explorer's sessions take operations as lines (``session.execute("put k 1")``); in a
notebook, ``s.put("k", 1)`` reads better. Keys are strings, as on the explorer's operation
line and in workload files; values are stored as their text. Each call records the
operation and moves to its first micro-step, exactly like the desktop app's operation box,
so a Qt window opened on the session (:func:`explorer.notebook.open_window`) and a
:class:`~explorer.notebook.Stepper` follow it.
"""

from __future__ import annotations

from typing import Any

from engine import BaseMap
from explorer.model.map_config import MapConfig
from explorer.model.operations import Operation
from explorer.model.session import Session
from explorer.model.timeline import OpRecord, Timeline

__all__ = ["NotebookSession", "config_of", "session"]


def config_of(mapping: BaseMap) -> MapConfig:
    """The explorer's configuration closest to an existing map (its backend, capacity,
    hash, deletion and groups), for a session that starts from that map."""
    layout = mapping.layout()
    kind = str(layout["kind"])
    inner = layout["tables"][-1]["layout"] if kind == "adaptive" else layout
    spec = layout.get("hash") or {}
    fields: dict[str, Any] = {"backend": kind, "capacity": int(inner["capacity"])}
    name = spec.get("name")
    if name in ("crc32", "fast", "keyed"):
        fields["hash"] = name
        if name == "keyed" and spec.get("seed"):
            fields["seed"] = str(spec["seed"])
    if "deletion" in inner:
        fields["deletion"] = inner["deletion"]
    if "groups" in inner:
        fields["groups"] = int(inner["groups"])
    try:
        return MapConfig(**fields)
    except ValueError:
        return MapConfig(backend=fields["backend"])


class NotebookSession(Session):
    """A session with one method per operation and a picture (``_repr_svg_``)."""

    next_hint = "Call put('apple', 1) on the session to add one"

    def put(self, key: str, value: object) -> OpRecord:
        return self.execute(Operation("put", str(key), str(value)))

    def get(self, key: str) -> OpRecord:
        return self.execute(Operation("get", str(key)))

    def delete(self, key: str) -> OpRecord:
        return self.execute(Operation("del", str(key)))

    def compact(self) -> OpRecord:
        return self.execute(Operation("compact"))

    @classmethod
    def from_map(cls, mapping: BaseMap) -> NotebookSession:
        """A session whose operations start from (a copy of) ``mapping``."""
        config = config_of(mapping)
        out = cls(config)
        out.adopt((Timeline(config, out._checkpoint_every, start=mapping), None))
        return out

    def _repr_svg_(self) -> str:
        from explorer.notebook.views import session_picture

        return session_picture(self).svg


def session(
    backend: str = "robinhood", *, start: BaseMap | None = None, **options: Any
) -> NotebookSession:
    """A new notebook session: an empty map built from ``backend`` and the explorer's
    map options (``capacity``, ``deletion``, ``max_load_factor``, ``groups``, ``hash``,
    ``extra``…), or a copy of ``start``."""
    if start is not None:
        return NotebookSession.from_map(start)
    return NotebookSession(MapConfig.parse(backend=backend, **options))
