"""The notebook Stepper: its state (index, position, picture, narration, pseudocode) is
the session's, and follows it both ways."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

import engine

pytest.importorskip("anywidget")

from explorer.notebook import Stepper, session

NS = "{http://www.w3.org/2000/svg}"


def occupied(svg: str) -> dict[int, str]:
    root = ET.fromstring(svg)
    return {
        int(g.get("data-slot", -1)): g.get("data-key", "")
        for g in root.iter(f"{NS}g")
        if g.get("class") == "ahm-slot" and g.get("data-state") == "occupied"
    }


def test_stepping_moves_the_index_the_picture_and_the_narration() -> None:
    m = engine.create_map("robinhood", capacity=8)
    m["apple"] = "1"
    w = Stepper(m, ["put banana 2", "get apple"])
    assert len(m) == 1, "the map itself is not changed: the stepper works on a copy"
    frames = [w.session.timeline.frames(i) for i in range(2)]
    assert w.count == sum(len(f) for f in frames)
    assert (w.index, w.op, w.step_in_op) == (0, 0, 0)
    assert w.narration == "Insert 'banana' with value '2'. Step forward to hash the key."
    first_svg = w.svg
    assert set(occupied(first_svg).values()) == {"apple"}
    w.step()
    assert (w.index, w.op, w.step_in_op) == (1, 0, 1)
    assert w.narration == frames[0][1].narration and w.narration.startswith("hash('banana')")
    assert w.code_title == "Robin Hood insert" and w.code[w.line].strip().startswith("h = hash")
    assert w.svg != first_svg
    w.index = len(frames[0])  # the scrubber: start of the get
    assert (w.op, w.step_in_op) == (1, 0) and w.heading.startswith("op 2/2: get apple")
    assert set(occupied(w.svg).values()) == {"apple", "banana"}
    w.back()
    assert (w.op, w.step_in_op) == (0, len(frames[0]) - 1)
    assert w.narration == frames[0][-1].narration
    assert w.play() == w.count and w.session.at_end
    # at the end: the insert the next put will run, no line lit (as in the desktop app)
    assert w.code and w.code[0].startswith("put(") and w.line == -1
    w.step()
    assert w.index == w.count  # clamped at the end
    w.index = -5
    assert w.index == 0


def test_the_stepper_follows_a_session_changed_elsewhere() -> None:
    s = session("robinhood", capacity=8, deletion="tombstone")
    w = Stepper(s)
    assert w.count == 0 and w.heading == "no operations yet"
    s.put("kiwi", 1)
    s.delete("kiwi")
    assert w.count == sum(len(s.timeline.frames(i)) for i in range(2))
    # each operation recorded moves the session (and so the stepper) to its first step
    assert w.index == len(s.timeline.frames(0)) and w.heading.startswith("op 2/2: del kiwi")
    s.seek(0)
    assert (w.index, w.op) == (0, 0) and w.heading.startswith("op 1/2: put kiwi 1")
    w.to_end()
    assert w.heading == "after 2 operations"
    root = ET.fromstring(w.svg)
    states = [g.get("data-state") for g in root.iter(f"{NS}g") if g.get("class") == "ahm-slot"]
    assert states.count("tombstone") == 1 and states.count("occupied") == 0


def test_a_static_export_keeps_the_current_picture() -> None:
    w = Stepper(engine.create_map("chaining", capacity=4), ["put pear 1"])
    w.to_end()
    bundle = w._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert "application/vnd.jupyter.widget-view+json" in data
    assert 'data-key="pear"' in data["image/svg+xml"]
    assert "export default" in w._esm and "<script" not in w.svg


def test_only_maps_and_sessions_can_be_stepped() -> None:
    with pytest.raises(TypeError):
        Stepper({"a": 1}, ["get a"])  # type: ignore[arg-type]
