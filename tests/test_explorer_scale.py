"""The map views at scale (#14): chains drawn as chains, a migration in two views, steps
redrawn incrementally yet always matching the frame, tags that cover no label."""

from __future__ import annotations

import random

import pytest
from PyQt6.QtCore import QPointF, QRectF
from PyQt6.QtWidgets import QApplication

from engine.tracing.events import MigrateEvent
from explorer.model import Session, load_demo
from explorer.model.frames import Loc, entry_id, table_entries
from explorer.model.geometry import HEAD_H, TAG_ROOM, place_tables
from explorer.model.map_config import MapConfig
from explorer.model.narration import SHOWN_CHARS, narrate
from explorer.model.operations import Operation
from explorer.ui.main_window import MainWindow
from explorer.ui.map_items import GroupHeadItem, LaneItem


@pytest.fixture
def window(qtbot):  # type: ignore[no-untyped-def]
    win = MainWindow()
    win.animate = False
    qtbot.addWidget(win)
    win.resize(1024, 768)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.dispose()


def assert_scene_matches_frame(win: MainWindow) -> None:
    """The picture is the frame: one tile per stored entry (plus the one in hand), each
    at its place with its mark, no tile left over; every slot background in the frame's
    state. The scene redraws only what a step changed, so this is checked after every
    step of the tests below."""
    scene = win.scene
    frame, geometry = scene.frame, scene.geometry
    assert frame is not None and geometry is not None
    expected: dict[object, tuple[float, float]] = {}
    for state in frame.tables:
        for loc, entry in table_entries(state):
            rect = geometry.rect_of(loc)
            assert rect is not None
            expected[entry_id(entry["key"])] = (rect.x, rect.y)
            tile = scene.tile_for(loc)
            assert tile is not None, loc
            assert tile.ident == entry_id(entry["key"])
            assert tile.mark == frame.marks.get(loc), (loc, tile.mark, frame.marks.get(loc))
        if "slots" in state.layout:
            for i, slot in enumerate(state.layout["slots"]):
                item = scene.backgrounds[Loc(state.kind, slot=i)]
                assert item.state == slot["state"], (i, item.state, slot["state"])
                assert item.mark == frame.marks.get(Loc(state.kind, slot=i))
    carried = frame.carried
    hand = set()
    if carried is not None and frame.focus is not None:
        hand.add(entry_id(carried["key"]))
    assert set(scene.tiles) == set(expected) | hand
    for ident, (x, y) in expected.items():
        if ident in hand:
            continue
        assert scene.tiles[ident].pos() == QPointF(x, y), ident


def _random_ops(rng: random.Random, count: int, keys: int) -> list[Operation]:
    ops = []
    for _ in range(count):
        key = f"k{rng.randrange(keys)}"
        roll = rng.random()
        if roll < 0.55:
            ops.append(Operation("put", key, str(rng.randrange(100))))
        elif roll < 0.8:
            ops.append(Operation("get", key))
        elif roll < 0.97:
            ops.append(Operation("del", key))
        else:
            ops.append(Operation("compact", None))
    return ops


@pytest.mark.parametrize(
    "fields",
    [
        {"backend": "robinhood", "capacity": 8, "deletion": "tombstone"},
        {"backend": "robinhood", "capacity": 8, "deletion": "backshift"},
        {"backend": "chaining", "capacity": 2},
        {"backend": "adaptive", "capacity": 8,
         "extra": {"migration_batch": 2, "guardrails": {"min_entries": 6, "cooldown_ops": 4,
                                                         "cooldown_per_entry": 0.0}}},
    ],
    ids=["rh-tombstone", "rh-backshift", "chaining", "adaptive"],
)
def test_incremental_redraw_always_matches_the_frame(window, fields) -> None:  # type: ignore[no-untyped-def]
    """Forward through every micro-step, then back, then random jumps: after each the
    scene equals the frame (a missed change would leave a stale or doubled tile)."""
    rng = random.Random(7)
    window.session.reset(MapConfig.parse(**fields))
    window.session.add_operations(_random_ops(rng, 60, 24), go_to="first")
    session = window.session
    steps = 0
    while session.step_forward():
        assert_scene_matches_frame(window)
        steps += 1
    assert steps > 150
    for _ in range(40):
        session.step_back()
        assert_scene_matches_frame(window)
    for _ in range(15):
        session.seek(rng.randrange(len(session) + 1))
        assert_scene_matches_frame(window)
        for _ in range(rng.randrange(1, 6)):
            session.step_forward()
            assert_scene_matches_frame(window)


