"""The explorer's window under pytest-qt (offscreen): controls, views, errors, demos."""

from __future__ import annotations

import gc
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from PyQt6.QtCore import QEvent, QPointF, Qt
from PyQt6.QtWidgets import QApplication

from explorer.model import Session, load_demo
from explorer.model.demos import DEMOS
from explorer.model.frames import Loc
from explorer.ui.main_window import MainWindow
from explorer.ui.map_items import SlotItem

pytestmark = pytest.mark.qt
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def window(qtbot):
    win = MainWindow(Session())
    win.animate = False
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    yield win
    _dispose(win)


def _dispose(win: MainWindow) -> None:
    """Close and delete the window now, in Qt's order (children before parents), so no
    chart item of an old window is painted or collected during a later test."""
    win.close()
    win.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    gc.collect()


def _layouts(win: MainWindow) -> list[object]:
    return [t.layout for t in win.session.frame().tables]


def test_transport_buttons_move_the_model(window, qtbot) -> None:
    load_demo(window.session, "robinhood-basics")
    buttons = window.transport.buttons
    qtbot.mouseClick(buttons["step_forward"], Qt.MouseButton.LeftButton)
    assert (window.session.position.op, window.session.position.step) == (0, 1)
    qtbot.mouseClick(buttons["step_back"], Qt.MouseButton.LeftButton)
    assert window.session.position.step == 0
    qtbot.mouseClick(buttons["op_forward"], Qt.MouseButton.LeftButton)
    assert window.session.position.op == 1
    qtbot.mouseClick(buttons["end"], Qt.MouseButton.LeftButton)
    assert window.session.at_end
    qtbot.mouseClick(buttons["op_back"], Qt.MouseButton.LeftButton)
    assert window.session.position.op == len(window.session) - 1
    qtbot.mouseClick(buttons["start"], Qt.MouseButton.LeftButton)
    assert window.session.position.op == 0


