"""``engine.workloads.replay.replay`` against a dict model, the CSV reader under fuzzing, and the
promise that a replay streams (memory independent of the number of rows). In-process."""

from __future__ import annotations

import csv
import random
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import replay_on_dict
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from engine.errors import BadInputError, EngineError, PolicyError
from engine.maps.base import BaseMap
from engine.maps.factory import create_map
from engine.maps.option_models import GuardrailConfig
from engine.workloads.csv_format import WorkloadFile
from engine.workloads.replay import ReplayOptions, replay

Op = tuple[str, str, str]

#: Guardrails on a hair trigger: migrations start within a few writes and, with
#: ``migration_batch=1``, stay in progress across many operations.
LOW_GUARDRAILS = GuardrailConfig(
    chaining_load_factor=0.3,
    chaining_max_group_len=1,
    chaining_avg_probe=1.05,
    robinhood_max_probe=2,
    robinhood_avg_probe=1.05,
    robinhood_tombstone_ratio=0.05,
    min_entries=0,
    cooldown_ops=0,
    cooldown_per_entry=0.0,
    cooldown_backoff=1.0,
)

MAPS: dict[str, Callable[[], BaseMap]] = {
    "chaining": lambda: create_map("chaining", capacity=1, max_load_factor=0.5, groups=2),
    "robinhood-backshift": lambda: create_map("robinhood", capacity=1, max_load_factor=0.5),
    "robinhood-tombstone": lambda: create_map(
        "robinhood", capacity=1, max_load_factor=0.5, deletion="tombstone"
    ),
    "adaptive": lambda: create_map(
        "adaptive", capacity=4, migration_batch=1, guardrails=LOW_GUARDRAILS
    ),
}

#: A small alphabet, with keys that need CSV quoting (comma, quote, newline) and non-ASCII.
KEYS = ["a", "b", "c", "d", "e", "f", "g", "h", "x,y", 'q"t', "ü", " s ", "l\nf"]
#: Values: any text but NUL and a lone CR. (Python 3.11's csv writer leaves a CR unquoted
#: when the line terminator is "\n", so such a value would not survive the file we write.)
values = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="\x00\r"),
    min_size=1,
    max_size=6,
)
ops_strategy = st.lists(
    st.tuples(st.sampled_from(["put", "get", "del"]), st.sampled_from(KEYS), values),
    max_size=120,
)


def write_workload(
    path: Path,
    ops: list[Op],
    order: tuple[str, ...] = ("op", "key", "value"),
    line_end: str = "\n",
    bom: bool = False,
) -> None:
    """Rows as CSV (get and del without a value), columns in ``order``."""
    with open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator=line_end)
        writer.writerow(order)
        for op, key, value in ops:
            row = {"op": op, "key": key, "value": value if op == "put" else ""}
            writer.writerow([row[name] for name in order])


def model_replay(ops: list[Op]) -> tuple[dict[str, str], dict[str, int], int, int]:
    return replay_on_dict(ops)


def check_against_model(
    m: BaseMap, path: Path, ops: list[Op], options: ReplayOptions | None = None
) -> None:
    result = replay(m, WorkloadFile(path), options)
    model, counts, get_hits, del_hits = model_replay(ops)
    assert dict(m.items()) == model
    assert len(m) == len(model)
    assert result.ops == counts
    assert result.total_ops == len(ops)
    assert (result.get_hits, result.del_hits) == (get_hits, del_hits), (
        f"{m.stats().get('migrations', 0)} migration(s)"
    )
    m.check_invariants()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("replay_model")


# --------------------------------------------------------------------------- model checks
@pytest.mark.parametrize("kind", list(MAPS))
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    ops=ops_strategy,
    order=st.permutations(["op", "key", "value"]),
    line_end=st.sampled_from(["\n", "\r\n"]),
    bom=st.booleans(),
    every=st.sampled_from([1, 2, 3, 128]),
)
def test_replay_matches_a_dict_model(
    workdir: Path,
    kind: str,
    ops: list[Op],
    order: list[str],
    line_end: str,
    bom: bool,
    every: int,
) -> None:
    path = workdir / f"model_{kind}.csv"
    write_workload(path, ops, tuple(order), line_end, bom)
    # latency_sample_every decides which rows take the checkpoint path instead of the
    # inline fast path of the replay loop; both must agree with the model
    options = ReplayOptions(latency_sample_k=10, latency_sample_every=every)
    check_against_model(MAPS[kind](), path, ops, options)


def seeded_workload(seed: int, n: int) -> list[Op]:
    rng = random.Random(seed)
    return [
        (rng.choice(["put", "put", "get", "del"]), rng.choice(KEYS), str(rng.randrange(1000)))
        for _ in range(n)
    ]


