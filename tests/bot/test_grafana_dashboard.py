"""The Grafana dashboard in deploy/ charts only series the bot really exports, and is a well-formed dashboard."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fastapi.testclient import TestClient

from bot.jobs.service import JobService
from bot.jobs.settings import JobSettings
from bot.jobs.store import JobStore
from bot.metrics import _HELP
from bot.server import create_app
from sandbox.fakes.github import FakeGitHub
from tests.bot.helpers import settings_for

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "arborist-dashboard.json"
SERIES = re.compile(r"\b(arborist_[a-z_]+?)(?:_bucket|_sum|_count)?\b(?=[{\[)\s,]|$)")


def _dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def _exprs(dashboard: dict) -> list[str]:
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def test_every_charted_series_is_one_the_bot_exports():
    named = {m.group(1) for expr in _exprs(_dashboard()) for m in SERIES.finditer(expr)}
    assert named, "the dashboard charts nothing"
    assert named <= set(_HELP), f"not exported by bot.metrics: {sorted(named - set(_HELP))}"
    assert {"arborist_jobs", "arborist_workers", "arborist_deliveries_total"} <= named


def test_the_job_and_worker_gauges_appear_in_a_real_scrape(tmp_path):
    store = JobStore(tmp_path / "data" / "jobs.sqlite3")
    store.enqueue("generate", "community/taxonomy", "a" * 40, pr=1)
    jobs = JobService(store, JobSettings(data_dir=tmp_path / "data"))
    jobs.heartbeats.beat("host:1:w", None)
    with TestClient(create_app(settings_for(tmp_path), lambda i: FakeGitHub(), jobs=jobs)) as client:
        text = client.get("/metrics").text
    assert 'arborist_jobs{kind="generate",state="queued"} 1' in text
    assert 'arborist_workers{doing="idle"} 1' in text


def test_the_dashboard_is_well_formed():
    dashboard = _dashboard()
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    assert {"datasource", "job"} <= variables
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24 and panel["targets"] and panel["datasource"]["uid"] == "${datasource}"
        assert all(expr.count("(") == expr.count(")") for expr in (t["expr"] for t in panel["targets"]))
