"""Upper bounds for what flags, settings and files can make the engine allocate (#12, item 5).

Before these bounds: ``--ops`` and ``--key-space`` had no ceiling, capacity allowed 2**30
(chaining at 2**24 already peaked at 1.6 GB), ``--sign-key-file /dev/zero`` read forever,
``nan`` and ``inf`` passed every float flag, and a deeply nested TOML file crashed with
``RecursionError`` (exit 1).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import assert_envelope, run_engine, run_engine_in_process, write_rows

import engine
from engine.maps import option_models, options
from engine.settings.models import load_settings


@pytest.fixture
def workload(tmp_path: Path) -> Path:
    return write_rows(tmp_path / "w.csv", [("put", "a", "1"), ("get", "a", "")])


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("generate-csv", "--ops", "1000000001"), "--ops must be between"),
        (("generate-csv", "--ops", "0"), "--ops must be between"),
        (("generate-csv", "--key-space", "10000001"), "--key-space must be between"),
        (("generate-csv", "--key-skew", "11"), "--key-skew must be between"),
        (("generate-csv", "--key-skew", "inf"), "not a finite number"),
        (("generate-csv", "--key-skew", "nan"), "not a finite number"),
        (("generate-csv", "--read-ratio", "nan"), "not a finite number"),
        (("generate-csv", "--adversarial-ratio=-inf"), "not a finite number"),
        (("generate-csv", "--del-ratio", "x"), "not a number"),
    ],
)
def test_generator_flags_are_bounded(args: tuple[str, ...], words: str, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    code, _, err = run_engine_in_process(*args, "--outfile", out)
    assert code == 2
    assert words in assert_envelope(err, "BadInput")["detail"]
    assert not out.exists()


@pytest.mark.parametrize(
    "flag",
    ["--compact-interval", "--metrics-linger", "--metrics-every-seconds"],
)
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "NaN"])
def test_float_flags_refuse_nan_and_infinity(flag: str, value: str, workload: Path) -> None:
    code, _, err = run_engine_in_process("run-csv", "--csv", workload, f"{flag}={value}")
    assert code == 2
    assert "not a finite number" in assert_envelope(err, "BadInput")["detail"]


def test_the_latency_reservoir_is_bounded(workload: Path) -> None:
    code, _, err = run_engine_in_process(
        "run-csv", "--csv", workload, "--latency-sample-k", "10000001"
    )
    assert code == 2
    assert "--latency-sample-k" in assert_envelope(err, "BadInput")["detail"]


def test_a_workload_that_cannot_fit_on_the_disk_is_refused_before_writing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = os.statvfs

    class Small:
        def __init__(self, actual: Any) -> None:
            self.f_frsize = actual.f_frsize
            self.f_bavail = 1000  # about 4 MB

    monkeypatch.setattr(os, "statvfs", lambda path: Small(real(path)))
    out = tmp_path / "big.csv"
    code, _, err = run_engine_in_process("generate-csv", "--ops", "10000000", "--outfile", out)
    assert code == 5
    assert "GB free" in assert_envelope(err, "IO")["detail"]
    assert list(tmp_path.iterdir()) == []
    # a small one still fits
    code, _, err = run_engine_in_process("generate-csv", "--ops", "1000", "--outfile", out)
    assert code == 0, err


def test_dev_null_needs_no_disk_space(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "statvfs", lambda path: pytest.fail("a device has no free space"))
    code, _, err = run_engine_in_process("generate-csv", "--ops", "100", "--outfile", "/dev/null")
    assert code == 0, err


# ---------------------------------------------------------------------- capacity
@pytest.mark.parametrize("kind", ["chaining", "robinhood", "adaptive"])
def test_capacity_past_the_ceiling_is_refused_before_allocating(kind: str) -> None:
    with pytest.raises(ValueError, match="less than or equal to 134217728"):
        engine.create_map(kind, capacity=option_models.MAX_CAPACITY + 1)


@pytest.mark.parametrize("kind", ["chaining", "adaptive"])
def test_chaining_cells_are_bounded_whatever_the_groups(kind: str) -> None:
    # 2**22 buckets of 64 groups would be 2**28 cells (6 GiB) before any entry
    with pytest.raises(ValueError, match="cells"):
        engine.create_map(kind, capacity=1 << 22, groups=64)
    with pytest.raises(ValueError, match="cells"):
        option_models.ChainingOptions(capacity=(1 << 25) + 1, groups=4)  # rounds up to 2**26


def test_the_fast_path_agrees_with_the_models_on_the_ceilings() -> None:
    assert options.MAX_CAPACITY == option_models.MAX_CAPACITY
    assert options.MAX_CELLS == option_models.MAX_CELLS
    # in bounds for one, out for the other: the fast path hands it to the model
    assert options._quick(options.ChainingSpec, {"capacity": 1 << 25, "groups": 8}) is None
    assert options._quick(options.ChainingSpec, {"capacity": 1 << 20, "groups": 8}) is not None


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("chaining", "max_load_factor"),
        ("robinhood", "max_load_factor"),
        ("adaptive", "robinhood_max_load_factor"),
    ],
)
def test_map_options_refuse_nan_and_infinity(kind: str, name: str, value: float) -> None:
    with pytest.raises(ValueError, match="finite"):
        engine.create_map(kind, **{name: value})


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_guardrails_refuse_nan_and_infinity(value: float) -> None:
    with pytest.raises(ValueError, match="finite"):
        engine.AdaptiveMap(guardrails={"chaining_avg_probe": value})
    with pytest.raises(ValueError, match="finite"):
        engine.GuardrailConfig(robinhood_avg_probe=value)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ADHASH_ROBINHOOD__CAPACITY", "1000000000"),
        ("ADHASH_CHAINING__CAPACITY", "67108864"),  # 2**26 buckets x 4 groups: too many cells
        ("ADHASH_ROBINHOOD__MAX_LOAD_FACTOR", "nan"),
        ("ADHASH_ADAPTIVE__GUARDRAILS__COOLDOWN_BACKOFF", "inf"),
        ("ADHASH_SAMPLING__LATENCY_SAMPLE_K", "10000001"),
    ],
)
def test_settings_are_bounded(variable: str, value: str, workload: Path) -> None:
    code, _, err = run_engine("run-csv", "--csv", workload, env={variable: value})
    assert code == 2
    assert "invalid settings" in assert_envelope(err, "BadInput")["detail"]


# ---------------------------------------------------------------------- files
def test_a_key_file_that_never_ends_is_refused(tmp_path: Path) -> None:
    snap = tmp_path / "s.snap"
    code, _, err = run_engine("put", "k", "v", "--snapshot", snap, "--sign-key-file", "/dev/zero")
    assert code == 2
    assert "longer than" in assert_envelope(err, "BadInput")["detail"]
    assert list(tmp_path.iterdir()) == []


def test_a_long_key_file_is_refused_and_a_short_one_works(tmp_path: Path) -> None:
    long_key = tmp_path / "long.key"
    long_key.write_bytes(b"k" * (64 * 1024 + 1))
    short_key = tmp_path / "short.key"
    short_key.write_bytes(b"secret\n")
    snap = tmp_path / "s.snap"
    assert run_engine("put", "k", "v", "--snapshot", snap, "--sign-key-file", long_key)[0] == 2
    code, _, err = run_engine("put", "k", "v", "--snapshot", snap, "--sign-key-file", short_key)
    assert code == 0, err


def test_a_deeply_nested_toml_is_bad_input_not_a_crash(tmp_path: Path, workload: Path) -> None:
    deep = tmp_path / "deep.toml"
    deep.write_text("a = " + "[" * 50_000 + "]" * 50_000 + "\n")
    code, _, err = run_engine("--config", deep, "run-csv", "--csv", workload)
    assert code == 2
    assert "nests too deeply" in assert_envelope(err, "BadInput")["detail"]


def test_a_config_file_that_never_ends_is_refused(workload: Path) -> None:
    code, _, err = run_engine("--config", "/dev/zero", "run-csv", "--csv", workload)
    assert code == 2
    assert "larger than" in assert_envelope(err, "BadInput")["detail"]


def test_a_real_config_file_still_loads(tmp_path: Path) -> None:
    config = tmp_path / "engine.toml"
    config.write_text('backend = "robinhood"\n[robinhood]\ncapacity = 1024\n')
    settings = load_settings(config)
    assert settings.backend == "robinhood" and settings.robinhood.capacity == 1024
