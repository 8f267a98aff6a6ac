"""The notebook widgets' front ends (their anywidget ``_esm``) run in headless Chromium.

``tests/browser/widget_harness.js`` imports a widget's module into a page with a fake
anywidget model (Backbone's semantics: get, set firing ``change`` events, save_changes
sending to a kernel that answers a moment later, on/off, send), clicks its controls and
records the model and the DOM. For the Stepper the kernel's answers are the real
Stepper's state at every index, so the page shows exactly what a notebook would.
Skipped when no Chromium is installed (``tests/run.sh`` installs Debian's ``chromium``).
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

import engine

pytest.importorskip("anywidget")

from explorer.notebook import Stepper
from explorer.notebook.live import _ESM as LIVE_ESM

HARNESS = Path(__file__).parent / "browser" / "widget_harness.js"
NS = "{http://www.w3.org/2000/svg}"


def chromium() -> str:
    for name in (os.environ.get("CHROMIUM", ""), "chromium", "chromium-browser",
                 "google-chrome"):
        if name and shutil.which(name):
            return str(shutil.which(name))
    pytest.skip("no Chromium to run the widgets' front end in (apt-get install chromium)")


def run_page(tmp_path: Path, script: str, esm: str, initial: Any, kernel: Any) -> Any:
    """The scenario ``script`` of the harness on ``esm``; its result, parsed."""

    def block(name: str, value: Any) -> str:
        text = json.dumps(value).replace("</", "<\\/")
        return f'<script type="application/json" id="{name}">{text}</script>\n'

    page = tmp_path / f"{script}.html"
    page.write_text(
        "<!doctype html><html><head><meta charset='utf-8'></head><body>\n"
        + block("esm", esm) + block("initial", initial) + block("kernel", kernel)
        + block("script", script)
        + '<pre id="result">pending</pre>\n'
        + f"<script type='module'>\n{HARNESS.read_text('utf-8')}\n</script>\n</body></html>",
        "utf-8",
    )
    done = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=60000",
         "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=180, check=False,
    )
    found = re.search(r'<pre id="result">(.*?)</pre>', done.stdout, re.S)
    assert found, f"no result in the page: {done.stdout[-800:]} {done.stderr[-800:]}"
    outcome = json.loads(html.unescape(found.group(1)))
    assert outcome["ok"], outcome.get("error")
    return outcome["result"]


STATE = ("index", "count", "op", "step_in_op", "svg", "heading", "narration", "code_title",
         "code", "line", "interval_ms")


def test_the_stepper_in_a_browser(tmp_path: Path) -> None:
    m = engine.create_map("robinhood", capacity=8)
    for key in ("apple", "banana", "cherry"):
        m[key] = "1"
    w = Stepper(m, ["put fig 8", "del apple", "get kiwi"], interval_ms=100)
    states = []
    for i in range(w.count + 1):  # what Python answers for every index
        w.index = i
        states.append({name: getattr(w, name) for name in STATE})
    w.index = 0
    result = run_page(tmp_path, "stepper", w._esm, states[0], states)
    snaps = {s["label"]: s for s in result["snapshots"]}
    count = w.count

    def shows(label: str, index: int) -> dict[str, Any]:
        snap = snaps[label]
        state = states[index]
        assert snap["index"] == index, (label, snap["index"], index)
        assert snap["where"] == f"{index} / {count}", label
        assert snap["scrub_value"] == str(index) and snap["scrub_max"] == str(count), label
        assert snap["narration"] == state["narration"], label
        assert snap["heading"] == state["heading"], label
        assert snap["code_rows"] == len(state["code"]), label
        assert snap["lit_row"] == state["line"], label
        if state["code_title"]:
            assert snap["code_title"] == state["code_title"], label
        assert snap["svg_ok"], f"{label}: the picture is not Python's for index {index}"
        return snap

    # the desktop transport's labels (explorer/ui/transport.py), in glyphs DejaVu Sans
    # has: U+23EE, U+23ED and U+23F8 drew as empty boxes
    assert result["buttons"] == [
        ["|\u25c0", "to the start"], ["\u25c0 Step", "back one step"],
        ["\u25b6 Play", "play"], ["Step \u25b6", "forward one step"], ["\u25b6|", "to the end"],
    ]
    # the narration is written once, beside the picture, not also inside it
    assert result["html_text"] == states[1]["narration"]
    assert states[1]["narration"][:30] not in result["svg_text"]
    shows("opened", 0)
    shows("step", 1)
    shows("step again", 2)
    shows("back", 1)
    shows("end", count)
    shows("step at the end", count)
    shows("start", 0)
    shows("back at the start", 0)
    shows("scrubbed to 3", 3)
    assert snaps["play pressed"]["play"] == "\u25a0 Pause"
    assert snaps["play pressed"]["play_title"] == "pause"
    shows("playing 3 intervals", 6)
    assert snaps["pause pressed"]["play"] == "\u25b6 Play"
    shows("paused 3 intervals", 6)
    shows("played past the end", count)
    after = shows("after the end", count)
    assert after["play"] == "\u25b6 Play" and after["play_title"] == "play"  # stopped itself
    assert snaps["play at the end"]["index"] == 0  # play from the end starts over
    shows("replaying", 1)
    # what went to Python: only the index, one save per move, never out of range
    saves = result["saves"]
    assert all(set(save) == {"index"} and 0 <= save["index"] <= count for save in saves)
    assert [s["index"] for s in saves[:4]] == [1, 2, 1, count]
    before, later = result["after_cleanup"]
    assert before == later, "the play timer outlived the view"
    # the Python side agrees with the page at every index it was sent
    for save in saves:
        w.index = save["index"]
        assert w.narration == states[save["index"]]["narration"]


def test_the_live_charts_in_a_browser(tmp_path: Path) -> None:
    from explorer.notebook.run_charts import charts

    def tick(ops: int, t: float) -> dict[str, Any]:
        pct = {"p50": 900.0, "p90": 2000.0, "p99": 4000.0}
        return {"schema": "metrics.v1", "t": t, "backend": "robinhood", "ops": ops, "puts": ops,
                "gets": 0, "dels": 0, "size": ops, "capacity": 4096, "load_factor": 0.5,
                "tombstone_ratio": 0.0, "max_probe": 2, "avg_probe": 1.0, "probe_hist": [],
                "latency_ns": {"overall": pct}, "migrations": 0, "compactions": 0,
                "events": []}

    svg1 = charts([tick(1000, 0.1)]).svg
    svg3 = charts([tick(1000, 0.1), tick(2000, 0.2), tick(3000, 0.3)]).svg
    first = {"job_id": "abc", "state": "running", "ops_done": 1000, "ticks": 1, "svg": svg1,
             "message": "", "following": True}
    updates = [
        ["more ticks", {"ops_done": 3000, "ticks": 3, "svg": svg3}],
        ["cancelled", {"state": "cancelled", "following": False,
                       "message": "job abc cancelled (exit code 130): Interrupted"}],
    ]
    result = run_page(tmp_path, "liveCharts", LIVE_ESM, first, updates)
    snaps = {s["label"]: s for s in result["snapshots"]}
    opened = snaps["opened"]
    assert opened["state"] == "running" and opened["cancel_shown"] and opened["message"] is None
    assert opened["where"] == "job abc: 1,000 operations, 1 ticks, following"
    assert opened["svg_points"] is None or opened["svg_points"]  # the svg root is shown
    assert result["sent"] == [{"type": "cancel"}]  # the button asks Python to cancel
    more = snaps["more ticks"]
    assert more["where"] == "job abc: 3,000 operations, 3 ticks, following"
    done = snaps["cancelled"]
    assert done["state"] == "cancelled" and not done["cancel_shown"]
    assert done["message"] == "job abc cancelled (exit code 130): Interrupted"
    assert done["where"] == "job abc: 3,000 operations, 3 ticks"
    assert result["listeners"][1] == 0  # the view's cleanup stops listening
    for svg in (svg1, svg3):
        assert ET.fromstring(svg).tag == f"{NS}svg"
