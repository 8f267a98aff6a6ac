"""The explorer's Qt-free model: operations, timeline and checkpoints, frames, demos."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from explorer.model import (
    DEMOS,
    CommandError,
    MapConfig,
    MapConfigError,
    Operation,
    Session,
    Timeline,
    WorkloadLoadError,
    load_demo,
    parse_command,
)
from explorer.model.frames import Loc
from explorer.model.geometry import place_tables
from explorer.model.table_stats import figures_of
from explorer.model.timeline import apply_operation

CONFIGS = {
    "robinhood": dict(backend="robinhood", capacity=2),
    "robinhood-tombstone": dict(backend="robinhood", capacity=2, deletion="tombstone"),
    "chaining": dict(backend="chaining", capacity=1, groups=2),
    "adaptive": dict(
        backend="adaptive",
        capacity=2,
        extra={
            "migration_batch": 2,
            "guardrails": {
                "min_entries": 3,
                "cooldown_ops": 2,
                "cooldown_per_entry": 0.0,
                "chaining_max_group_len": 2,
                "robinhood_avg_probe": 1.3,
            },
        },
    ),
    "keyed": dict(backend="robinhood", capacity=4, hash="keyed"),
}

operations = st.lists(
    st.one_of(
        st.builds(
            lambda k, v: Operation("put", f"k{k}", str(v)),
            st.integers(0, 12),
            st.integers(0, 99),
        ),
        st.builds(lambda k: Operation("get", f"k{k}"), st.integers(0, 12)),
        st.builds(lambda k: Operation("del", f"k{k}"), st.integers(0, 12)),
        st.just(Operation("compact")),
    ),
    max_size=40,
)


def _layouts(frame) -> list[object]:
    return [t.layout for t in frame.tables]


# --------------------------------------------------------------------------- parsing
@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("put apple 1", Operation("put", "apple", "1")),
        ("  PUT apple   1 ", Operation("put", "apple", "1")),
        ('put "big apple" "a b"', Operation("put", "big apple", "a b")),
        ("get apple", Operation("get", "apple")),
        ("del apple", Operation("del", "apple")),
        ("delete apple", Operation("del", "apple")),
        ("compact", Operation("compact")),
    ],
)
def test_parse_command_reads_operations(line: str, expected: Operation) -> None:
    assert parse_command(line) == expected
    assert parse_command(expected.text()) == expected


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("", "type an operation"),
        ("   ", "type an operation"),
        ("put apple", "needs a key and a value"),
        ("put a b c", "needs a key and a value"),
        ("get", "exactly one key"),
        ("del a b", "exactly one key"),
        ("fly apple", "unknown operation"),
        ('put "apple 1', "cannot read"),
        ("get ''", "empty"),
        ("compact now", "no arguments"),
        ("get " + "x" * 201, "longer than"),
    ],
)
def test_parse_command_rejects_bad_lines_with_a_reason(line: str, fragment: str) -> None:
    with pytest.raises(CommandError, match=fragment):
        parse_command(line)


def test_map_config_names_the_bad_field() -> None:
    with pytest.raises(MapConfigError, match="capacity"):
        MapConfig.parse(capacity=0)
    with pytest.raises(MapConfigError, match="max_load_factor"):
        MapConfig.parse(backend="robinhood", max_load_factor=1.5)
    with pytest.raises(MapConfigError, match="backend"):
        MapConfig.parse(backend="cuckoo")
    keyed = MapConfig.parse(hash="keyed")
    assert keyed.seed is not None and len(keyed.seed) == 32


# --------------------------------------------------------------------------- frames
@pytest.mark.parametrize("name", list(CONFIGS))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=operations)
def test_frames_replay_the_engine_exactly(name: str, ops: list[Operation]) -> None:
    """Applying each operation's fine-grained events to its first frame reproduces the
    engine's own layout after the operation, for every backend."""
    timeline = Timeline(MapConfig.parse(**CONFIGS[name]), checkpoint_every=4)
    timeline.extend(ops)
    for index in range(len(timeline)):
        frames = timeline.frames(index)
        assert frames[0].event is None
        assert _layouts(frames[0]) == _layouts_of(timeline, index)
        assert _layouts(frames[-1]) == _layouts_of(timeline, index + 1)
        if frames[-1].event is not None and frames[-1].event.kind == "result":
            assert _layouts(frames[-2]) == _layouts(frames[-1]), (index, timeline.operation(index))
        # the events the frames show are the ones recorded when the operation ran
        record = timeline.record(index)
        if record.result is not None:
            assert frames[-1].event == record.result


