"""Every setting of the CLI: pydantic models, a TOML file, environment overrides.

Precedence, highest first: command-line flags, environment variables
``ADHASH_<SECTION>__<FIELD>`` (for example ``ADHASH_ROBINHOOD__MAX_LOAD_FACTOR=0.7`` or
``ADHASH_ADAPTIVE__GUARDRAILS__MIN_ENTRIES=64``; top-level fields as ``ADHASH_BACKEND``),
the TOML file given with ``--config``, then the defaults. Errors name the field.
See ``docs/config.md``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from engine.errors import BadInputError, IOFailureError
from engine.maps.base import BaseMap
from engine.maps.factory import create_map
from engine.maps.hashing import HashSpec
from engine.maps.option_models import (
    MAX_CAPACITY,
    GuardrailConfig,
    HashName,
    cells_within_budget,
)
from engine.settings.defaults import (
    ENV_PREFIX,
    MAX_LATENCY_SAMPLES,
    MODES,
    RESERVED_ENV,
    Backend,
    environment_overrides,
)
from engine.workloads.csv_format import DEFAULT_MAX_BYTES, DEFAULT_MAX_ROWS

__all__ = [
    "ENV_PREFIX",
    "MODES",
    "RESERVED_ENV",
    "Settings",
    "describe_validation_error",
    "environment_overrides",
    "load_settings",
    "settings_to_toml",
]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True, allow_inf_nan=False)


class HashingSettings(_Section):
    function: HashName = Field(
        "crc32", description="crc32 (unseeded, default), fast (unseeded, snapshot v1) or keyed"
    )
    seed: str | int | None = Field(
        None, description="keyed seed: 32 hex digits or a non-negative int (decimal)"
    )

    @field_validator("seed")
    @classmethod
    def _seed_form(cls, value: str | int | None) -> str | int | None:
        if isinstance(value, str) and value.isdigit() and len(value) != 32:
            value = int(value)  # a decimal int, e.g. from ADHASH_HASHING__SEED=42
        if value is not None:
            try:
                HashSpec.create("keyed", value)
            except (ValueError, OverflowError) as exc:
                raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _seed_needs_keyed(self) -> HashingSettings:
        if self.seed is not None and self.function != "keyed":
            raise ValueError(
                f"a seed needs function = 'keyed' (the {self.function} hash has no seed)"
            )
        return self


def _power_of_two(value: int) -> int:
    if value & (value - 1):
        raise ValueError("must be a power of two")
    return value


class ChainingSettings(_Section):
    capacity: int = Field(64, ge=1, le=MAX_CAPACITY, description="initial buckets")
    max_load_factor: float = Field(0.75, gt=0.0, le=8.0)
    groups: int = Field(4, ge=1, le=64, description="groups per bucket, a power of two")

    _groups = field_validator("groups")(_power_of_two)

    @model_validator(mode="after")
    def _cells_fit(self) -> Self:
        cells_within_budget(self.capacity, self.groups)
        return self


class RobinHoodSettings(_Section):
    capacity: int = Field(64, ge=1, le=MAX_CAPACITY, description="initial slots")
    max_load_factor: float = Field(0.8, gt=0.0, le=1.0)
    deletion: Literal["backshift", "tombstone"] = "backshift"


class AdaptiveSettings(_Section):
    capacity: int = Field(64, ge=1, le=MAX_CAPACITY)
    initial_backend: Literal["chaining", "robinhood"] = "chaining"
    groups: int = Field(4, ge=1, le=64)

    _groups = field_validator("groups")(_power_of_two)
    chaining_max_load_factor: float = Field(1.0, gt=0.0, le=8.0)
    robinhood_max_load_factor: float = Field(0.8, gt=0.0, le=1.0)
    deletion: Literal["backshift", "tombstone"] = "backshift"
    migration_batch: int = Field(32, ge=1, le=1 << 20)
    guardrails: GuardrailConfig = Field(default_factory=GuardrailConfig)

    @model_validator(mode="after")
    def _cells_fit(self) -> Self:
        if self.initial_backend == "chaining":
            cells_within_budget(self.capacity, self.groups)
        return self


class SamplingSettings(_Section):
    latency_sample_k: int = Field(
        1000, ge=0, le=MAX_LATENCY_SAMPLES, description="latency reservoir size; 0 disables"
    )
    latency_sample_every: int = Field(128, ge=1, description="time every Nth operation")


class LimitsSettings(_Section):
    csv_max_rows: int = Field(DEFAULT_MAX_ROWS, ge=0, description="0 disables the check")
    csv_max_bytes: int = Field(DEFAULT_MAX_BYTES, ge=0, description="0 disables the check")
    snapshot_max_bytes: int = Field(
        512 * 1024 * 1024, ge=1, description="ceiling for a snapshot's decompressed payload"
    )


class Settings(BaseModel):
    """The whole configuration."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    backend: Backend = Field("adaptive", description="adaptive, chaining or robinhood")
    hashing: HashingSettings = Field(default_factory=HashingSettings)
    chaining: ChainingSettings = Field(default_factory=ChainingSettings)
    robinhood: RobinHoodSettings = Field(default_factory=RobinHoodSettings)
    adaptive: AdaptiveSettings = Field(default_factory=AdaptiveSettings)
    sampling: SamplingSettings = Field(default_factory=SamplingSettings)
    limits: LimitsSettings = Field(default_factory=LimitsSettings)

    def map_options(self, backend: str | None = None) -> tuple[str, dict[str, Any]]:
        """The map kind and its options for ``backend`` (default: ``self.backend``)."""
        kind = backend or self.backend
        section: BaseModel = {"chaining": self.chaining, "robinhood": self.robinhood}.get(
            kind, self.adaptive
        )
        options = section.model_dump()
        if kind == "adaptive":
            options["guardrails"] = self.adaptive.guardrails
        options["hash"] = self.hashing.function
        options["seed"] = self.hashing.seed
        return kind, options

    def build_map(self, backend: str | None = None) -> BaseMap:
        """A new map of ``backend`` configured from these settings."""
        kind, options = self.map_options(backend)
        try:
            return create_map(kind, **options)
        except (ValidationError, ValueError) as exc:
            detail = (
                describe_validation_error(exc) if isinstance(exc, ValidationError) else str(exc)
            )
            raise BadInputError(
                f"invalid settings for the {kind} map ([{kind}] or [hashing]): {detail}",
                "check the settings with `engine config validate FILE`",
            ) from None


