"""IPython's rich display of the notebook pictures, in an in-process IPython shell.

``%load_ext explorer.notebook`` registers the SVG formatter for every engine map;
``show()`` displays at once; a session and a trace display as pictures too.
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import engine

pytest.importorskip("IPython")

SVG = "image/svg+xml"
NS = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()
    try:
        yield ip
    finally:
        if "explorer.notebook" in ip.extension_manager.loaded:
            ip.run_line_magic("unload_ext", "explorer.notebook")
        InteractiveShell.clear_instance()


def slot_keys(svg: str) -> dict[int, str]:
    root = ET.fromstring(svg)
    return {
        int(g.get("data-slot", -1)): g.get("data-key", "")
        for g in root.iter(f"{NS}g")
        if g.get("class") == "ahm-slot" and g.get("data-state") == "occupied"
    }


def test_load_ext_makes_every_engine_map_display_as_its_picture(shell: Any) -> None:
    m = engine.create_map("robinhood", capacity=8)
    m["apple"] = 1
    chaining = engine.create_map("chaining", capacity=4)
    chaining["pear"] = 2
    before, _ = shell.display_formatter.format(m)
    assert SVG not in before
    shell.run_line_magic("load_ext", "explorer.notebook")
    data, _ = shell.display_formatter.format(m)
    home = m.layout()["slots"].index(next(s for s in m.layout()["slots"] if s.get("key")))
    assert slot_keys(data[SVG]) == {home: "apple"}
    data, _ = shell.display_formatter.format(chaining)
    assert 'data-key="pear"' in data[SVG]
    shell.run_line_magic("unload_ext", "explorer.notebook")
    after, _ = shell.display_formatter.format(m)
    assert SVG not in after


def test_show_displays_now_and_pictures_display_as_svg(
    shell: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from explorer import notebook

    shown: list[dict[str, Any]] = []
    monkeypatch.setattr(
        shell.display_pub, "publish", lambda data, **kw: shown.append(data), raising=False
    )
    m = engine.create_map("robinhood", capacity=8)
    m["kiwi"] = 3
    assert notebook.show(m) is None
    assert len(shown) == 1 and "kiwi" in shown[0][SVG]
    s = notebook.session("robinhood", capacity=8)
    s.put("fig", 1)
    notebook.show(s)
    assert "Insert 'fig'" in html.unescape(shown[-1][SVG])
    with notebook.trace(m) as events:
        m["lime"] = 4
    notebook.show(events)
    assert shown[-1][SVG].count('class="ahm-frame"') == len(events) + 1


def test_show_outside_ipython_returns_the_picture() -> None:
    from explorer import notebook

    m = engine.create_map("robinhood", capacity=8)
    m["kiwi"] = 3
    pic = notebook.show(m)
    assert pic is not None and "kiwi" in pic._repr_svg_()
    with pytest.raises(TypeError, match="cannot draw"):
        notebook.picture(42)


def test_a_notebook_session_ends_by_saying_what_a_notebook_can_do_next() -> None:
    from explorer.notebook import session

    s = session("robinhood", capacity=8)
    s.put("apple", 1)
    s.to_end()
    text = s.frame().narration
    assert "1 operation done" in text and "put('apple', 1)" in text
    assert "Type an operation" not in text  # the desktop app's wording