def _layouts_of(timeline: Timeline, index: int) -> list[object]:
    from explorer.model.frames import tables_of

    tables, _ = tables_of(timeline.state_before(index).layout())
    return [t.layout for t in tables]


@pytest.mark.parametrize("name", list(CONFIGS))
@settings(max_examples=25, deadline=None)
@given(ops=operations, checkpoint_every=st.integers(1, 9))
def test_state_before_matches_a_straight_replay(
    name: str, ops: list[Operation], checkpoint_every: int
) -> None:
    config = MapConfig.parse(**CONFIGS[name])
    timeline = Timeline(config, checkpoint_every=checkpoint_every)
    timeline.extend(ops)
    straight = config.build()
    for index in range(len(ops) + 1):
        restored = timeline.state_before(index)
        assert restored.layout() == straight.layout()
        restored.check_invariants()
        if index < len(ops):
            apply_operation(straight, ops[index])
    assert timeline.live.layout() == straight.layout()


def test_marks_name_the_slots_the_trace_names() -> None:
    session = Session()
    load_demo(session, "robinhood-basics")
    seen = set()
    while session.step_forward():
        frame = session.frame()
        event = frame.event
        if event is None:
            continue
        seen.add(event.kind)
        if event.kind == "hash":
            assert frame.home == Loc("robinhood", slot=event.index)
        if event.kind in ("probe", "compare", "place", "displace", "tombstone", "remove"):
            assert frame.focus == Loc("robinhood", slot=event.slot)
            assert frame.focus in frame.marks
        if event.kind == "displace":
            assert frame.carried is not None
            assert frame.carried["key"] == event.evicted
            slot = frame.tables[0].layout["slots"][event.slot]
            assert slot["key"] == event.incoming and slot["dib"] == event.incoming_dib
        if event.kind == "backshift":
            assert frame.marks[Loc("robinhood", slot=event.to_slot)] == "shifted"
            assert frame.tables[0].layout["slots"][event.from_slot]["state"] == "empty"
    assert {"displace", "backshift", "resize"} <= seen


def test_pseudocode_line_follows_the_event() -> None:
    session = Session(MapConfig.parse(backend="robinhood", capacity=8))
    session.execute("put apple 1")
    lines = []
    while not session.at_end:
        frame = session.frame()
        assert frame.pseudocode is not None and frame.line is not None
        lines.append(frame.pseudocode.lines[frame.line])
        session.step_forward()
    assert lines[0].startswith("put(")
    assert "hash(key)" in lines[1]
    assert "store" in lines[-2] or "free" in lines[-2]


# --------------------------------------------------------------------------- session
def test_stepping_forward_then_back_returns_to_the_same_layout() -> None:
    session = Session()
    load_demo(session, "adaptive-migration")
    start = session.position
    history = [(session.position, _layouts(session.frame()))]
    while session.step_forward():
        history.append((session.position, _layouts(session.frame())))
    assert session.at_end
    for position, layouts in reversed(history[:-1]):
        assert session.step_back()
        assert session.position == position
        assert _layouts(session.frame()) == layouts
    assert session.position == start
    assert not session.step_back()


def test_operation_moves_and_seek() -> None:
    session = Session()
    for word in ("apple", "banana", "cherry"):
        session.execute(f"put {word} 1")
    session.seek(1)
    assert (session.position.op, session.position.step) == (1, 0)
    session.step_forward()
    session.op_back()
    assert (session.position.op, session.position.step) == (1, 0)
    session.op_back()
    assert session.position.op == 0
    assert not session.op_back()
    session.op_forward()
    assert session.position.op == 1
    session.to_end()
    assert session.at_end and not session.op_forward() and not session.step_forward()
    session.seek(99)
    assert session.at_end
    session.seek(-5)
    assert session.position.op == 0


def test_new_operations_go_to_the_end_and_truncate_cuts_the_future() -> None:
    session = Session()
    for word in ("apple", "banana", "cherry"):
        session.execute(f"put {word} 1")
    session.seek(1)
    session.execute("get apple")
    texts = [session.timeline.operation(i).text() for i in range(len(session))]
    assert texts == ["put apple 1", "put banana 1", "put cherry 1", "get apple"]
    assert session.position.op == 3
    session.seek(1)
    assert session.truncate() == 3
    assert len(session) == 1 and session.at_end
    assert set(session.timeline.live) == {"apple"}
    session.execute("put fig 2")
    assert set(session.timeline.live) == {"apple", "fig"}
    assert session.truncate() == 1 and set(session.timeline.live) == {"apple"}


