"""What every command receives: the parsed flags, the settings and the output."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any, TypeAlias

from engine.base import BaseMap
from engine.cli.output import Output
from engine.settings import Settings

__all__ = ["Context", "SubParsers"]

SubParsers: TypeAlias = "argparse._SubParsersAction[Any]"


@dataclass(frozen=True)
class Context:
    args: argparse.Namespace
    settings: Settings
    backend: str
    out: Output

    def build_map(self, backend: str | None = None) -> BaseMap:
        return self.settings.build_map(backend or self.backend)
