"""The notebooks in docs/notebooks/, executed by nbclient as a reader would run them.

Each runs in a fresh kernel (Qt offscreen, IPython and Jupyter folders in a temporary
directory) and its outputs are checked: no error, the SVG pictures present and showing
the slots the engine really has, the stepper's widget state after stepping, the charts of
a real run, and the Qt window following the session.
"""

from __future__ import annotations

import base64
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

import engine

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "docs" / "notebooks"
NS = "{http://www.w3.org/2000/svg}"
SVG = "image/svg+xml"


def execute(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    for var, sub in (
        ("IPYTHONDIR", "ipython"),
        ("JUPYTER_RUNTIME_DIR", "runtime"),
        ("JUPYTER_CONFIG_DIR", "config"),
        ("JUPYTER_DATA_DIR", "data"),
        ("UV_CACHE_DIR", "uv-cache"),
    ):
        monkeypatch.setenv(var, str(tmp_path / sub))
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", (cell.source, out.get("evalue"))
    return nb


def outputs(nb: Any, tag: str) -> list[Any]:
    (cell,) = [c for c in nb.cells if tag in c.metadata.get("tags", [])]
    return list(cell.outputs)


def svg_of(nb: Any, tag: str) -> ET.Element:
    svgs = [o["data"][SVG] for o in outputs(nb, tag) if SVG in o.get("data", {})]
    assert len(svgs) == 1, f"cell {tag!r} shows no single SVG picture"
    return ET.fromstring(svgs[0])


def text_of(nb: Any, tag: str) -> str:
    return "".join(o.get("text", "") for o in outputs(nb, tag) if o["output_type"] == "stream")


def occupied(element: ET.Element) -> dict[int, str]:
    return {
        int(g.get("data-slot", -1)): g.get("data-key", "")
        for g in element.iter(f"{NS}g")
        if g.get("class") == "ahm-slot" and g.get("data-state") == "occupied"
    }


def slots_of(layout: dict[str, Any]) -> dict[int, str]:
    return {i: s["key"] for i, s in enumerate(layout["slots"]) if s["state"] == "occupied"}


def lesson_map(keys: list[str]) -> engine.BaseMap:
    m = engine.create_map("robinhood", capacity=8, max_load_factor=0.9)
    for i, key in enumerate(keys):
        m[key] = i
    return m


def test_the_robin_hood_lesson(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nb = execute("robinhood-lesson.ipynb", tmp_path, monkeypatch)
    assert len(nb.cells) == 10
    first = lesson_map(["apple", "banana", "cherry", "elder"])
    assert occupied(svg_of(nb, "first-map")) == slots_of(first.layout())
    strip = svg_of(nb, "displace")
    frames = [g for g in strip.iter(f"{NS}g") if g.get("class") == "ahm-frame"]
    events = [f.get("data-event") for f in frames]
    assert events[0] == "start" and events[-1] == "result" and "displace" in events
    after = lesson_map(["apple", "banana", "cherry", "elder", "guava"])
    assert occupied(frames[-1]) == slots_of(after.layout())
    swap = frames[events.index("displace")]
    assert [g.get("data-mark") for g in swap.iter(f"{NS}g") if g.get("data-mark")]
    early = svg_of(nb, "early-stop")
    narration = " ".join(
        t.text or "" for g in early.iter(f"{NS}g") if g.get("class") == "ahm-narration"
        for t in g.iter(f"{NS}text")
    )
    assert "closer than we are" in narration and "'grape' is not in the map" in narration
    # the widget and its state after stepping
    (view,) = [o for o in outputs(nb, "stepper") if "application/vnd.jupyter.widget-view+json"
               in o.get("data", {})]
    model_id = view["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    widget = state[model_id]["state"]
    assert widget["index"] == 6 and widget["op"] == 0 and widget["step_in_op"] == 6
    assert widget["heading"].startswith("op 1/3: put fig 8")
    printed = text_of(nb, "stepped")
    assert printed.startswith(f"6 of {widget['count']} | op 1/3: put fig 8")
    assert widget["narration"] in printed
    assert widget["code"][widget["line"]].strip() in printed
    # a static HTML export keeps every picture, and no picture carries a script
    from nbconvert import HTMLExporter

    html, _ = HTMLExporter().from_notebook_node(nb)
    embedded = re.findall(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)", html)
    pictures = [base64.b64decode(e).decode("utf-8") for e in embedded]
    ours = [p for p in pictures if 'class="ahm-' in p]
    # the map and the two strips; nbconvert shows the stepper by its widget view and
    # saved state, not by the SVG the output also holds
    assert len(ours) == 3
    for svg in ours:
        assert "<script" not in svg and ET.fromstring(svg).tag == f"{NS}svg"
    assert occupied(ET.fromstring(ours[0])) == slots_of(first.layout())


def test_tombstones_against_backward_shift(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nb = execute("tombstones-vs-backshift.ipynb", tmp_path, monkeypatch)
    keys = ["apple", "banana", "cherry", "elder", "guava", "date", "kiwi"]
    maps = {}
    for deletion in ("tombstone", "backshift"):
        maps[deletion] = engine.create_map("robinhood", capacity=8, max_load_factor=0.9,
                                           deletion=deletion)
        for i, key in enumerate(keys):
            maps[deletion][key] = i
    assert occupied(svg_of(nb, "before")) == slots_of(maps["tombstone"].layout())
    for deletion, tag in (("tombstone", "tombstone-delete"), ("backshift", "backshift-delete")):
        del maps[deletion]["apple"]
        frames = [g for g in svg_of(nb, tag).iter(f"{NS}g") if g.get("class") == "ahm-frame"]
        last = frames[-1]
        assert occupied(last) == slots_of(maps[deletion].layout())
        states = [g.get("data-state") for g in last.iter(f"{NS}g") if g.get("class") == "ahm-slot"]
        kinds = {f.get("data-event") for f in frames}
        if deletion == "tombstone":
            assert states.count("tombstone") == 1 and "tombstone" in kinds
        else:
            assert states.count("tombstone") == 0 and "backshift" in kinds
    printed = text_of(nb, "probes")
    assert "tombstone  tombstones=1" in printed and "backshift  tombstones=0" in printed
    compacted = svg_of(nb, "compacted")
    assert not [g for g in compacted.iter(f"{NS}g") if g.get("data-state") == "tombstone"]
    assert set(occupied(compacted).values()) == set(keys) - {"apple"}


def test_replay_and_chart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nb = execute("replay-and-chart.ipynb", tmp_path, monkeypatch)
    assert text_of(nb, "run").startswith("30000 operations,")
    chart = svg_of(nb, "charts")
    series = {p.get("data-name") for p in chart.iter(f"{NS}polyline")}
    assert {"ops/s", "p50", "p90", "p99", "load"} <= series
    markers = [m for m in chart.iter(f"{NS}line") if m.get("class") == "ahm-marker"]
    assert markers and {m.get("data-kind") for m in markers} & {"resize", "migration start"}
    assert (tmp_path / "run-metrics" / "metrics.ndjson").is_file()


def test_the_qt_window_under_gui_qt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("PyQt6")
    nb = execute("qt-window.ipynb", tmp_path, monkeypatch)
    printed = text_of(nb, "driven")
    assert "window shows: ['apple', 'banana']" in printed
    assert "2 operations done" in printed
    assert "window narration: hash('banana')" in text_of(nb, "picture")
    png = [o for o in outputs(nb, "picture") if "image/png" in o.get("data", {})]
    assert png and (tmp_path / "window.png").stat().st_size > 10_000
    # the session stands at step 1 of 'put banana': only apple is stored yet
    assert set(occupied(svg_of(nb, "svg")).values()) == {"apple"}


def test_charts_of_a_live_job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("httpx")
    nb = execute("live-job.ipynb", tmp_path, monkeypatch)
    (job_dir,) = (tmp_path / "jobs").iterdir()
    ticks = [json.loads(line) for line in (job_dir / "metrics.ndjson").read_text().splitlines()]
    assert ticks[-1]["ops"] == 300_000
    # the widget followed the job to its end and drew every tick it wrote
    (view,) = [o for o in outputs(nb, "live") if "application/vnd.jupyter.widget-view+json"
               in o.get("data", {})]
    model_id = view["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    widget = state[model_id]["state"]
    assert widget["job_id"] == job_dir.name and widget["state"] == "succeeded"
    assert widget["ticks"] == len(ticks) and widget["ops_done"] == 300_000
    assert widget["following"] is False and widget["message"] == ""
    assert text_of(nb, "waited") == (
        f"succeeded: 300000 operations, {len(ticks)} ticks drawn; following: False\n"
    )
    drawn = ET.fromstring(widget["svg"])
    static = svg_of(nb, "charts")
    distinct = len({t["ops"] for t in ticks})
    for svg in (drawn, static):
        panels = [g for g in svg.iter(f"{NS}g") if g.get("class") == "ahm-chart"]
        assert len(panels) == 4 and all(int(g.get("data-points", 0)) == distinct
                                        for g in panels)
        resizes = sum(1 for t in ticks for e in t["events"] if e["type"] == "resize")
        markers = [m for m in svg.iter(f"{NS}line") if m.get("class") == "ahm-marker"]
        assert resizes and len(markers) >= 4 * resizes
    printed = text_of(nb, "errors").splitlines()
    assert [line.split(":")[0] for line in printed] == ["JobNotFound", "Unauthorized",
                                                        "JobRejected"]
    assert "outside the workload folders" in printed[2]
