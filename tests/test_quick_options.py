"""The pydantic-free paths of start-up: map options checked in :mod:`engine.maps.options` and
default settings in :mod:`engine.settings.defaults` agree with the pydantic models they stand in
for, and a default ``run-csv`` imports neither pydantic nor prometheus-client."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from engine.maps.option_models import (
    AdaptiveOptions,
    ChainingOptions,
    GuardrailConfig,
    RobinHoodOptions,
)
from engine.maps.options import (
    _RULES,
    AdaptiveSpec,
    ChainingSpec,
    GuardrailSpec,
    RobinHoodSpec,
    adaptive_options,
    chaining_options,
    guardrail_options,
    robinhood_options,
    spec_dict,
)
from engine.records import asdict, fields
from engine.settings import defaults
from engine.settings.models import Settings

ROOT = Path(__file__).resolve().parent.parent

PAIRS: list[tuple[type[Any], type[Any]]] = [
    (ChainingSpec, ChainingOptions),
    (RobinHoodSpec, RobinHoodOptions),
    (AdaptiveSpec, AdaptiveOptions),
    (GuardrailSpec, GuardrailConfig),
]


@pytest.mark.parametrize("spec, model", PAIRS, ids=[m.__name__ for _, m in PAIRS])
def test_records_have_the_models_fields_order_and_defaults(spec: Any, model: Any) -> None:
    assert list(spec_dict(spec()).items()) == list(model().model_dump().items())


#: Values around every bound, of every type the models might convert or refuse.
odd_values = st.one_of(
    st.sampled_from(
        [0, 1, 2, 3, 4, 8, 64, 65, 128, 1 << 20, (1 << 20) + 1, 1 << 30, (1 << 30) + 1, -1]
    ),
    st.sampled_from([0.0, 0.5, 0.75, 0.9, 1.0, 1.5, 8.0, 8.5, -0.5, math.inf, math.nan]),
    st.sampled_from([True, False, None, "1", "0.5", "fast", "keyed", "chaining"]),
    st.sampled_from(["robinhood", "backshift", "tombstone", "nope", 10**400, 2**53 + 1]),
    st.sampled_from([b"x", [1], {"a": 1}, "00112233445566778899aabbccddeeff"]),
)


def _model_or_error(build: Any) -> tuple[str, Any]:
    try:
        return ("ok", build())
    except (ValidationError, ValueError, TypeError) as exc:
        return ("error", type(exc).__name__)


def _text(data: dict[str, Any]) -> str:
    """JSON text: tells 1 from 1.0, so a conversion the model makes must be made too
    (a bytes seed is written as its repr, which tells it from a str)."""
    return json.dumps(data, default=repr)


CASES: list[tuple[Any, Any, Any]] = [
    (ChainingSpec, ChainingOptions, chaining_options),
    (RobinHoodSpec, RobinHoodOptions, robinhood_options),
    (AdaptiveSpec, AdaptiveOptions, adaptive_options),
]


@pytest.mark.parametrize("spec, model, check", CASES, ids=[c[1].__name__ for c in CASES])
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_checked_options_match_the_model(spec: Any, model: Any, check: Any, data: Any) -> None:
    names = [name for name in (f.name for f in fields(spec)) if name != "guardrails"]
    names += ["unknown", "guardrails"] if spec is AdaptiveSpec else ["unknown"]
    chosen = data.draw(st.lists(st.sampled_from(names), unique=True, max_size=4))
    options = {name: data.draw(odd_values) for name in chosen}
    capacity = options.pop("capacity", data.draw(odd_values))
    expected = _model_or_error(lambda: model(capacity=capacity, **options))
    got = _model_or_error(lambda: check(capacity, options))
    assert got[0] == expected[0], (options, expected, got)
    if got[0] == "ok":
        assert _text(spec_dict(got[1])) == _text(expected[1].model_dump())
        assert type(got[1]) is spec


def _edges(rule: Any) -> list[Any]:
    """Values at and just past each bound of a field's rule (or its strings and one more)."""
    if isinstance(rule[0], str):
        return [*rule, "nope"]
    kind, low, _, high = rule
    step = 1 if kind is int else 1e-9
    edges = [low - step, low, low + step, 2 * low + 4]
    if high != math.inf:
        edges += [high - step, high, high + step]
    return [kind(v) if abs(v) != math.inf else v for v in edges]


@pytest.mark.parametrize("spec, model", PAIRS, ids=[m.__name__ for _, m in PAIRS])
def test_every_bound_matches_the_model(spec: Any, model: Any) -> None:
    check = {
        ChainingSpec: chaining_options,
        RobinHoodSpec: robinhood_options,
        AdaptiveSpec: adaptive_options,
        GuardrailSpec: lambda capacity, values: guardrail_options(values),
    }[spec]
    for name, rule in _RULES[spec].items():
        for value in _edges(rule):
            values = {name: value}
            capacity = values.pop("capacity", 8)
            if spec is GuardrailSpec:
                expected = _model_or_error(partial(model, **values))
            else:
                expected = _model_or_error(partial(model, capacity=capacity, **values))
            got = _model_or_error(partial(check, capacity, values))
            assert got[0] == expected[0], (name, value)
            if got[0] == "ok":
                assert _text(spec_dict(got[1])) == _text(expected[1].model_dump()), (name, value)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_checked_guardrails_match_the_model(data: Any) -> None:
    names = [*(f.name for f in fields(GuardrailSpec)), "unknown"]
    chosen = data.draw(st.lists(st.sampled_from(names), unique=True, max_size=4))
    values = {name: data.draw(odd_values) for name in chosen}
    expected = _model_or_error(lambda: GuardrailConfig(**values))
    got = _model_or_error(lambda: guardrail_options(values))
    assert got[0] == expected[0], (values, expected, got)
    if got[0] == "ok":
        assert _text(asdict(got[1])) == _text(expected[1].model_dump())