def test_incremental_redraw_survives_theme_switches_and_resets(window) -> None:  # type: ignore[no-untyped-def]
    load_demo(window.session, "tombstones-vs-backshift")
    for _ in range(12):
        window.session.step_forward()
    window.set_theme("dark")
    assert_scene_matches_frame(window)
    window.session.step_forward()
    assert_scene_matches_frame(window)
    window.session.reset()
    assert_scene_matches_frame(window)
    window.set_theme("light")


# ---------------------------------------------------------------------- chains as chains
def test_chaining_draws_a_lane_only_for_groups_that_hold_entries(window) -> None:  # type: ignore[no-untyped-def]
    window.apply_config({"backend": "chaining", "capacity": 64, "groups": 4})
    window.fill(40)
    window.session.to_end()
    layout = window.session.timeline.live.layout()
    used = {
        (b, g) for b, bucket in enumerate(layout["buckets"]) for g, chain in enumerate(bucket)
        if chain
    }
    scene = window.scene
    lanes = {(loc.bucket, loc.group) for loc in scene.lanes}
    assert lanes == used  # no lane for an empty group
    heads = [item for item in scene.backgrounds.values() if isinstance(item, GroupHeadItem)]
    assert len(heads) == len(layout["buckets"]) * layout["groups"]  # every group is named
    assert all(isinstance(lane, LaneItem) for lane in scene.lanes.values())
    for head in heads:  # a head says whether its chain is empty
        assert head.length == len(layout["buckets"][head.bucket_index][head.group_index])
    assert_scene_matches_frame(window)


def test_a_chain_is_a_row_of_linked_boxes_below_its_bucket_heads() -> None:
    session = Session(MapConfig.parse(backend="chaining", capacity=1, groups=2,
                                      max_load_factor=8.0))
    for key in ("a", "b", "c", "d", "e"):
        session.execute(f"put {key} 1")
    session.to_end()
    frame = session.frame()
    geometry = place_tables(frame.tables)
    table = geometry.tables[0]
    for lane_loc, lane in table.lanes.items():
        head = table.cells[lane_loc]
        assert lane.y >= head.y + HEAD_H + TAG_ROOM - 4  # under the heads, with tag room
        chain = frame.tables[0].layout["buckets"][lane_loc.bucket][lane_loc.group]
        boxes = [table.entry_rect(Loc(lane_loc.table, bucket=lane_loc.bucket,
                                      group=lane_loc.group, position=p))
                 for p in range(len(chain))]
        assert all(box is not None for box in boxes)
        xs = [box.x for box in boxes if box is not None]
        assert xs == sorted(xs) and len(set(xs)) == len(xs)  # left to right, in order
        assert all(box.y == lane.y for box in boxes if box is not None)


# ---------------------------------------------------------------------- migration views
def _to_migration_batch(window) -> None:  # type: ignore[no-untyped-def]
    load_demo(window.session, "adaptive-migration")
    session = window.session
    while session.step_forward():
        event = session.frame().event
        if isinstance(event, MigrateEvent) and event.phase == "batch" and event.moved:
            return
    raise AssertionError("the demo has no migration batch")


