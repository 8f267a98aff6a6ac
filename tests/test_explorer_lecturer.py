"""What a lecturer hit (#14, "Fix what a lecturer hits"): each case failed before its fix."""

from __future__ import annotations

import collections
import csv
import os
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QApplication, QComboBox

import explorer
from engine.maps.hashing import crc32_hash
from explorer.model import Session, load_demo
from explorer.model.map_config import MapConfig
from explorer.model.table_stats import figures_of
from explorer.ui.labels import fill_message
from explorer.ui.main_window import MainWindow
from explorer.ui.menus import SHORTCUTS

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def window(qtbot):  # type: ignore[no-untyped-def]
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1024, 768)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()


def test_the_header_shows_the_real_capacity(window) -> None:  # type: ignore[no-untyped-def]
    window.apply_config({"backend": "robinhood", "capacity": 10})
    assert "capacity 16" in window.main_label.text()  # 10 asked, 16 slots
    window.fill(40)
    window.session.to_end()
    window.refresh()
    real = window.session.timeline.live.capacity
    assert real > 16 and f"capacity {real}" in window.main_label.text()


def test_during_a_migration_both_tables_are_counted_apart(window) -> None:  # type: ignore[no-untyped-def]
    load_demo(window.session, "adaptive-migration")
    session = window.session
    while session.step_forward():
        if len(session.frame().tables) == 2:
            break
    figures = figures_of(session.frame().tables)
    assert len(figures.capacities) == 2
    assert figures.capacity_text == f"{figures.capacities[0]} + {figures.capacities[1]}"
    window.refresh()
    assert window.stats.values["capacity"].text() == figures.capacity_text
    assert f"capacity {figures.capacity_text} (source + target)" in window.main_label.text()


def test_the_colliding_sample_collides_under_the_hash_it_opens_with() -> None:
    path = ROOT / "resources" / "workloads" / "colliding-keys.csv"
    keys = {row[1] for row in csv.reader(path.open()) if row[0] != "op"}
    assert MapConfig().hash == "crc32"
    homes = collections.Counter(crc32_hash(k) & 0xFFF for k in keys)
    assert homes.most_common(1)[0][1] >= 20  # one 12-bit home shared by 20+ keys
    readme = (ROOT / "resources" / "README.md").read_text()
    assert "crc32" in readme


def test_arrow_keys_in_a_focused_list_are_the_list_s(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    load_demo(window.session, "robinhood-basics")
    window.refresh()
    combo = window.config_panel.findChild(QComboBox)
    assert combo is not None
    window.tabs.setCurrentIndex(1)
    combo.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is combo)
    before = window.session.position
    qtbot.keyClick(combo, Qt.Key.Key_Right)
    qtbot.keyClick(combo, Qt.Key.Key_Down)
    assert window.session.position == before  # the map did not step
    window.clear_focus()
    qtbot.keyClick(window, Qt.Key.Key_Right)
    assert window.session.position != before  # and does once the list lets go