def test_adaptive_guardrails_as_a_model_a_record_or_a_mapping() -> None:
    model = GuardrailConfig(min_entries=5, cooldown_backoff=1.5)
    record = GuardrailSpec(min_entries=5, cooldown_backoff=1.5)
    for given_value in (model, record, {"min_entries": 5, "cooldown_backoff": 1.5}):
        opts = adaptive_options(16, {"guardrails": given_value})
        assert opts.guardrails == record
    with pytest.raises(ValidationError):
        adaptive_options(16, {"guardrails": None})


def test_default_settings_match_the_models() -> None:
    reference = Settings()
    assert reference.backend == defaults.BACKEND
    assert asdict(defaults.DefaultSampling()) == reference.sampling.model_dump()
    assert asdict(defaults.DefaultLimits()) == reference.limits.model_dump()
    assert asdict(defaults.DefaultHashing()) == reference.hashing.model_dump()
    for kind in ("chaining", "robinhood", "adaptive"):
        expected = dict(reference.map_options(kind)[1])
        expected.pop("guardrails", None)
        expected.pop("hash")
        expected.pop("seed")
        assert defaults.MAP_OPTIONS[kind] == expected, kind
    assert reference.adaptive.guardrails == GuardrailConfig()


@pytest.mark.parametrize("kind", ["chaining", "robinhood", "adaptive"])
def test_default_maps_match_the_settings_maps(kind: str) -> None:
    quick, reference = defaults.build_default_map(kind), Settings().build_map(kind)
    for m in (quick, reference):
        for i in range(300):
            m[f"k{i}"] = i
    assert json.dumps(quick.layout()) == json.dumps(reference.layout())
    assert quick.stats() == reference.stats()
    if kind == "adaptive":
        assert quick.options == reference.options  # type: ignore[attr-defined]


def test_environment_overrides_decide_whether_settings_load() -> None:
    assert not defaults.settings_overridden(None, {"PATH": "/bin", "ADHASH_TOKEN": "x"})
    assert not defaults.settings_overridden(None, {"ADHASH_": "1", "ADHASH_SIGN_KEY": "k"})
    assert defaults.settings_overridden(None, {"ADHASH_BACKEND": "chaining"})
    assert defaults.settings_overridden("engine.toml", {})


def test_a_default_replay_imports_neither_pydantic_nor_prometheus(tmp_path: Path) -> None:
    """Start-up is most of a short replay: keep the heavy imports out of the common path."""
    csv_path = tmp_path / "w.csv"
    csv_path.write_text("op,key,value\nput,a,1\nget,a,\ndel,a,\n", encoding="utf-8")
    script = (
        "import sys\n"
        "from engine.cli import main\n"
        f"code = main(['--json', 'run-csv', '--csv', {str(csv_path)!r}])\n"
        "heavy = ('pydantic', 'prometheus_client', 'shutil')\n"
        "heavy = sorted(m for m in heavy if m in sys.modules)\n"
        "print(code, ','.join(heavy), file=sys.stderr)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("ADHASH_")}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    assert proc.stderr.strip().splitlines()[-1] == "0", proc.stderr
    assert json.loads(proc.stdout)["result"]["total_ops"] == 3


@pytest.mark.parametrize("columns", ["44", "131"])
def test_help_is_wrapped_as_argparse_wraps_it_without_shutil(columns: str) -> None:
    """The formatter that skips shutil sizes help exactly as argparse's own does."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), COLUMNS=columns)
    stock = (
        "import argparse, engine.cli.app as app\n"
        "app._Formatter = argparse.HelpFormatter\n"
        "app.main(['run-csv', '--help'])\n"
    )
    outputs = [
        subprocess.run(
            [sys.executable, *args], capture_output=True, text=True, env=env, check=False
        ).stdout
        for args in (["-m", "engine.cli", "run-csv", "--help"], ["-c", stock])
    ]
    assert outputs[0] == outputs[1]
    assert "--csv-max-rows" in outputs[0]
    assert max(len(line) for line in outputs[0].splitlines() if " " in line.strip()) > 40


def test_settings_still_load_when_a_variable_sets_one(tmp_path: Path) -> None:
    csv_path = tmp_path / "w.csv"
    csv_path.write_text("op,key,value\nput,a,1\n", encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(ROOT), ADHASH_SAMPLING__LATENCY_SAMPLE_EVERY="0")
    proc = subprocess.run(
        [sys.executable, "-m", "engine.cli", "--json", "run-csv", "--csv", str(csv_path)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 2
    assert "latency_sample_every" in json.loads(proc.stderr)["detail"]