def test_keyboard_shortcuts(window, qtbot) -> None:
    load_demo(window.session, "chaining-basics")
    window.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_Right)
    assert window.session.position.step == 1
    qtbot.keyClick(window, Qt.Key.Key_Left)
    assert window.session.position.step == 0
    qtbot.keyClick(window, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert window.session.position.op == 1
    qtbot.keyClick(window, Qt.Key.Key_PageDown)
    assert window.session.position.op == 2
    qtbot.keyClick(window, Qt.Key.Key_PageUp)
    assert window.session.position.op == 1
    qtbot.keyClick(window, Qt.Key.Key_End)
    assert window.session.at_end
    qtbot.keyClick(window, Qt.Key.Key_Home)
    assert window.session.position.op == 0
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert window.playing
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert not window.playing
    before = window.transport.speed_value
    qtbot.keyClick(window, Qt.Key.Key_BracketRight)
    assert window.transport.speed_value > before


def test_stepping_forward_n_then_back_n_restores_the_layout(window, qtbot) -> None:
    load_demo(window.session, "adaptive-migration")
    window.session.seek(5)
    start = _layouts(window)
    for _ in range(40):
        qtbot.keyClick(window, Qt.Key.Key_Right)
    assert _layouts(window) != start
    for _ in range(40):
        qtbot.keyClick(window, Qt.Key.Key_Left)
    assert _layouts(window) == start
    assert window.session.position.op == 5


def test_the_view_shows_the_slot_the_trace_names(window) -> None:
    load_demo(window.session, "robinhood-basics")
    checked = set()
    while window.session.step_forward():
        frame = window.session.frame()
        event = frame.event
        if event is None or event.kind not in ("probe", "compare", "displace", "place"):
            continue
        loc = Loc("robinhood", slot=event.slot)
        geometry = window.scene.geometry
        assert geometry is not None
        rect = geometry.rect_of(loc)
        assert rect is not None
        assert window.scene.probe.isVisible()
        assert window.scene.probe.pos() == QPointF(rect.x, rect.y)
        background = window.scene.backgrounds[loc]
        assert isinstance(background, SlotItem) and background.mark == frame.marks[loc]
        if event.kind == "place" and not event.replaced:
            tile = window.scene.tile_for(loc)
            assert tile is not None and tile.key == event.key
        checked.add(event.kind)
    assert checked == {"probe", "compare", "displace", "place"}


def test_the_narration_and_pseudocode_follow_the_step(window) -> None:
    window.session.execute("put apple 1")
    window.session.step_forward()
    frame = window.session.frame()
    assert frame.event is not None and frame.event.kind == "hash"
    assert "hash('apple')" in window.narration.narration.text()
    assert window.narration.highlighted_line == frame.line
    assert "Operation 1 of 1" in window.narration.heading.text()


@pytest.mark.parametrize("name", list(DEMOS))
def test_the_narration_is_never_clipped(window, qtbot, name: str) -> None:
    """Every step of every demo, in a 1280x800 window: the wrapped narration and the
    one-line engine line get their full height (the pseudocode list gives way)."""
    window.set_theme("light")  # the style sheet's narration font, as the app shows it
    window.open_demo(name)
    labels = (window.narration.narration, window.narration.engine_line)
    while window.session.step_forward():
        QApplication.processEvents()
        for label in labels:  # heights include the style sheet's padding
            if not label.isVisibleTo(window):
                continue  # the engine line is hidden while two maps are narrated
            needed = label.heightForWidth(label.width())
            assert label.height() >= needed, (label.text(), label.height(), needed)


@pytest.mark.parametrize("size", [(1024, 768), (1280, 720)])
def test_small_screens_need_no_sideways_scrolling_in_the_tabs(window, size) -> None:
    """Projector sizes: the side panel keeps the tabs' pages whole in width (the map
    view gives up the room)."""
    window.set_theme("light")
    window.resize(*size)
    window.open_demo("robinhood-basics")
    QApplication.processEvents()
    for index in range(window.tabs.count()):
        window.tabs.setCurrentIndex(index)
        QApplication.processEvents()
        scroll = window.tabs.widget(index)
        assert not scroll.horizontalScrollBar().isVisible(), window.tabs.tabText(index)


def test_the_operation_line_runs_and_bad_lines_show_an_error(window, qtbot) -> None:
    qtbot.keyClicks(window.inputs.line, "put apple 1")
    qtbot.keyClick(window.inputs.line, Qt.Key.Key_Return)
    assert len(window.session) == 1 and window.error_text == ""
    assert window.inputs.line.text() == ""
    qtbot.keyClicks(window.inputs.line, "fly apple")
    qtbot.keyClick(window.inputs.line, Qt.Key.Key_Return)
    assert "unknown operation" in window.error_text
    assert len(window.session) == 1
    assert window.inputs.line.text() == "fly apple"  # kept, so it can be corrected
    window.inputs.line.clear()
    qtbot.keyClicks(window.inputs.line, "get apple")
    qtbot.keyClick(window.inputs.line, Qt.Key.Key_Return)
    assert len(window.session) == 2 and window.error_text == ""


def test_operation_buttons_use_the_key_and_value_fields(window, qtbot) -> None:
    window.inputs.key.setText("big apple")
    window.inputs.value.setText("7")
    qtbot.mouseClick(window.inputs.op_buttons["put"], Qt.MouseButton.LeftButton)
    assert dict(window.session.timeline.live.items()) == {"big apple": "7"}
    qtbot.mouseClick(window.inputs.op_buttons["get"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(window.inputs.op_buttons["del"], Qt.MouseButton.LeftButton)
    assert len(window.session.timeline.live) == 0
    qtbot.mouseClick(window.inputs.op_buttons["compact"], Qt.MouseButton.LeftButton)
    assert [window.session.timeline.operation(i).op for i in range(4)] == [
        "put",
        "get",
        "del",
        "compact",
    ]
    window.inputs.key.clear()
    qtbot.mouseClick(window.inputs.op_buttons["get"], Qt.MouseButton.LeftButton)
    assert "empty" in window.error_text and len(window.session) == 4


def test_random_fill_with_crafted_keys(window, qtbot) -> None:
    window.inputs.fill_count.setValue(20)
    window.inputs.fill_adversarial.setValue(5)
    window.inputs.fill_requested.emit(20, 5)
    live = window.session.timeline.live
    assert len(live) == 20
    assert sum(str(k).startswith("adv-") for k in live) == 5
    assert window.session.at_end


def test_map_settings_apply_a_new_map(window, qtbot) -> None:
    window.session.execute("put apple 1")
    panel = window.config_panel
    panel.backend.setCurrentIndex(panel.backend.findData("chaining"))
    panel.capacity.setValue(4)
    panel.max_load.setValue(2.0)
    panel.apply_requested.emit(panel.fields())
    assert window.session.config.backend == "chaining"
    assert window.session.config.capacity == 4 and len(window.session) == 0
    panel.backend.setCurrentIndex(panel.backend.findData("robinhood"))
    panel.max_load.setValue(3.0)
    panel.apply_requested.emit(panel.fields())
    assert "max_load_factor" in window.error_text
    assert window.session.config.backend == "chaining"  # unchanged


def test_workload_loading_good_and_bad(window, tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text("op,key,value\nput,a,1\nput,b,2\nget,a,\n")
    window.load_workload_file(good)
    assert len(window.session) == 3 and window.session.position.op == 0
    assert "good.csv" in window.title.text()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"op,key,value\nput,a\n")
    window.load_workload_file(bad)
    assert "row 1" in window.error_text
    assert len(window.session) == 3
    window.load_workload_file(tmp_path / "missing.csv")
    assert "no such file" in window.error_text
    window.load_workload_file(tmp_path)
    assert "folder" in window.error_text
    assert len(window.session) == 3


def test_play_advances_and_stops_at_the_end(window, qtbot) -> None:
    window.session.execute("put apple 1")
    window.session.execute("get apple")
    window.session.seek(0)
    window.transport.speed.setValue(len(window.transport.BUTTONS) - 1)  # fastest
    window.toggle_play()
    assert window.playing
    qtbot.waitUntil(lambda: window.session.at_end, timeout=10_000)
    qtbot.waitUntil(lambda: not window.playing, timeout=2_000)


def test_timeline_scrubber_seeks(window, qtbot) -> None:
    window.session.fill(10, seed=1)
    bar = window.transport.timeline
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.rect().center())
    assert window.session.position.op == bar.op_at(bar.rect().center().x())
    assert 3 <= window.session.position.op <= 7


def test_animation_moves_keys_to_their_new_slots(window, qtbot) -> None:
    win = window
    win.animate = True
    load_demo(win.session, "robinhood-basics")
    win.session.seek(12)  # put lemon: the table grows
    while win.session.frame().event is None or win.session.frame().event.kind != "resize":
        win.session.step_forward()
    scene = win.scene
    with qtbot.waitSignal(scene.animation_finished, timeout=5000):
        win.session.step_forward()
    geometry = scene.geometry
    assert geometry is not None
    for ident, loc, _entry, _table in geometry.entries():
        rect = geometry.rect_of(loc)
        assert scene.tiles[ident].pos() == QPointF(rect.x, rect.y)
        assert scene.tiles[ident].opacity() == 1.0


def test_both_themes_render(window, tmp_path: Path) -> None:
    load_demo(window.session, "tombstones-vs-backshift")
    window.session.seek(6)
    for theme in ("dark", "light"):
        window.set_theme(theme)
        path = tmp_path / f"{theme}.png"
        window.save_screenshot(path)
        width, height = _png_size(path)
        assert (width, height) == (window.width(), window.height()) or width >= 640
    assert window.twin_box.isVisible()


@pytest.mark.parametrize("name", list(DEMOS))
def test_every_demo_renders(window, name: str) -> None:
    window.open_demo(name)
    for _ in range(25):
        window.session.step_forward()
    assert window.scene.tiles, "no keys drawn"
    assert window.session.title == DEMOS[name].title == window.title.text()
    image = window.grab().toImage()
    assert not image.isNull() and image.width() > 600


def test_a_table_of_1024_slots_draws(window) -> None:
    window.apply_config({"backend": "robinhood", "capacity": 1024, "max_load_factor": 0.95})
    window.session.fill(900, seed=2)
    window.refresh(animate=False)
    assert len(window.scene.tiles) == 900
    assert sum(isinstance(b, SlotItem) for b in window.scene.backgrounds.values()) == 1024


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


# --------------------------------------------------------------------------- command line
def _explorer(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "explorer", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_screenshot_automation(tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    done = _explorer("--demo", "adaptive-migration", "--steps", "30", "--screenshot", str(shot))
    assert done.returncode == 0, done.stderr
    assert _png_size(shot) == (1440, 900)
    small = tmp_path / "small.png"
    done = _explorer(
        "--demo",
        "chaining-basics",
        "--size",
        "1024x700",
        "--theme",
        "dark",
        "--screenshot",
        str(small),
    )
    assert done.returncode == 0, done.stderr
    assert _png_size(small) == (1024, 700)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--demo", "nope"), "invalid choice"),
        (("--steps", "x"), "invalid int"),
        (("--steps", "-1"), "must not be negative"),
        (("--size", "10x10"), "between"),
        (("--workload", "/nonexistent/w.csv", "--screenshot", "x.png"), "no such file"),
    ],
)
def test_bad_flags_exit_2_without_a_traceback(args: tuple[str, ...], fragment: str) -> None:
    done = _explorer(*args)
    assert done.returncode == 2
    assert fragment in done.stderr and "Traceback" not in done.stderr


def test_unwritable_screenshot_exits_5(tmp_path: Path) -> None:
    done = _explorer("--screenshot", str(tmp_path / "missing" / "x.png"))
    assert done.returncode == 5 and "could not write" in done.stderr


def test_list_demos() -> None:
    done = _explorer("--list-demos")
    assert done.returncode == 0
    assert all(name in done.stdout for name in DEMOS)


def test_workloads_load_on_a_worker_thread_under_qasync(window, tmp_path: Path) -> None:
    """Inside the qasync loop the CSV is read and recorded off the GUI thread."""
    import asyncio
    import threading

    import qasync

    good = tmp_path / "w.csv"
    good.write_text("op,key,value\n" + "".join(f"put,k{i},{i}\n" for i in range(300)))
    threads: list[str] = []
    prepare = window.session.prepare_workload

    def spy(path):
        threads.append(threading.current_thread().name)
        return prepare(path)

    window.session.prepare_workload = spy  # type: ignore[method-assign]
    loop = qasync.QEventLoop(QApplication.instance())

    async def scenario() -> None:
        window.load_workload_file(good)
        assert window._busy  # still loading: the GUI thread was not blocked
        for _ in range(500):
            if not window._busy:
                return
            await asyncio.sleep(0.01)

    try:
        loop.run_until_complete(scenario())
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    assert len(window.session) == 300
    assert threads and threads[0] != threading.main_thread().name


def test_without_a_display_the_demo_is_rendered_to_a_png(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-m", "explorer", "--demo", "tombstones-vs-backshift"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "no display found" in done.stderr
    assert _png_size(tmp_path / "explorer-tombstones-vs-backshift.png") == (1440, 900)


def test_edit_menu_drops_the_future_and_resets(window) -> None:
    for word in ("apple", "banana", "cherry"):
        window.run_command(f"put {word} 1")
    window.session.seek(1)
    window.truncate_here()
    assert len(window.session) == 1 and window.session.at_end
    window.run_command("put fig 2")
    assert set(window.session.timeline.live) == {"apple", "fig"}
    window.reset()
    assert len(window.session) == 0 and len(window.session.timeline.live) == 0


def test_menus_open_demos_samples_and_themes(window) -> None:
    from PyQt6.QtWidgets import QMenu

    menus = window.menuBar().findChildren(QMenu)
    actions = {a.text(): a for menu in menus for a in menu.actions()}
    actions[DEMOS["chaining-basics"].title].trigger()
    assert window.session.title == DEMOS["chaining-basics"].title
    actions["mixed-small.csv"].trigger()
    assert len(window.session) == 200 and "mixed-small.csv" in window.title.text()
    actions["Dark theme"].trigger()
    assert window.colours.name == "dark" and window.scene.colours.name == "dark"
    actions["Light theme"].trigger()
    assert window.colours.name == "light"


def test_idle_window_prefetches_neighbours(window, qtbot) -> None:
    window.session.fill(30, seed=2)
    window.session.seek(15)
    window.session.timeline._frames.clear()
    window.session.step_forward()
    qtbot.waitUntil(lambda: {14, 16} <= set(window.session.timeline._frames), timeout=3000)


@pytest.mark.parametrize("height", [60, 200])
def test_the_probe_histogram_names_its_tallest_bar_on_a_short_plot(qtbot, height) -> None:
    """On a short plot the entries axis still reads 0 and the tallest bar's count (a
    rounded step once left only "0"); a tall one counts up in whole steps past it."""
    from explorer.model.table_stats import TableFigures
    from explorer.ui.palette import LIGHT
    from explorer.ui.stats_panel import StatsPanel

    panel = StatsPanel(LIGHT)
    qtbot.addWidget(panel)
    panel.resize(320, 150 + height)
    panel.show()
    qtbot.waitExposed(panel)
    panel.plot.setFixedHeight(height)
    panel.show_figures(TableFigures(size=15, capacity=16, load_factor=0.94, tombstones=0,
                                    probe_histogram=(5, 7, 3)))
    QApplication.processEvents()
    ticks = panel.plot.getAxis("left")._tickLevels[0]
    labels = [label for _, label in ticks]
    if height < 84:
        assert labels == ["0", "7"]
    else:
        assert labels[0] == "0" and len(labels) >= 3 and int(labels[-1]) <= 7
