"""What every command receives: the parsed flags, the settings and the output."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeAlias

from engine.cli.output import Output
from engine.records import FrozenRecord
from engine.settings.defaults import (
    DefaultHashing,
    DefaultLimits,
    DefaultSampling,
    build_default_map,
)

if TYPE_CHECKING:
    from engine.maps.base import BaseMap
    from engine.settings.models import HashingSettings, LimitsSettings, SamplingSettings, Settings

__all__ = ["Context", "SubParsers"]

SubParsers: TypeAlias = "argparse._SubParsersAction[Any]"


class Context(FrozenRecord):
    """``loaded`` holds the validated settings, or None when nothing overrides a default
    (no ``--config``, no ``ADHASH_*`` variable): then the hot paths read
    :mod:`engine.settings.defaults` and :attr:`settings` loads the models only when asked."""

    args: argparse.Namespace
    backend: str
    out: Output
    #: Runs a whole command line as ``engine`` would (``profile --then``): the app's
    #: ``main``, handed down so that no command module imports the app back.
    rerun: Callable[[Sequence[str]], int]
    loaded: Settings | None = None

    @cached_property
    def settings(self) -> Settings:
        """Every setting, validated (pydantic)."""
        if self.loaded is not None:
            return self.loaded
        from engine.settings.models import load_settings

        return load_settings(None)

    @property
    def sampling(self) -> SamplingSettings | DefaultSampling:
        return DefaultSampling() if self.loaded is None else self.loaded.sampling

    @property
    def limits(self) -> LimitsSettings | DefaultLimits:
        return DefaultLimits() if self.loaded is None else self.loaded.limits

    @property
    def hashing(self) -> HashingSettings | DefaultHashing:
        return DefaultHashing() if self.loaded is None else self.loaded.hashing

    def build_map(self, backend: str | None = None) -> BaseMap:
        kind = backend or self.backend
        if self.loaded is None:
            return build_default_map(kind)
        return self.loaded.build_map(kind)
