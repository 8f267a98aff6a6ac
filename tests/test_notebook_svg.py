"""The notebook's SVG pictures draw what ``layout()`` says.

Each picture is parsed with ``xml.etree`` (so it is well-formed XML) and its cells are
read back: every key in its slot with its DIB and home, tombstones, empty slots, chains in
order with their links, both tables of a migration, the step's marks, and the compact
overview of a large table. No Qt and no IPython are needed.
"""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import engine
from explorer.model import MapConfig, Operation, Timeline
from explorer.notebook import picture, trace
from explorer.notebook.render import SLOT_DETAIL_LIMIT, key_text
from explorer.notebook.svg import elide, esc
from tests.conftest import MAP_FACTORIES

ROOT = Path(__file__).resolve().parent.parent
NS = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    assert not list(root.iter(f"{NS}script"))
    return root


def groups(root: ET.Element, cls: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{NS}g") if g.get("class") == cls]


def texts(element: ET.Element, role: str) -> list[str]:
    return [t.text or "" for t in element.iter(f"{NS}text") if t.get("data-role") == role]


def title(element: ET.Element) -> str:
    found = element.find(f"{NS}title")
    assert found is not None
    return found.text or ""


def robinhood_with_tombstones() -> engine.BaseMap:
    m = engine.create_map("robinhood", capacity=16, deletion="tombstone")
    for i, key in enumerate(["apple", "banana", "cherry", "date", "elder", "fig", "grape"]):
        m[key] = i
    del m["banana"]
    del m["fig"]
    return m


def test_every_robinhood_slot_is_drawn_as_layout_says() -> None:
    m = robinhood_with_tombstones()
    layout = m.layout()
    root = parse(picture(m).svg)
    cells = groups(root, "ahm-slot")
    assert [int(c.get("data-slot", -1)) for c in cells] == list(range(16))
    for cell, slot in zip(cells, layout["slots"], strict=True):
        assert cell.get("data-state") == slot["state"]
        if slot["state"] == "occupied":
            assert cell.get("data-key") == slot["key"]
            assert texts(cell, "key") == [slot["key"]]
            assert texts(cell, "value") == [f"= {slot['value']}"]
            assert texts(cell, "dib") == [f"d{slot['dib']}"]
            assert texts(cell, "home") == [f"\u2302{slot['home']}"]
        elif slot["state"] == "tombstone":
            assert texts(cell, "tombstone") == ["\u2020"]
            assert texts(cell, "dib") == [f"d{slot['dib']}"]
            assert texts(cell, "home") == [f"\u2302{slot['home']}"]
            assert "tombstone" in title(cell)
        else:
            assert texts(cell, "key") == [] and texts(cell, "dib") == []
    assert sum(c.get("data-state") == "tombstone" for c in cells) == 2
    keys = {c.get("data-key") for c in cells if c.get("data-state") == "occupied"}
    assert keys == {"apple", "cherry", "date", "elder", "grape"}


def test_a_displaced_key_sits_away_from_home_with_its_dib() -> None:
    m = engine.create_map("robinhood", capacity=16, max_load_factor=0.9)
    for i in range(14):
        m[f"k{i}"] = i
    layout = m.layout()
    moved = [s for s in layout["slots"] if s["state"] == "occupied" and s["dib"] > 0]
    assert moved, "the test needs a key away from its home"
    cells = {int(c.get("data-slot", -1)): c for c in groups(parse(picture(m).svg), "ahm-slot")}
    for index, slot in enumerate(layout["slots"]):
        if slot["state"] == "occupied" and slot["dib"] > 0:
            assert cells[index].get("data-home") == str(slot["home"]) != str(index)
            assert texts(cells[index], "dib") == [f"d{slot['dib']}"]


def test_chains_are_drawn_in_order_with_links() -> None:
    m = engine.create_map("chaining", capacity=2, groups=2, max_load_factor=4.0)
    for key in "abcdefgh":
        m[key] = key.upper()
    layout = m.layout()
    root = parse(picture(m).svg)
    lanes = groups(root, "ahm-lane")
    assert len(lanes) == 2 * 2
    drawn_links = 0
    for lane in lanes:
        b, g = int(lane.get("data-bucket", -1)), int(lane.get("data-group", -1))
        chain = layout["buckets"][b][g]
        entries = [e for e in lane.iter(f"{NS}g") if e.get("class") == "ahm-entry"]
        assert [e.get("data-key") for e in entries] == [x["key"] for x in chain]
        assert [int(e.get("data-position", -1)) for e in entries] == list(range(len(chain)))
        assert [texts(e, "value") for e in entries] == [[f"='{x['value']}'"] for x in chain]
        links = [p for p in lane.iter(f"{NS}path") if p.get("class") == "ahm-link"]
        assert len(links) == max(0, len(chain) - 1)
        drawn_links += len(links)
    assert drawn_links == 8 - sum(1 for b in layout["buckets"] for c in b if c)


def _migrating_map() -> engine.BaseMap:
    guard = engine.GuardrailConfig(
        min_entries=2, cooldown_ops=0, chaining_load_factor=0.5, chaining_max_group_len=2
    )
    m = engine.create_map("adaptive", capacity=16, groups=2, guardrails=guard, migration_batch=1)
    for i in range(40):
        m[f"k{i}"] = i
        if m.layout()["migration"] is not None:
            return m
    raise AssertionError("no migration started")


def test_adaptive_during_migration_shows_source_and_target() -> None:
    m = _migrating_map()
    layout = m.layout()
    root = parse(picture(m).svg)
    tables = groups(root, "ahm-table")
    assert [(t.get("data-role"), t.get("data-kind")) for t in tables] == [
        (t["role"], t["layout"]["kind"]) for t in layout["tables"]
    ]
    assert [t.get("data-role") for t in tables] == ["source", "target"]
    assert groups(root, "ahm-migration")
    drawn = {e.get("data-key") for e in root.iter(f"{NS}g") if e.get("data-key")}
    assert drawn == {f"k{i}" for i in range(len(m))}


def test_large_tables_are_an_overview_of_bounded_size() -> None:
    m = engine.create_map("robinhood", capacity=1 << 15, deletion="tombstone")
    for i in range(20_000):
        m[f"key{i}"] = i
    for i in range(0, 20_000, 9):
        del m[f"key{i}"]
    svg = picture(m).svg
    assert len(svg) < 600_000
    root = parse(svg)
    (overview,) = groups(root, "ahm-overview")
    layout = m.layout()
    assert overview.get("data-cells") == str(1 << 15)
    assert overview.get("data-occupied") == str(layout["size"])
    assert overview.get("data-tombstones") == str(layout["tombstones"])
    assert groups(root, "ahm-slot") == []
    worst = max(s["dib"] for s in layout["slots"] if s["state"] == "occupied")
    assert overview.get("data-worst") == str(worst)


def test_the_detail_limit_is_where_the_overview_starts() -> None:
    small = engine.create_map("robinhood", capacity=SLOT_DETAIL_LIMIT)
    large = engine.create_map("robinhood", capacity=SLOT_DETAIL_LIMIT * 2)
    assert len(groups(parse(picture(small).svg), "ahm-slot")) == SLOT_DETAIL_LIMIT
    assert groups(parse(picture(large).svg), "ahm-overview")
    assert len(groups(parse(picture(large, detail=True).svg), "ahm-slot")) == 2 * SLOT_DETAIL_LIMIT


def test_key_text_is_escaped_and_long_keys_elided_with_a_tooltip() -> None:
    m = engine.create_map("robinhood", capacity=8)
    nasty = "<b>&\"tom's\"</b>"
    long_key = "a-very-long-key-" + "x" * 80 + "-end"
    odd = "bad\ud800\x01key"
    m[nasty] = "<v>"
    m[long_key] = 1
    m[odd] = 2
    m[b"\x00\xff"] = 3
    svg = picture(m).svg
    assert "<b>" not in svg and "&lt;b&gt;" in svg
    svg.encode("utf-8")  # lone surrogates would not encode
    root = parse(svg)
    cells = {c.get("data-key"): c for c in groups(root, "ahm-slot") if c.get("data-key")}
    assert nasty in cells and texts(cells[nasty], "value") == ["= '<v>'"]
    shown = texts(cells[long_key], "key")[0]
    assert shown == elide(long_key, len(shown)) and "\u2026" in shown and len(shown) < 12
    assert shown.startswith("a-ve") and shown.endswith("end")
    assert long_key in title(cells[long_key])
    assert "bad\\ud800\\u0001key" in cells
    assert key_text({"bytes": "00ff"}) in cells


def test_elide_and_escape() -> None:
    assert elide("abcdefghij", 5) == "ab\u2026ij"
    assert elide("abc", 5) == "abc"
    assert esc("a<b>&'\"") == "a&lt;b&gt;&amp;&#39;&quot;"


@pytest.mark.parametrize("factory", MAP_FACTORIES, ids=lambda f: f.id)
def test_a_traced_block_gives_the_explorers_own_frames(factory) -> None:  # type: ignore[no-untyped-def]
    """``trace(m)`` cuts the events into operations and rebuilds the same frames as the
    explorer's timeline, whatever the map does (resizes, tombstones, migrations)."""
    m = factory()
    ops = [Operation("put", f"k{i % 7}", str(i)) for i in range(12)]
    ops += [Operation("del", "k1"), Operation("get", "k2"), Operation("del", "zz")]
    ops += [Operation("compact"), Operation("put", "k1", "again")]
    timeline = Timeline(MapConfig(backend=m.layout()["kind"]), start=m)
    timeline.extend(ops)
    with trace(m) as events:
        for op in ops:
            if op.op == "put":
                m[op.key] = op.value
            elif op.op == "get":
                m.get(op.key)
            elif op.op == "del":
                m.discard(op.key)
            else:
                m.compact()
    traced = events.operations()
    # a compaction with nothing to do emits no event, so a trace cannot see it
    visible = [
        i for i in range(len(ops))
        if not (ops[i].op == "compact" and timeline.frames(i)[-1].event is None)
    ]
    assert [(o.op.op, o.op.key) for o in traced] == [(ops[i].op, ops[i].key) for i in visible]
    by_op = iter(visible)
    for op in traced:
        want = timeline.frames(next(by_op))
        got = op.frames()
        assert [f.narration for f in got] == [f.narration for f in want]
        assert [f.tables for f in got] == [f.tables for f in want]
        assert [f.marks for f in got] == [f.marks for f in want]


def test_trace_pictures_have_one_panel_per_step_with_its_narration() -> None:
    m = robinhood_with_tombstones()
    with trace(m) as events:
        m["kiwi"] = 9
        m.get("nope")
    ops = events.operations()
    frames = [f for o in ops for f in o.frames()]
    root = parse(picture(events).svg)
    panels = groups(root, "ahm-frame")
    assert len(panels) == len(frames)
    for panel, frame in zip(panels, frames, strict=True):
        narration = " ".join(
            t.text or "" for g in groups(panel, "ahm-narration") for t in g.iter(f"{NS}text")
        )
        assert narration.split() == frame.narration.split()
        assert panel.get("data-event") == ("start" if frame.event is None else frame.event.kind)
    place = next(p for p, f in zip(panels, frames, strict=True) if f.title == "place")
    marked = [c for c in groups(place, "ahm-slot") if c.get("data-mark") == "placed"]
    assert [c.get("data-key") for c in marked] == ["kiwi"]


def test_a_plain_engine_trace_is_drawn_as_narrated_cards() -> None:
    m = robinhood_with_tombstones()
    with engine.trace(m) as events:
        m["kiwi"] = 9
    cards = groups(parse(picture(events).svg), "ahm-card")
    assert [c.get("data-event") for c in cards] == [e.kind for e in events]


def test_importing_the_notebook_package_loads_no_qt_and_no_ipython() -> None:
    code = (
        "import sys, explorer.notebook as nb, engine; "
        "m = engine.create_map('robinhood'); m['a'] = 1; nb.picture(m); "
        "print(sorted(n for n in sys.modules if n.split('.')[0] in "
        "('PyQt6', 'pyqtgraph', 'qasync', 'IPython', 'anywidget', 'ipywidgets', 'httpx')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