def test_listeners_hear_every_change() -> None:
    session = Session()
    heard: list[str] = []
    session.subscribe(heard.append)
    session.execute("put apple 1")
    session.step_forward()
    session.reset()
    assert heard == ["operations", "position", "reset"]


def test_twin_follows_the_same_operations() -> None:
    session = Session()
    load_demo(session, "tombstones-vs-backshift")
    assert session.twin is not None
    session.to_end()
    main, twin = session.frame(), session.twin_frame()
    assert twin is not None
    assert main.tables[0].layout["deletion"] == "tombstone"
    assert twin.tables[0].layout["deletion"] == "backshift"
    assert dict(session.timeline.live.items()) == dict(session.twin.live.items())


@pytest.mark.parametrize("name", list(DEMOS))
def test_every_demo_shows_what_it_promises(name: str) -> None:
    session = Session()
    demo = load_demo(session, name)
    assert session.title == demo.title and len(session) == len(demo.script)
    kinds = set()
    while session.step_forward():
        frame = session.frame()
        if frame.event is not None:
            kinds.add(frame.event.kind)
            if frame.event.kind == "migrate" and frame.event.phase == "batch":
                assert "moved" in frame.marks.values()
    assert set(demo.shows) <= kinds
    session.timeline.live.check_invariants()


def test_load_demo_rejects_unknown_names() -> None:
    with pytest.raises(KeyError, match="unknown demo"):
        load_demo(Session(), "nope")


@pytest.mark.parametrize("hash_name", ["crc32", "fast"])
def test_fill_adds_crafted_keys_that_share_a_home(hash_name: str) -> None:
    session = Session(MapConfig.parse(backend="robinhood", capacity=64, hash=hash_name))
    session.fill(10, adversarial=6, seed=3)
    assert len(session.timeline.live) == 10
    crafted = [k for k in session.timeline.live if str(k).startswith("adv-")]
    assert len(crafted) == 6
    homes = {session.timeline.live._hashfn(k) & 63 for k in crafted}
    assert len(homes) == 1
    with pytest.raises(ValueError):
        session.fill(5, adversarial=6)


def test_fill_on_a_keyed_map_crafts_against_the_default_hash_and_they_spread() -> None:
    session = Session(MapConfig.parse(backend="robinhood", capacity=64, hash="keyed"))
    session.fill(40, adversarial=40, seed=3)
    crafted = list(session.timeline.live)
    assert len({engine.crc32_hash(k) & 63 for k in crafted}) == 1
    assert len({session.timeline.live._hashfn(k) & 63 for k in crafted}) > 10


