"""The map the explorer shows: backend and options, validated, and the factory for it."""

from __future__ import annotations

import secrets
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from engine import BaseMap, create_map
from engine.maps.option_models import HashName

__all__ = ["MapConfig", "MapConfigError"]

Backend = Literal["robinhood", "chaining", "adaptive"]
BACKENDS: tuple[Backend, ...] = ("robinhood", "chaining", "adaptive")


class MapConfigError(ValueError):
    """The chosen options do not make a valid map; the message names the field."""


class MapConfig(BaseModel):
    """Everything needed to build the explorer's map.

    ``max_load_factor`` is the chosen backend's growth threshold (for the adaptive map, its
    Robin Hood side's); None keeps the backend's default. ``extra`` passes further engine
    options (guardrails, migration batch) through unchanged; the demos use it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: Backend = "robinhood"
    capacity: int = Field(16, ge=1, le=1 << 16)
    max_load_factor: float | None = Field(None, gt=0.0, le=8.0)
    deletion: Literal["backshift", "tombstone"] = "backshift"
    hash: HashName = "crc32"
    seed: str | None = None
    groups: int = Field(4, ge=1, le=64)
    extra: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _load_factor_fits_backend(self) -> MapConfig:
        lf = self.max_load_factor
        if lf is not None and self.backend != "chaining" and lf > 1.0:
            raise ValueError("max_load_factor must be at most 1.0 for open addressing")
        return self

    @classmethod
    def parse(cls, **fields: Any) -> MapConfig:
        """Validate ``fields``; raises :class:`MapConfigError` naming the first bad field."""
        try:
            return cls(**fields).with_fixed_seed()
        except ValidationError as exc:
            raise _config_error(exc) from None

    def with_fixed_seed(self) -> MapConfig:
        """The keyed hash needs a seed fixed once, so every rebuilt map hashes alike."""
        if self.hash == "keyed" and self.seed is None:
            return self.model_copy(update={"seed": secrets.token_hex(16)})
        return self

    def engine_options(self) -> dict[str, Any]:
        """Keyword options for :func:`engine.create_map`."""
        options: dict[str, Any] = {"capacity": self.capacity, "hash": self.hash}
        if self.hash == "keyed":
            options["seed"] = self.seed
        if self.backend in ("chaining", "adaptive"):
            options["groups"] = self.groups
        if self.backend in ("robinhood", "adaptive"):
            options["deletion"] = self.deletion
        if self.max_load_factor is not None:
            name = "robinhood_max_load_factor" if self.backend == "adaptive" else "max_load_factor"
            options[name] = self.max_load_factor
        options.update(self.extra)
        return options

    def build(self) -> BaseMap:
        """A new empty map. Raises :class:`MapConfigError` when the engine rejects an option."""
        try:
            return create_map(self.backend, **self.engine_options())
        except ValidationError as exc:
            raise _config_error(exc) from None
        except (ValueError, TypeError) as exc:
            raise MapConfigError(str(exc)) from None


def _config_error(exc: ValidationError) -> MapConfigError:
    """The first problem pydantic found, naming its field."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "options"
    return MapConfigError(f"{where}: {first['msg']}")
