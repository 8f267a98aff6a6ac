"""Charts of a run's metrics.v1 ticks as static SVG, and a real run to chart."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from explorer.model.run_series import RunSeries
from explorer.notebook import charts, generate_workload, run_workload
from explorer.notebook.run_charts import nice_ticks

NS = "{http://www.w3.org/2000/svg}"


def tick(ops: int, t: float, events: list[dict[str, Any]] | None = None, **extra: Any) -> dict:
    pct = {"p50": 1000.0 * ops / 1000, "p90": 2000.0, "p99": 5000.0}
    return {
        "schema": "metrics.v1", "t": t, "backend": "robinhood", "ops": ops, "puts": ops,
        "gets": 0, "dels": 0, "size": ops, "capacity": 4096,
        "load_factor": extra.get("load_factor", ops / 4096), "tombstone_ratio": 0.0,
        "max_probe": 3, "avg_probe": 1.0, "probe_hist": [[0, ops]],
        "latency_ns": {"overall": pct, "put": pct, "get": pct, "del": pct},
        "migrations": 0, "compactions": 0, "events": events or [],
    }


def polylines(svg: str) -> dict[str, list[tuple[float, float]]]:
    root = ET.fromstring(svg)
    out = {}
    for line in root.iter(f"{NS}polyline"):
        points = [tuple(map(float, p.split(","))) for p in line.get("points", "").split()]
        out[line.get("data-name", "")] = points
    return out


def test_every_tick_is_a_point_and_every_event_a_marker(tmp_path: Path) -> None:
    resize = {"type": "resize", "t": 0.2, "op": 1500, "table": "robinhood",
              "old_capacity": 2048, "new_capacity": 4096, "size": 1500, "reason": "load factor"}
    ticks = [tick(1000, 0.1), tick(2000, 0.2, [resize]), tick(3000, 0.3)]
    path = tmp_path / "metrics.ndjson"
    path.write_text("\n".join(json.dumps(t) for t in ticks) + "\nnot json\n{\"half\": ", "utf-8")
    svg = charts(path).svg
    root = ET.fromstring(svg)
    lines = polylines(svg)
    assert set(lines) == {"ops/s", "p50", "p90", "p99", "load", "tombstones", "max probe"}
    assert all(len(points) == 3 for points in lines.values())
    # points go left to right, and a higher value is drawn higher (smaller y)
    p50 = lines["p50"]
    assert p50[0][0] < p50[1][0] < p50[2][0] and p50[0][1] > p50[1][1] > p50[2][1]
    for points in lines.values():  # nothing is drawn outside its panel
        assert all(26 <= y <= 190 - 28 + 0.01 for _, y in points)
    markers = [m for m in root.iter(f"{NS}line") if m.get("class") == "ahm-marker"]
    assert len(markers) == 4 and {m.get("data-kind") for m in markers} == {"resize"}
    notes = "".join(t.text or "" for g in root.iter(f"{NS}g") if g.get("class") == "ahm-markers"
                    for t in g.iter(f"{NS}text"))
    assert "op 1500: robinhood resize 2048 -> 4096" in notes


def test_ticks_and_series_chart_the_same() -> None:
    ticks = [tick(1000, 0.1), tick(2000, 0.3)]
    series = RunSeries()
    series.add(ticks)
    assert polylines(charts(ticks).svg) == polylines(charts(series).svg)
    with pytest.raises(FileNotFoundError):
        charts("/no/such/metrics.ndjson")


def test_nice_ticks_cover_the_range() -> None:
    assert nice_ticks(0, 1.3e6) == [0, 500000, 1000000, 1500000]
    assert nice_ticks(0, 40) == [0, 10, 20, 30, 40]
    assert nice_ticks(0, 0)[-1] >= 1


def test_a_replayed_workload_is_charted_with_its_structural_events(tmp_path: Path) -> None:
    csv = generate_workload(tmp_path / "w.csv", mix="uniform", ops=6000, key_space=3000)
    run = run_workload(csv, backend="robinhood", out_dir=tmp_path / "m", every_ops=500)
    assert run.summary["total_ops"] == 6000
    lines = [json.loads(x) for x in run.metrics.read_text("utf-8").splitlines()]
    resizes = sum(1 for t in lines for e in t["events"] if e["type"] == "resize")
    assert resizes >= 1
    svg = run.charts().svg
    root = ET.fromstring(svg)
    markers = [m for m in root.iter(f"{NS}line") if m.get("class") == "ahm-marker"]
    assert len(markers) == 4 * resizes
    assert len(polylines(svg)["load"]) == len({t["ops"] for t in lines})
    with pytest.raises(RuntimeError, match="run-csv failed"):
        run_workload(tmp_path / "missing.csv", out_dir=tmp_path / "x")
