"""Layouts and stats do not depend on the process: same operations, same JSON, whatever
``PYTHONHASHSEED`` says (the engine hashes keys itself)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = r"""
import json
import random

import engine

FIXED_SEED = "000102030405060708090a0b0c0d0e0f"


def emit(label, obj):
    print(label, json.dumps(obj))


def workload(m, seed, count, snapshot_mid_migration=False):
    rng = random.Random(seed)
    live = []
    snap = None
    for i in range(count):
        r = rng.random()
        if r < 0.55 or not live:
            choices = [f"s{i}-{rng.getrandbits(20)}", f"b{i}".encode(), rng.getrandbits(70) - 2**69]
            key = rng.choice(choices)
            m[key] = [i, str(i)]
            live.append(key)
        elif r < 0.65:
            m[rng.choice(live)] = {"updated": i}
        elif r < 0.8:
            m.get(rng.choice(live))
            m.get(f"missing{i}")
        else:
            del m[live.pop(rng.randrange(len(live)))]
        if snapshot_mid_migration and snap is None and getattr(m, "migrating", False):
            snap = m.layout()
    return snap


maps = {
    "chaining": engine.ChainingMap(capacity=4, groups=4),
    "robinhood": engine.RobinHoodMap(capacity=8),
    "robinhood-tombstone": engine.RobinHoodMap(capacity=8, deletion="tombstone"),
    "robinhood-keyed": engine.RobinHoodMap(hash="keyed", seed=FIXED_SEED),
    "chaining-keyed": engine.ChainingMap(hash="keyed", seed=FIXED_SEED, groups=2),
    "adaptive": engine.AdaptiveMap(
        migration_batch=2,
        guardrails=engine.GuardrailConfig(
            min_entries=8,
            chaining_load_factor=0.5,
            robinhood_avg_probe=1.2,
            cooldown_ops=50,
            cooldown_per_entry=0,
            cooldown_backoff=1,
        ),
    ),
    "adaptive-keyed": engine.AdaptiveMap(
        hash="keyed",
        seed=FIXED_SEED,
        migration_batch=5,
        guardrails=engine.GuardrailConfig(min_entries=8, cooldown_ops=0, cooldown_per_entry=0),
    ),
}
for n, (name, m) in enumerate(maps.items()):
    snap = workload(m, 1000 + n, 700, snapshot_mid_migration=True)
    emit(f"{name}.layout", m.layout())
    emit(f"{name}.stats", m.stats())
    emit(f"{name}.history", m.history())
    emit(f"{name}.keys", [engine.jsonsafe.encode_key(k) for k in m])
    if isinstance(m, engine.AdaptiveMap):
        emit(f"{name}.mid-migration", snap)
        emit(f"{name}.migrations", m.migration_history())
    m.check_invariants()
"""


def _run(hash_seed: str) -> str:
    env = dict(os.environ)
    env["PYTHONHASHSEED"] = hash_seed
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _records(output: str) -> dict[str, object]:
    out: dict[str, object] = {}
    for line in output.splitlines():
        label, _, payload = line.partition(" ")
        out[label] = json.loads(payload)
    return out


def test_hash_seed_really_changes_python_string_hashes() -> None:
    """Guards the test below: the two processes do disagree about ``hash(str)``."""
    outputs = set()
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        proc = subprocess.run(
            [sys.executable, "-c", "print(hash('apple'))"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        outputs.add(proc.stdout)
    assert len(outputs) == 2


def test_layouts_and_stats_are_identical_across_hash_seeds() -> None:
    first, second = _run("1"), _run("2")
    assert first == second
    records = _records(first)
    assert len(records) == 7 * 4 + 2 * 2
    # The run really exercised migrations, including one caught half-way.
    for name in ("adaptive", "adaptive-keyed"):
        stats = records[f"{name}.stats"]
        assert isinstance(stats, dict)
        assert stats["migrations"] >= 1, name
        migrations = records[f"{name}.migrations"]
        assert isinstance(migrations, list) and migrations
        mid = records[f"{name}.mid-migration"]
        assert isinstance(mid, dict)
        assert mid["migration"] is not None
        assert [t["role"] for t in mid["tables"]] == ["source", "target"]
    adaptive_migrations = records["adaptive.migrations"]
    assert isinstance(adaptive_migrations, list)
    directions = {(e["from"], e["to"]) for e in adaptive_migrations}
    assert directions == {("chaining", "robinhood"), ("robinhood", "chaining")}
    history = records["adaptive.history"]
    assert isinstance(history, list)
    assert any(e["kind"] == "migrate" and e["phase"] == "end" for e in history)
    # keyed maps record the fixed seed they were built with
    layout = records["robinhood-keyed.layout"]
    assert isinstance(layout, dict)
    assert layout["hash"] == {"name": "keyed", "seed": "000102030405060708090a0b0c0d0e0f"}


def test_subprocess_output_matches_this_process(tmp_path: Path) -> None:
    script = tmp_path / "determinism_script.py"
    script.write_text(SCRIPT, encoding="utf-8")
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        runpy.run_path(str(script), run_name="determinism")
    assert buffer.getvalue() == _run("2")