def test_a_migration_shows_each_table_in_its_own_view(window) -> None:  # type: ignore[no-untyped-def]
    _to_migration_batch(window)
    QApplication.processEvents()
    pane = window.pane
    assert pane.split
    source, target = pane.views
    assert {source.region, target.region} == {"chaining", "robinhood"}
    frame = window.session.frame()
    roles = {t.kind: t.role for t in frame.tables}
    assert roles[source.region] == "source" and roles[target.region] == "target"
    # each view shows its own table only, with its own scale
    for view in pane.views:
        table = window.scene.geometry.table(view.region)
        shown = view.mapToScene(view.viewport().rect()).boundingRect()
        assert shown.intersects(QRectF(table.frame.x, table.frame.y, table.frame.w,
                                       table.frame.h))
        assert view.sceneRect().contains(QRectF(table.frame.x, table.frame.y, 1, 1))
    # the target view follows the entries this batch moved
    event = frame.event
    assert isinstance(event, MigrateEvent)
    moved = [loc for loc, mark in frame.marks.items() if mark == "moved"]
    assert moved and all(loc.table == target.region for loc in moved)
    rect = window.scene.geometry.rect_of(moved[0])
    shown = target.mapToScene(target.viewport().rect()).boundingRect()
    assert shown.contains(QRectF(rect.x, rect.y, rect.w, rect.h))
    # the key text is readable in both
    from explorer.ui.map_view import key_pixels_at_scale

    for view in pane.views:
        assert key_pixels_at_scale(view.current_scale) >= 14 * 0.999
    # after the migration, one view again
    while window.session.step_forward():
        pass
    window.session.to_end()
    QApplication.processEvents()
    if len(window.session.frame().tables) == 1:
        assert not pane.split and pane.views[0].region is None


def test_migration_narration_names_the_keys_and_the_batch_limit() -> None:
    event = MigrateEvent(table="adaptive", phase="batch", source="chaining",
                         target="robinhood", moved=1, moved_total=3, total=7, cursor=10,
                         keys=("grape",), batch=2, start=3)
    text = narrate(event, op=Operation("put", "kiwi", "8"), backend="adaptive")
    assert "'grape'" in text and "at most 2 per operation" in text
    assert "3\u20139 held only one" in text  # why fewer than the limit moved
    full = MigrateEvent(table="adaptive", phase="batch", source="chaining",
                        target="robinhood", moved=2, moved_total=4, total=7, cursor=5,
                        keys=("a", "b"), batch=2, start=3)
    text = narrate(full, op=Operation("put", "kiwi", "8"), backend="adaptive")
    assert "'a' and 'b' moved" in text and "held only" not in text


def test_the_engine_reports_each_batch_with_its_limit_and_start() -> None:
    from engine import create_map
    from engine.tracing.collect import trace

    m = create_map("adaptive", capacity=8, migration_batch=3,
                   guardrails={"min_entries": 4, "cooldown_ops": 0, "cooldown_per_entry": 0})
    with trace(m) as events:
        for i in range(60):
            m[f"k{i}"] = i
    batches = [e for e in events if isinstance(e, MigrateEvent) and e.phase == "batch"]
    assert batches
    cursor = 0
    for e in batches:
        assert e.batch == 3 and e.moved <= 3 and e.moved == len(e.keys)
        if e.start < cursor:  # a new migration began
            cursor = 0
        assert e.start >= cursor and e.cursor >= e.start
        cursor = e.cursor


def test_the_map_settings_set_the_migration_batch(window) -> None:  # type: ignore[no-untyped-def]
    panel = window.config_panel
    panel.backend.setCurrentIndex(panel.backend.findData("adaptive"))
    panel.batch.setValue(5)
    assert panel.batch.isEnabled() and panel.groups.isEnabled() and panel.deletion.isEnabled()
    assert window.apply_config(panel.fields())
    assert window.session.config.extra["migration_batch"] == 5
    assert window.session.timeline.live._opts.migration_batch == 5
    panel.backend.setCurrentIndex(panel.backend.findData("robinhood"))
    assert not panel.batch.isEnabled() and not panel.groups.isEnabled()
    assert "migration_batch" not in panel.fields().get("extra", {})


