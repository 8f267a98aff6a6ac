"""The shipped Prometheus configuration, alert rules and Grafana dashboard are valid and
only query series the exporter really serves."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from cli_helpers import prometheus_tool
from prometheus_client import CollectorRegistry, generate_latest

import engine
from engine.observe.metrics import MetricsProducer
from engine.observe.prometheus import TickCollector

DOCS = Path(__file__).resolve().parents[1] / "docs"
PROMTOOL = prometheus_tool("promtool")


def _served_names() -> set[str]:
    collector = TickCollector()
    collector.update(MetricsProducer().tick(engine.ChainingMap()))
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    text = generate_latest(registry).decode()
    return set(re.findall(r"^(hashmap_[a-z_]+)", text, re.M))


def _queried_names() -> set[str]:
    dashboard = json.loads((DOCS / "grafana" / "engine-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    exprs.append((DOCS / "prometheus-alerts.yml").read_text())
    return {name for expr in exprs for name in re.findall(r"hashmap_[a-z_]+", expr)}


def test_dashboard_and_alerts_query_only_served_series() -> None:
    served, queried = _served_names(), _queried_names()
    assert queried, "nothing queried?"
    assert queried <= served, queried - served


@pytest.mark.skipif(PROMTOOL is None, reason="promtool (Debian's prometheus package) is absent")
def test_promtool_accepts_the_rules_and_the_config(tmp_path: Path) -> None:
    rules = subprocess.run(
        [str(PROMTOOL), "check", "rules", str(DOCS / "prometheus-alerts.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert rules.returncode == 0, rules.stdout + rules.stderr
    for name in ("prometheus-scrape.yml", "prometheus-alerts.yml"):
        (tmp_path / name).write_text((DOCS / name).read_text())
    (tmp_path / "engine-token.txt").write_text("token\n")
    config = subprocess.run(
        [str(PROMTOOL), "check", "config", str(tmp_path / "prometheus-scrape.yml")],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert config.returncode == 0, config.stdout + config.stderr