@pytest.mark.parametrize("kind", list(MAPS))
def test_replay_matches_a_dict_model_on_a_long_workload(workdir: Path, kind: str) -> None:
    """Long enough that the adaptive map migrates (several times) during the replay."""
    ops = seeded_workload(11, 3000)
    path = workdir / f"long_{kind}.csv"
    write_workload(path, ops)
    m = MAPS[kind]()
    check_against_model(m, path, ops)
    if kind == "adaptive":
        assert m.stats()["migrations"] >= 2


def test_replay_get_hits_after_a_default_adaptive_migration(workdir: Path) -> None:
    """The CLI's default map: 200 puts migrate chaining -> Robin Hood, then 200 gets of
    the same keys must all hit."""
    ops: list[Op] = [("put", f"k{i}", str(i)) for i in range(200)]
    ops += [("get", f"k{i}", "") for i in range(200)]
    path = workdir / "adaptive_default.csv"
    write_workload(path, ops)
    m = create_map("adaptive")
    result = replay(m, WorkloadFile(path))
    assert m.stats()["migrations"] >= 1
    assert result.get_hits == 200


def test_validate_counts_blank_lines(workdir: Path) -> None:
    path = workdir / "blank.csv"
    path.write_bytes(b"op,key,value\nput,a,1\n\n\nget,a,\n")
    summary = WorkloadFile(path).validate()
    assert summary.rows == 2
    assert summary.ops == {"put": 1, "get": 1, "del": 0}
    assert summary.blank_lines == 2


def test_validate_twice_reports_the_same_summary(workdir: Path) -> None:
    path = workdir / "blank_twice.csv"
    path.write_bytes(b"op,key,value\nput,a,1\n\n\nget,a,\n")
    workload = WorkloadFile(path)
    first, second = workload.validate(), workload.validate()
    assert first.to_dict() == second.to_dict()


# --------------------------------------------------------------------------- fuzzing the reader
FRAGMENTS = [
    "op,key,value", "put", "get", "del", "a", ",", '"', '""', "\n", "\r\n", "\r", " ",
    "\x00", "\ufeff", "é", "PUT", "op", "key", "value", "x" * 40,
]  # fmt: skip
csv_like = st.lists(st.sampled_from(FRAGMENTS), max_size=40).map(lambda p: "".join(p).encode())
fuzz_bytes = st.one_of(
    st.binary(max_size=200),
    st.binary(max_size=200).map(lambda b: b"op,key,value\n" + b),
    csv_like,
    csv_like.map(lambda b: b"op,key,value\n" + b),
)


def outcome(action: Callable[[], Any]) -> tuple[Any, ...]:
    try:
        return ("ok", action())
    except EngineError as exc:
        assert isinstance(exc, BadInputError | PolicyError), repr(exc)
        return ("error", type(exc).__name__, exc.detail)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=fuzz_bytes)
@example(data=b"")
@example(data=b"\xff\xfe")
@example(data=b"op,key,value\nput,a,\xff\n")
@example(data=b'op,key,value\nput,"a\n')
def test_reader_fuzz_validate_and_replay_agree(workdir: Path, data: bytes) -> None:
    """Any bytes: ``validate()`` returns a summary or raises BadInput/Policy, never
    anything else; and the replay loop (its own inline row checks) reaches the same
    verdict with the same counts or the same diagnostic."""
    path = workdir / "fuzz.csv"
    path.write_bytes(data)

    def validate() -> tuple[int, dict[str, int]]:
        summary = WorkloadFile(path).validate()
        assert summary.rows == sum(summary.ops.values())
        return summary.rows, summary.ops

    def run() -> tuple[int, dict[str, int]]:
        result = replay(create_map("chaining"), WorkloadFile(path))
        return result.total_ops, result.ops

    checked = outcome(validate)
    replayed = outcome(run)
    assert checked == replayed


# --------------------------------------------------------------------------- streaming
def write_uniform(path: Path, rows: int, keys: int = 100) -> None:
    rng = random.Random(rows)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("op", "key", "value"))
        for i in range(rows):
            op = ("put", "get", "del")[i % 3]
            writer.writerow((op, f"k{rng.randrange(keys)}", str(i) if op == "put" else ""))


def replay_peak(path: Path) -> int:
    """Peak traced allocation while replaying ``path`` on a fresh default map."""
    m = create_map("adaptive")
    workload = WorkloadFile(path)
    # a small reservoir that both runs fill: its O(k) memory is the same for both
    options = ReplayOptions(latency_sample_k=50, latency_sample_every=64)
    tracemalloc.start()
    try:
        result = replay(m, workload, options)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(m) <= 100
    assert result.total_ops > 0
    return peak


def test_replay_streams_memory_does_not_grow_with_rows(workdir: Path) -> None:
    small, large = workdir / "rows_20k.csv", workdir / "rows_200k.csv"
    write_uniform(small, 20_000)
    write_uniform(large, 200_000)
    replay_peak(small)  # warm-up: first-use allocations (csv module, lazy imports)
    small_peak = replay_peak(small)
    large_peak = replay_peak(large)
    assert large_peak < 1.5 * small_peak, (small_peak, large_peak)