def test_reset_asks_nothing_but_can_be_undone(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    load_demo(window.session, "robinhood-basics")
    count = len(window.session)
    assert count > 0
    qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert len(window.session) == 0
    assert "Ctrl+Z" in window.statusBar().currentMessage()
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(window.session) == count
    assert window.undo_reset() is False  # once


def test_a_fill_says_what_happened() -> None:
    assert fill_message(1024, 1024) == "Inserted 1,024 random keys"
    text = fill_message(1024, 1022)
    assert "1,022 new keys" in text and "2 of the 1,024" in text and "updated" in text


def test_the_fill_message_counts_the_keys_really_added(window) -> None:  # type: ignore[no-untyped-def]
    window.apply_config({"backend": "robinhood", "capacity": 16})
    window.fill(50)
    first = len(window.session.timeline.live)
    window.fill(1500)
    added = len(window.session.timeline.live) - first
    assert window.statusBar().currentMessage() == fill_message(1500, added)


def test_the_status_bar_does_not_give_the_result_away(window) -> None:  # type: ignore[no-untyped-def]
    load_demo(window.session, "robinhood-basics")
    window.run_command("get nosuchkey")
    message = window.statusBar().currentMessage()
    assert "get nosuchkey" in message
    assert "not found" not in message and "miss" not in message.lower()


def test_the_probe_histogram_ticks_whole_numbers(window) -> None:  # type: ignore[no-untyped-def]
    load_demo(window.session, "robinhood-basics")
    window.session.to_end()
    window.refresh()
    for axis in ("bottom", "left"):
        ticks = window.stats.plot.getAxis(axis)._tickLevels
        assert ticks and all(float(value) == int(value) for value, _ in ticks[0]), axis


def test_help_lists_the_shortcuts_and_about_says_the_version(window) -> None:  # type: ignore[no-untyped-def]
    menus = {a.text().replace("&", ""): a for a in window.menuBar().actions()}
    assert "Help" in menus
    items = {a.text().replace("&", ""): a for a in menus["Help"].menu().actions()}
    items["Keyboard shortcuts"].trigger()
    text = window.last_dialog.text()
    for keys, _ in SHORTCUTS:
        assert keys in text
    window.last_dialog.close()
    items["About"].trigger()
    assert explorer.__version__ in window.last_dialog.text()
    window.last_dialog.close()
    assert "The explorer's guide" in items


def test_the_versions_agree() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert explorer.__version__ == project
    proc = subprocess.run([sys.executable, "-m", "explorer", "--version"], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == f"explorer {project}"


def test_a_filled_table_renders_from_the_command_line(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen")
    shot = tmp_path / "fill.png"
    proc = subprocess.run(
        [sys.executable, "-m", "explorer", "--backend", "chaining", "--capacity", "64",
         "--fill", "300", "--crafted", "20", "--size", "1024x768", "--screenshot", str(shot)],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert shot.stat().st_size > 10_000
    bad = subprocess.run(
        [sys.executable, "-m", "explorer", "--fill", "-3", "--screenshot", str(shot)],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert bad.returncode == 2 and "--fill" in bad.stderr


def test_a_session_reset_keeps_nothing_shared_with_the_undo() -> None:
    session = Session()
    session.execute("put a 1")
    state = session.snapshot_state()
    session.reset()
    session.execute("put b 2")
    session.restore_state(state)
    assert [r.op.key for r in session.timeline.records] == ["a"]


# ---------------------------------------------------------------------- playback
@pytest.fixture
def long_session_window(window, tmp_path):  # type: ignore[no-untyped-def]
    import subprocess as sp

    path = tmp_path / "w.csv"
    sp.run([sys.executable, "-m", "engine.cli", "generate-csv", "--outfile", str(path), "--ops",
            "5000", "--key-space", "300", "--seed", "2"], cwd=ROOT, check=True,
           capture_output=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    window.session.load_workload(path)
    window.refresh()
    return window


def test_whole_operation_playback_runs_past_1000_ops_a_second(long_session_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    window = long_session_window
    bar = window.transport
    while bar.ops_per_second != 1000:
        bar.nudge_speed(1)
    assert bar.speed_label.text() == "1,000 ops/s"
    window.toggle_play()
    started = time.perf_counter()
    qtbot.waitUntil(lambda: not window.playing, timeout=20_000)
    elapsed = time.perf_counter() - started
    assert window.session.at_end
    assert 5000 / elapsed >= 1000 * 0.8  # the clock decides, frames do not slow it much


def test_go_to_operation_n(long_session_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    window = long_session_window
    box = window.transport.goto
    assert box.maximum() == 5000 and box.suffix() == "/5,000"
    qtbot.keyClick(window, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is box
    box.setValue(4321)
    assert window.session.position.op == 4320
    assert box.value() == 4321  # and the box follows the position
    window.do_action("op_forward")
    assert box.value() == 4322


def test_the_scrubber_stays_precise_on_5000_operations(long_session_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    from PyQt6.QtCore import QPoint, QPointF
    from PyQt6.QtGui import QWheelEvent

    window = long_session_window
    bar = window.transport.timeline
    assert len(bar.records) == 5000 > bar.width()
    columns = bar._columns(bar.width() - 16)
    assert len(columns) == bar.width() - 16
    structural = [i for i, r in enumerate(bar.records) if r.structural]
    assert structural and any(tall for _, tall in columns)  # resizes stay visible
    window.session.seek(2500)
    for delta, expected in ((-120, 2501), (-120, 2502), (120, 2501)):
        event = QWheelEvent(QPointF(50, 10), QPointF(50, 10), QPoint(0, 0), QPoint(0, delta),
                            Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                            Qt.ScrollPhase.NoScrollPhase, False)
        bar.wheelEvent(event)
        assert window.session.position.op == expected


# ---------------------------------------------------------------------- readable at scale
def _key_pixels(window) -> float:  # type: ignore[no-untyped-def]
    from explorer.ui.map_view import key_pixels_at_scale

    return key_pixels_at_scale(window.view.current_scale)


def _action_in_view(window) -> bool:  # type: ignore[no-untyped-def]
    rect = window.view.action_rect()
    if rect is None:
        return True
    shown = window.view.mapToScene(window.view.viewport().rect()).boundingRect()
    return shown.intersects(rect)


@pytest.mark.parametrize("demo", ["robinhood-basics", "chaining-basics", "adaptive-migration",
                                  "tombstones-vs-backshift"])
def test_every_demo_is_readable_at_1024x768_and_follows_the_action(window, demo) -> None:  # type: ignore[no-untyped-def]
    load_demo(window.session, demo)
    window.refresh()
    steps = 0
    while True:
        window.scene.finish_animation()
        assert _key_pixels(window) >= 14.0 - 1e-6, (demo, steps)
        assert _action_in_view(window), (demo, steps)
        steps += 1
        if not window.session.step_forward() or steps > 400:
            break


def test_a_1024_key_table_is_readable_and_follows(window) -> None:  # type: ignore[no-untyped-def]
    window.apply_config({"backend": "robinhood", "capacity": 1024})
    window.fill(1024)
    window.session.seek(900)
    window.refresh()
    for _ in range(60):
        window.scene.finish_animation()
        assert _key_pixels(window) >= 14.0 - 1e-6
        assert _action_in_view(window)
        window.session.step_forward()
    assert not window.view.whole_table_fits  # too big to show whole at a readable size


def test_the_overview_frames_what_the_lens_shows_and_goes_to_a_slot(window) -> None:  # type: ignore[no-untyped-def]
    window.apply_config({"backend": "robinhood", "capacity": 1024})
    window.fill(1024, adversarial=40)
    window.session.seek(len(window.session) - 1)
    window.refresh()
    view = window.view
    assert view.overview.isVisible() and view.follow_box.isVisible()
    overview = view.overview
    cells = overview.tables[0].cells
    assert len(cells) == window.session.frame().tables[0].layout["capacity"]
    assert overview.visible_locs == view.visible_locs() and overview.visible_locs
    assert overview.tables[0].worst >= 10  # the crafted keys' cluster, long DIBs
    far = cells[-1].loc
    assert far not in view.visible_locs()
    view.go_to(far)
    assert not view.follow and far in view.visible_locs()
    window.session.step_back()  # not following: the view stays where it was sent
    assert far in view.visible_locs()
    view.follow = True
    assert _action_in_view(window)


def test_no_overview_over_a_small_table(window) -> None:  # type: ignore[no-untyped-def]
    load_demo(window.session, "robinhood-basics")
    window.refresh()
    assert not window.view.overview.isVisible() and not window.view.follow_box.isVisible()


def test_overview_cells_follow_the_layout() -> None:
    from explorer.model.frames import TableState
    from explorer.model.overview import overview_of

    session = Session(MapConfig(backend="chaining", capacity=8))
    for key in ("a", "b", "c", "d", "e"):
        session.execute(f"put {key} 1")
    session.to_end()
    table = session.frame().tables[0]
    view = overview_of(TableState(table.role, table.layout))
    assert len(view.cells) == table.layout["capacity"]
    assert sum(c.value for c in view.cells) <= 5 and view.worst >= 1
    assert {c.state for c in view.cells} <= {"empty", "occupied"}


def test_presenter_mode_enlarges_hides_the_panels_and_comes_back(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    load_demo(window.session, "robinhood-basics")
    window.refresh()
    assert window.side.isVisible()
    qtbot.keyClick(window, Qt.Key.Key_F5)
    assert window.presenter and not window.side.isVisible()
    assert _key_pixels(window) >= 21.0 - 1e-6  # 14 px x 1.5
    assert "150%" in window.statusBar().currentMessage()
    qtbot.keyClick(window, Qt.Key.Key_F9)
    assert window.side.isVisible()
    qtbot.keyClick(window, Qt.Key.Key_F5)
    assert not window.presenter and window.text_scale == 1.0
    assert _key_pixels(window) >= 14.0 - 1e-6


def test_ctrl_plus_and_minus_scale_text_and_tiles(window) -> None:  # type: ignore[no-untyped-def]
    load_demo(window.session, "adaptive-migration")
    window.refresh()
    window.zoom_text(2)
    assert window.text_scale == pytest.approx(1.15**2)
    assert _key_pixels(window) >= 14.0 * 1.15**2 - 1e-6
    assert "font-size" in QApplication.instance().styleSheet()
    window.zoom_text(-20)
    assert window.text_scale == 0.8  # bounded
    window.set_text_scale(1.0)


def test_the_legend_takes_at_most_two_lines_at_1024(window) -> None:  # type: ignore[no-untyped-def]
    load_demo(window.session, "robinhood-basics")
    window.refresh()
    QApplication.processEvents()
    legend = window.legend
    lines = legend.heightForWidth(legend.width()) / legend.fontMetrics().lineSpacing()
    assert lines <= 2.2, lines