def test_load_workload_replaces_the_operations(tmp_path: Path) -> None:
    path = tmp_path / "w.csv"
    path.write_text("op,key,value\r\nput,a,1\r\nget,a,\r\ndel,a,\r\n")
    session = Session()
    session.execute("put x 1")
    assert session.load_workload(path) == 3
    assert session.position.op == 0 and len(session) == 3
    assert session.timeline.operation(0) == Operation("put", "a", "1")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"op,key,value\nfly,a,\n", "row 1"),
        (b"op,key\nput,a\n", "header"),
        (b"", "empty"),
        (b"op,key,value\nput,\xff,1\n", "UTF-8"),
        (b"op,key,value\n", "no operations"),
    ],
)
def test_bad_workloads_change_nothing(tmp_path: Path, content: bytes, fragment: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    session = Session()
    session.execute("put keep 1")
    with pytest.raises(WorkloadLoadError, match=fragment):
        session.load_workload(path)
    assert len(session) == 1 and dict(session.timeline.live.items()) == {"keep": "1"}


def test_missing_and_oversized_workloads(tmp_path: Path) -> None:
    with pytest.raises(WorkloadLoadError, match="no such file"):
        Session().load_workload(tmp_path / "missing.csv")
    big = tmp_path / "big.csv"
    big.write_text("op,key,value\n" + "get,a,\n" * 5001)
    with pytest.raises(WorkloadLoadError, match="5000"):
        Session().load_workload(big)


# --------------------------------------------------------------------------- figures
def test_figures_match_the_engine() -> None:
    session = Session(MapConfig.parse(backend="robinhood", capacity=16, deletion="tombstone"))
    session.fill(11, seed=1)
    session.execute(f"del {next(iter(session.timeline.live))}")
    session.to_end()
    figures = figures_of(session.frame().tables)
    stats = session.timeline.live.stats()
    assert figures.size == stats["size"] and figures.capacity == stats["capacity"]
    assert figures.tombstones == stats["tombstones"] == 1
    dibs = dict((d + 1, n) for d, n in session.timeline.live.dib_histogram())
    assert {i + 1: n for i, n in enumerate(figures.probe_histogram) if n} == {
        k: v for k, v in dibs.items() if v
    }


def test_geometry_places_every_entry_once_and_inside_its_table() -> None:
    session = Session()
    load_demo(session, "adaptive-migration")
    while session.step_forward():
        frame = session.frame()
        geometry = place_tables(frame.tables)
        idents = [ident for ident, *_ in geometry.entries()]
        assert len(idents) == len(set(idents)) == sum(int(t.layout["size"]) for t in frame.tables)
        for _ident, loc, _entry, table in geometry.entries():
            rect = geometry.rect_of(loc)
            assert rect is not None
            assert table.frame.x <= rect.x and rect.x + rect.w <= table.frame.x + table.frame.w + 1
            assert table.frame.y <= rect.y and rect.y + rect.h <= table.frame.y + table.frame.h + 1


def test_model_never_imports_qt() -> None:
    import subprocess

    code = (
        "import sys, explorer.model, explorer.model.geometry, explorer.model.table_stats;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'PyQt6','pyqtgraph','qasync'} or m.startswith('explorer.ui')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_names_are_exported() -> None:
    import explorer.model as model

    for name in model.__all__:
        assert hasattr(model, name), name


def test_migration_steps_point_at_the_adaptive_pseudocode() -> None:
    session = Session()
    load_demo(session, "adaptive-migration")
    phases = set()
    while session.step_forward():
        frame = session.frame()
        event = frame.event
        if event is not None and event.kind in ("migrate", "guardrail"):
            assert frame.pseudocode is not None and frame.line is not None
            assert frame.pseudocode.title.startswith("Adaptive")
            line = frame.pseudocode.lines[frame.line]
            expected = {"start": "start migrating", "batch": "batch", "end": "becomes active"}
            key = getattr(event, "phase", "guardrail")
            assert (expected.get(key) or "guardrail") in line
            phases.add(key)
    assert {"guardrail", "start", "batch", "end"} <= phases


def test_every_sample_workload_loads() -> None:
    from explorer.resources import sample_workloads

    samples = sample_workloads()
    assert {p.name for p in samples} >= {"mixed-small.csv", "colliding-keys.csv"}
    for path in samples:
        session = Session()
        count = session.load_workload(path)
        assert count == len(session) > 0
        session.to_end()
        session.timeline.live.check_invariants()


def test_prefetch_builds_the_neighbouring_frames() -> None:
    session = Session()
    session.fill(20, seed=4)
    session.seek(10)
    session.timeline._frames.clear()
    session.prefetch()
    assert {9, 11} <= set(session.timeline._frames)
    cached = session.timeline._frames[9]
    session.step_back()
    assert session.frames_here() is cached


@pytest.mark.parametrize(
    ("hash_name", "words"),
    [
        ("crc32", "crc32: the CRC-32 of its UTF-8 bytes"),
        ("fast", "fast: its CRC-32, scrambled"),
        ("keyed", "keyed: BLAKE2b with the map's secret seed"),
    ],
)
@pytest.mark.parametrize("backend", ["robinhood", "chaining", "adaptive"])
def test_the_hash_step_says_which_function_computed_what(
    backend: str, hash_name: str, words: str
) -> None:
    session = Session(MapConfig.parse(backend=backend, capacity=8, hash=hash_name))
    session.execute("put apple 1")
    session.step_forward()
    frame = session.frame()
    assert frame.event is not None and frame.event.kind == "hash"
    expected = engine.create_map(backend, **session.config.engine_options())
    assert f"hash('apple') = {frame.event.hash:#x} ({words}" in frame.narration
    if hash_name != "keyed":  # the same unseeded function gives the same value anywhere
        assert frame.event.hash == expected._hashfn("apple")


def test_hash_narration_names_what_is_hashed_for_bytes_and_int_keys() -> None:
    from engine.tracing.events import HashEvent
    from explorer.model.narration import narrate
    from explorer.model.operations import Operation

    op = Operation("get", "k")
    for key, words in ((b"k", "CRC-32 of its bytes, started from a tag"), (7, "fmix64")):
        event = HashEvent(table="robinhood", key=key, hash=5, capacity=8, index=5)
        assert words in narrate(event, op=op, backend="robinhood", hash_name="crc32")
    event = HashEvent(table="robinhood", key="k", hash=5, capacity=8, index=5)
    assert "= 0x5. Its home" in narrate(event, op=op, backend="robinhood")  # no name: no words