def describe_validation_error(exc: ValidationError) -> str:
    """``section.field: message`` for each error, joined with ``; ``."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "(top level)"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


#: A settings file is a few KB; this refuses ``--config /dev/zero`` and the like.
MAX_CONFIG_BYTES = 1 << 20


def _read_toml(path: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            text = handle.read(MAX_CONFIG_BYTES + 1)
        if len(text) > MAX_CONFIG_BYTES:
            raise BadInputError(
                f"config file {path!r} is larger than {MAX_CONFIG_BYTES} bytes",
                "a settings file is a few KB: see docs/config.md",
            )
        return tomllib.loads(text.decode("utf-8"))
    except FileNotFoundError:
        raise IOFailureError(f"config file {path!r} not found", "check the --config path") from None
    except IsADirectoryError:
        raise IOFailureError(f"config file {path!r} is a folder") from None
    except OSError as exc:
        raise IOFailureError(f"cannot read config file {path!r}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BadInputError(
            f"config file {path!r} is not valid TOML: {exc}", "see docs/config.md"
        ) from None
    except RecursionError:
        raise BadInputError(
            f"config file {path!r} nests too deeply to read", "see docs/config.md"
        ) from None


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_settings(
    path: str | os.PathLike[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Defaults < TOML file at ``path`` < ``ADHASH_*`` environment < ``overrides``.

    ``overrides`` maps dotted field names (``"sampling.latency_sample_k"``) to values.
    Raises :class:`BadInputError` naming the field on invalid values.
    """
    data = _read_toml(str(path)) if path is not None else {}
    env = environment_overrides(os.environ if environ is None else environ)
    for dotted, value in (overrides or {}).items():
        *parents, leaf = dotted.split(".")
        node: dict[str, Any] = {leaf: value}
        for part in reversed(parents):
            node = {part: node}
        env = _merge(env, node)
    source = f"config file {str(path)!r} or {ENV_PREFIX}* environment" if path else "environment"
    try:
        return Settings.model_validate(_merge(data, env))
    except ValidationError as exc:
        raise BadInputError(
            f"invalid settings ({source}): {describe_validation_error(exc)}", "see docs/config.md"
        ) from None


def settings_to_toml(settings: Settings) -> str:
    """The settings as a TOML document (``None`` values left out)."""

    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if v is not None}
        return value

    import tomli_w  # only the config commands need it

    return str(tomli_w.dumps(clean(settings.model_dump())))


def default_config_text() -> str:
    """The file ``engine config init`` writes: every setting at its default."""
    header = (
        "# Adaptive Hash Map Explorer: engine settings.\n"
        f"# Any value can be overridden from the environment, e.g. {ENV_PREFIX}BACKEND=robinhood\n"
        f"# or {ENV_PREFIX}ROBINHOOD__MAX_LOAD_FACTOR=0.7. See docs/config.md.\n\n"
    )
    return header + settings_to_toml(Settings.model_construct())