# ---------------------------------------------------------------------- labels and text
def test_long_keys_are_elided_in_the_middle_and_whole_in_the_tooltip(window) -> None:  # type: ignore[no-untyped-def]
    # crafted keys sharing a long middle: the ends tell them apart
    middle, suffix = "-customer-record" * 4, "-2026"
    keys = [f"{i}{middle}{suffix}{i}" for i in range(3)]
    for key in keys:
        window.run_command(f"put {key} 1")
    window.session.to_end()
    texts = set()
    for key in keys:
        loc = next(loc for loc, e in table_entries(window.session.frame().tables[0])
                   if e["key"] == key)
        tile = window.scene.tile_for(loc)
        assert tile is not None and tile.toolTip().startswith(key)
        from explorer.ui.map_items import KEY_FONT, _elide

        shown = _elide(tile.key, KEY_FONT, 100, middle=True)
        assert "\u2026" in shown and shown.endswith(key[-3:])  # both ends kept
        assert shown.startswith(key[:2])
        texts.add(shown)
    assert len(texts) == len(keys)  # still told apart
    op = Operation("put", keys[0], "1")
    text = narrate(None, op=op, backend="robinhood")
    assert keys[0] not in text and "\u2026" in text
    assert len(max(text.split(), key=len)) <= SHOWN_CHARS + 2


def test_home_and_probe_tags_cover_no_slot_index(window) -> None:  # type: ignore[no-untyped-def]
    """Every step of the Robin Hood demos: the markers' tags sit in the room between
    rows, never over another slot's "[i]" label."""
    scene = window.scene
    for demo in ("robinhood-basics", "tombstones-vs-backshift"):
        load_demo(window.session, demo)
        while window.session.step_forward():
            for marker in (scene.probe, scene.home):
                if not marker.isVisible() or not marker.label:
                    continue
                tag = marker.mapRectToScene(marker._tag())
                for item in scene.backgrounds.values():
                    index_label = QRectF(item.pos().x() + 4, item.pos().y() + 2, 30, 14)
                    assert not tag.intersects(index_label), (demo, marker.label)


def test_no_tab_page_scrolls_at_1024x768(window) -> None:  # type: ignore[no-untyped-def]
    for demo in ("adaptive-migration", "robinhood-basics", "chaining-basics"):
        window.open_demo(demo)
        for _ in range(30):
            window.session.step_forward()
        QApplication.processEvents()
        assert window.height() <= 768 and window.width() <= 1024
        for index in range(window.tabs.count()):
            window.tabs.setCurrentIndex(index)
            QApplication.processEvents()
            scroll = window.tabs.widget(index)
            bar = scroll.verticalScrollBar()
            assert bar.maximum() == 0, (demo, window.tabs.tabText(index))


def test_the_pseudocode_is_never_empty_at_the_end(window) -> None:  # type: ignore[no-untyped-def]
    load_demo(window.session, "robinhood-basics")
    window.session.to_end()
    QApplication.processEvents()
    assert window.narration.code.count() >= 3
    assert window.narration.highlighted_line is None
    assert "operations done" in window.narration.narration.text()


def test_the_side_by_side_demo_narrates_both_maps(window) -> None:  # type: ignore[no-untyped-def]
    load_demo(window.session, "tombstones-vs-backshift")
    both = differ = 0
    while window.session.step_forward():
        text = window.narration.narration.text()
        frame, twin = window.session.frame(), window.session.twin_frame()
        assert twin is not None
        if frame.narration == twin.narration:
            assert text.startswith("<b>Both:</b>")
            both += 1
        else:
            assert "Above (tombstone):" in text and "Below (backshift):" in text
            differ += 1
    assert both and differ  # the deletes differ, the rest is shared
    assert not window.narration.engine_line.isVisibleTo(window)
