"""``Stepper(map_or_session, ops)``: step through operations in a notebook, without Qt.

An `anywidget <https://anywidget.dev>`_ widget (JupyterLab, Notebook 7, VS Code) with
the desktop app's transport: to the start, back one micro-step, play/pause, forward one
micro-step, to the end, and a scrubber over every micro-step of every operation. Each
step shows the same picture, narration and pseudocode (current line highlighted) as the
desktop app, because both read the same :class:`~explorer.model.Session`.

The state lives in Python traitlets, so it can be driven and checked from code:
``index`` (the micro-step shown, 0..``count``; ``count`` is the end, after every
operation), ``op`` and ``step`` (the session's position), ``svg`` (the tables, with the
step's marks), ``narration``,
``code`` and ``line``, ``heading``. The front end only sets ``index`` (buttons,
scrubber, the play timer) and draws what Python sends back. The session may be changed
elsewhere (``session.put(...)``): the stepper follows it.

In a static export (nbconvert, GitHub) the widget's current picture is kept as SVG.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from typing import Any

import anywidget
import traitlets

from engine import BaseMap
from explorer.model.operations import Operation, parse_command
from explorer.model.session import Position, Session
from explorer.notebook.sessions import NotebookSession
from explorer.notebook.views import session_heading, session_picture

__all__ = ["Stepper"]

_ESM = r"""
function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "ahm-stepper";
  root.style.cssText = "font-family: DejaVu Sans, Verdana, sans-serif; max-width: 1100px;";
  const bar = document.createElement("div");
  bar.style.cssText = "display:flex; gap:6px; align-items:center; margin:4px 0;";
  const button = (label, title, action) => {
    const b = document.createElement("button");
    b.textContent = label;
    b.title = title;
    b.style.cssText = "min-width:34px; padding:2px 8px; cursor:pointer;";
    b.addEventListener("click", action);
    bar.appendChild(b);
    return b;
  };
  const go = (i) => {
    const n = model.get("count");
    model.set("index", Math.max(0, Math.min(n, i)));
    model.save_changes();
  };
  let timer = null;
  // the desktop transport's labels, in glyphs every common font has (U+23EE and its
  // media-control neighbours are missing from DejaVu Sans and show as boxes)
  const stop = () => {
    if (timer !== null) { clearInterval(timer); timer = null; }
    play.textContent = "\u25B6 Play";
    play.title = "play";
  };
  button("|\u25C0", "to the start", () => { stop(); go(0); });
  button("\u25C0 Step", "back one step", () => { stop(); go(model.get("index") - 1); });
  const play = button("\u25B6 Play", "play", () => {
    if (timer !== null) { stop(); return; }
    if (model.get("index") >= model.get("count")) go(0);
    play.textContent = "\u25A0 Pause";
    play.title = "pause";
    timer = setInterval(() => {
      if (model.get("index") >= model.get("count")) { stop(); return; }
      go(model.get("index") + 1);
    }, model.get("interval_ms"));
  });
  button("Step \u25B6", "forward one step", () => { stop(); go(model.get("index") + 1); });
  button("\u25B6|", "to the end", () => { stop(); go(model.get("count")); });
  const scrub = document.createElement("input");
  scrub.type = "range";
  scrub.min = "0";
  scrub.style.cssText = "flex:1; min-width:160px;";
  scrub.addEventListener("input", () => { stop(); go(parseInt(scrub.value, 10)); });
  bar.appendChild(scrub);
  const where = document.createElement("span");
  where.style.cssText = "font-size:13px; color:#5c5f66; white-space:nowrap;";
  bar.appendChild(where);
  const heading = document.createElement("div");
  heading.style.cssText = "font-weight:bold; color:#0072b2; margin:2px 0;";
  const picture = document.createElement("div");
  picture.style.cssText = "overflow:auto; max-height:560px;";
  const text = document.createElement("p");
  text.style.cssText = "font-size:14px; margin:6px 0;";
  const code = document.createElement("pre");
  code.style.cssText = "font-size:13px; background:#fafafa; padding:6px; margin:0;";
  root.append(bar, heading, picture, text, code);
  el.appendChild(root);
  const draw = () => {
    scrub.max = String(model.get("count"));
    scrub.value = String(model.get("index"));
    where.textContent = `${model.get("index")} / ${model.get("count")}`;
    heading.textContent = model.get("heading");
    picture.innerHTML = model.get("svg");
    text.textContent = model.get("narration");
    code.replaceChildren();
    const title = model.get("code_title");
    if (title) {
      const t = document.createElement("div");
      t.textContent = title;
      t.style.cssText = "font-weight:bold; color:#5c5f66;";
      code.appendChild(t);
    }
    model.get("code").forEach((line, i) => {
      const row = document.createElement("div");
      row.textContent = line || " ";
      if (i === model.get("line")) row.style.cssText = "background:#fff2cc; font-weight:bold;";
      code.appendChild(row);
    });
  };
  model.on("change", draw);
  draw();
  return () => stop();
}
export default { render };
"""


def _operation(op: Operation | str) -> Operation:
    return parse_command(op) if isinstance(op, str) else op


class Stepper(anywidget.AnyWidget):
    """Step through ``ops`` on a copy of ``source`` (an engine map), or on ``source``
    itself (a Session, which keeps them). ``ops`` are operation lines (``"put k 1"``)
    or :class:`~explorer.model.Operation`; without them, the session's own operations
    are stepped from the start."""

    _esm = _ESM

    index = traitlets.Int(0).tag(sync=True)
    count = traitlets.Int(0).tag(sync=True)
    op = traitlets.Int(0).tag(sync=True)
    step_in_op = traitlets.Int(0).tag(sync=True)
    svg = traitlets.Unicode("").tag(sync=True)
    heading = traitlets.Unicode("").tag(sync=True)
    narration = traitlets.Unicode("").tag(sync=True)
    code_title = traitlets.Unicode("").tag(sync=True)
    code = traitlets.List(traitlets.Unicode()).tag(sync=True)
    line = traitlets.Int(-1).tag(sync=True)
    interval_ms = traitlets.Int(700).tag(sync=True)

    def __init__(
        self,
        source: BaseMap | Session,
        ops: Iterable[Operation | str] | None = None,
        *,
        interval_ms: int = 700,
        detail: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(interval_ms=interval_ms, **kwargs)
        if isinstance(source, Session):
            self.session = source
        elif isinstance(source, BaseMap):
            self.session = NotebookSession.from_map(source)
        else:
            raise TypeError("Stepper needs an engine map or a Session")
        self.detail = detail
        self._offsets: list[int] = []
        self._syncing = False
        operations = [_operation(op) for op in ops] if ops is not None else []
        if operations:
            self.session.add_operations(operations, go_to="first")
        elif ops is None:
            self.session.to_start()
        self._recount()
        self.session.subscribe(self._session_changed)
        self._show()

    # ------------------------------------------------------------------ positions
    def _recount(self) -> None:
        """Where each operation's micro-steps start in the flat index. O(operations x
        frames built): a notebook steps through tens of operations, not millions."""
        offsets = [0]
        timeline = self.session.timeline
        for i in range(len(timeline)):
            offsets.append(offsets[-1] + len(timeline.frames(i)))
        self._offsets = offsets
        self.count = offsets[-1]

    def position_of(self, index: int) -> Position:
        """The session position of flat micro-step ``index``."""
        index = max(0, min(index, self.count))
        if index >= self.count:
            return Position(len(self.session.timeline), 0)
        op = bisect_right(self._offsets, index) - 1
        return Position(op, index - self._offsets[op])

    def index_of(self, position: Position) -> int:
        if position.op >= len(self._offsets) - 1:
            return self.count
        return self._offsets[position.op] + position.step

    # ------------------------------------------------------------------ moving
    @traitlets.validate("index")
    def _clamp(self, proposal: dict[str, Any]) -> int:
        return max(0, min(int(proposal["value"]), self.count))

    @traitlets.observe("index")
    def _index_changed(self, change: dict[str, Any]) -> None:
        if self._syncing:
            return
        target = self.position_of(change["new"])
        if target != self.session.position:
            self._syncing = True
            try:
                if target.step == 0:
                    self.session.seek(target.op)
                else:
                    self.session.seek(target.op)
                    while self.session.position < target and self.session.step_forward():
                        pass
            finally:
                self._syncing = False
        self._show()

    def _session_changed(self, reason: str) -> None:
        if reason != "position":
            self._recount()
        if self._syncing:
            return
        self._syncing = True
        try:
            self.index = self.index_of(self.session.position)
        finally:
            self._syncing = False
        self._show()

    def step(self) -> int:
        """Forward one micro-step; returns the new index."""
        self.index = self.index + 1
        return self.index

    def back(self) -> int:
        """Back one micro-step; returns the new index."""
        self.index = self.index - 1
        return self.index

    def to_start(self) -> int:
        self.index = 0
        return self.index

    def to_end(self) -> int:
        self.index = self.count
        return self.index

    def play(self, steps: int | None = None) -> int:
        """Step forward ``steps`` times (to the end by default), as the play button does
        with a timer in the browser; returns the new index."""
        remaining = self.count - self.index if steps is None else steps
        for _ in range(max(0, remaining)):
            if self.index >= self.count:
                break
            self.step()
        return self.index

    # ------------------------------------------------------------------ drawing
    def _show(self) -> None:
        session = self.session
        frame = session.frame()
        self.op, self.step_in_op = session.position.op, session.position.step
        # the tables only: the heading, narration and pseudocode are HTML beside them
        self.svg = session_picture(session, detail=self.detail, text=False).svg
        self.heading = session_heading(session)
        self.narration = frame.narration
        code = frame.pseudocode
        self.code_title = "" if code is None else code.title
        self.code = [] if code is None else list(code.lines)
        self.line = -1 if frame.line is None else frame.line

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """The widget, and for a static export (no kernel there) its current step as one
        picture: the tables with the heading, narration and pseudocode."""
        bundle = super()._repr_mimebundle_(**kwargs)
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        if isinstance(data, dict):
            data["image/svg+xml"] = session_picture(self.session, detail=self.detail).svg
        return bundle
