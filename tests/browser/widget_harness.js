// Runs a notebook widget's front end (its anywidget `_esm`) in a real browser, with a
// fake anywidget model in place of Jupyter's, and records what it does.
//
// The page holds three JSON blocks: #esm (the module's text), #initial (the model's
// state when the view opens) and #kernel (what the Python side answers: for the Stepper,
// the widget's whole state for every index, computed by the real Stepper). The fake
// model behaves as Jupyter's Backbone model does: set() changes one attribute and fires
// "change:<name>" and then "change" at once, only when the value differs; save_changes()
// sends the attributes set since the last save to the kernel, which answers a few
// milliseconds later by setting its state in one go (one "change" event). #script names
// the scenario below; its observations are written as JSON into <pre id="result">, which
// the test reads from `chromium --dump-dom`.

const json = (id) => JSON.parse(document.getElementById(id).textContent);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

function fakeModel(initial, answer) {
  const attrs = structuredClone(initial);
  const listeners = [];
  const dirty = new Set();
  const log = { saves: [], sent: [], changes: 0 };
  const fire = (name) => listeners.filter(([n]) => n === name).forEach(([, cb]) => cb());
  const apply = (state) => {
    const changed = Object.keys(state).filter((k) => !same(attrs[k], state[k]));
    changed.forEach((k) => { attrs[k] = structuredClone(state[k]); });
    changed.forEach((k) => fire(`change:${k}`));
    if (changed.length) { log.changes += 1; fire("change"); }
  };
  const model = {
    get: (name) => attrs[name],
    set: (name, value) => { if (!same(attrs[name], value)) dirty.add(name); apply({ [name]: value }); },
    save_changes: () => {
      const sent = Object.fromEntries([...dirty].map((k) => [k, attrs[k]]));
      dirty.clear();
      if (!Object.keys(sent).length) return;
      log.saves.push(sent);
      setTimeout(() => apply(answer(sent, attrs)), 5);  // the kernel's reply
    },
    send: (content) => { log.sent.push(content); },
    on: (name, cb) => { listeners.push([name, cb]); },
    off: (name, cb) => {
      for (let i = listeners.length - 1; i >= 0; i--) {
        if ((!name || listeners[i][0] === name) && (!cb || listeners[i][1] === cb)) {
          listeners.splice(i, 1);
        }
      }
    },
  };
  return { model, log, apply, listeners };
}

async function mount(answer) {
  const esm = json("esm");
  const module = await import("data:text/javascript;base64," + btoa(esm));
  const fake = fakeModel(json("initial"), answer);
  const el = document.createElement("div");
  document.body.appendChild(el);
  const cleanup = await module.default.render({ model: fake.model, el });
  return { ...fake, el, cleanup };
}

// ---------------------------------------------------------------------------- Stepper
async function stepper() {
  const states = json("kernel");
  // the Python side: clamp the index (traitlets' validate) and send the whole state
  const answer = (sent) => states[Math.max(0, Math.min(states.length - 1, sent.index))];
  const w = await mount(answer);
  const buttons = [...w.el.querySelectorAll("button")];
  const byTitle = (title) => buttons.find((b) => b.title === title);
  const scrub = w.el.querySelector("input[type=range]");
  const play = buttons[2];
  const picture = w.el.querySelector(".ahm-stepper > div:nth-of-type(3)");
  const scratch = document.createElement("div");
  const parsed = (svg) => { scratch.innerHTML = svg; return scratch.innerHTML; };
  const snapshots = [];
  const snap = (label) => {
    const rows = [...w.el.querySelectorAll("pre > div")];
    const lit = rows.findIndex((r) => r.style.fontWeight === "bold" && r.style.background);
    const texts = [...w.el.querySelectorAll(".ahm-stepper > div")].map((d) => d.textContent);
    snapshots.push({
      label,
      index: w.model.get("index"),
      where: w.el.querySelector(".ahm-stepper span").textContent,
      heading: texts[1],
      narration: w.el.querySelector(".ahm-stepper p").textContent,
      code_title: w.model.get("code_title") ? rows[0].textContent : "",
      code_rows: rows.length - (w.model.get("code_title") ? 1 : 0),
      lit_row: lit < 0 ? -1 : lit - (w.model.get("code_title") ? 1 : 0),
      // the picture shown is the one Python drew for this index (parsed the same way)
      svg_ok: picture.innerHTML === parsed(states[w.model.get("index")].svg),
      play: play.textContent,
      play_title: play.title,
      scrub_value: scrub.value,
      scrub_max: scrub.max,
    });
  };
  const settle = () => sleep(40);
  const click = async (title) => { byTitle(title).click(); await settle(); };
  snap("opened");
  await click("forward one step"); snap("step");
  await click("forward one step"); snap("step again");
  await click("back one step"); snap("back");
  await click("to the end"); snap("end");
  await click("forward one step"); snap("step at the end");
  await click("to the start"); snap("start");
  await click("back one step"); snap("back at the start");
  scrub.value = "3";
  scrub.dispatchEvent(new Event("input"));
  await settle(); snap("scrubbed to 3");
  const interval = w.model.get("interval_ms");
  play.click(); snap("play pressed");
  await sleep(interval * 3 + interval / 2); snap("playing 3 intervals");
  play.click(); snap("pause pressed");
  await sleep(interval * 3); snap("paused 3 intervals");
  scrub.value = String(states.length - 3);
  scrub.dispatchEvent(new Event("input"));
  await settle();
  play.click();
  await sleep(interval * 6); snap("played past the end");
  await sleep(interval * 3); snap("after the end");
  play.click(); snap("play at the end");
  await sleep(interval + interval / 2); snap("replaying");
  await w.cleanup?.();
  const after = w.model.get("index");
  await sleep(interval * 3);
  return {
    snapshots,
    saves: w.log.saves,
    after_cleanup: [after, w.model.get("index")],
    buttons: buttons.map((b) => [b.textContent, b.title]),
    // what a reader sees as text: the picture's own <text> and the HTML around it
    svg_text: [...w.el.querySelectorAll("svg text")].map((t) => t.textContent).join(" "),
    html_text: w.el.querySelector(".ahm-stepper p").textContent,
  };
}

// ----------------------------------------------------------------------- LiveCharts
async function liveCharts() {
  const updates = json("kernel");
  const w = await mount(() => ({}));
  const snapshots = [];
  const snap = (label) => {
    const badge = w.el.querySelector(".ahm-live-state");
    const message = w.el.querySelector(".ahm-live-message");
    const cancel = w.el.querySelector("button");
    snapshots.push({
      label,
      state: badge.textContent,
      badge_colour: badge.style.background,
      where: badge.nextSibling.textContent,
      message: message.style.display === "none" ? null : message.textContent,
      cancel_shown: cancel.style.display !== "none",
      svg_points: w.el.querySelector("svg")?.getAttribute("data-points") ?? null,
    });
  };
  snap("opened");
  w.el.querySelector("button").click();
  snap("cancel clicked");
  for (const [label, state] of updates) {
    w.apply(state);
    await sleep(5);
    snap(label);
  }
  const listening = w.listeners.length;
  await w.cleanup?.();
  return { snapshots, sent: w.log.sent, listeners: [listening, w.listeners.length] };
}

const SCRIPTS = { stepper, liveCharts };
const out = document.getElementById("result");
SCRIPTS[json("script")]()
  .then((result) => { out.textContent = JSON.stringify({ ok: true, result }); })
  .catch((error) => {
    out.textContent = JSON.stringify({ ok: false, error: `${error}\n${error.stack}` });
  });
