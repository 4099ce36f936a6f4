"""The triager's page shows the queue, running jobs, workers and releases, and nothing a stranger should not see."""

from __future__ import annotations

from fastapi.testclient import TestClient

from bot.jobs.heartbeats import WorkerHeartbeats
from bot.jobs.service import JobService
from bot.jobs.settings import JobSettings
from bot.jobs.store import JobStore
from bot.server import create_app
from bot.status_page import HIDDEN_REPO, named_repos_from, read_status, render_main
from sandbox.fakes.github import FakeGitHub
from schemas.masking import register_secret
from tests.bot.helpers import settings_for

PUBLIC, PRIVATE = "community/taxonomy", "acme/secret-taxonomy"


def _store_with_jobs(tmp_path) -> JobStore:
    store = JobStore(tmp_path / "jobs.sqlite3")
    store.enqueue("generate", PUBLIC, "a" * 40, pr=12, requested_by="maintainer-1")
    store.enqueue("precheck", PRIVATE, "b" * 40, pr=3, requested_by="insider")
    release, _ = store.enqueue("retrain", PUBLIC, "c" * 40)
    claimed = store.claim("host:1:abc", lease_s=60, kinds=("retrain",))
    assert claimed is not None and claimed.id == release.id
    store.finish(release.id, "host:1:abc", "succeeded", result_title="released community/model v2026.11.29")
    running = store.claim("host:2:def", lease_s=60)
    assert running is not None
    store.set_progress(running.id, "host:2:def", "generating: leaf 2 of 5", 0.4)
    return store


def test_each_section_shows_what_the_store_holds(tmp_path):
    store = _store_with_jobs(tmp_path)
    beats = WorkerHeartbeats(store.path)
    beats.beat("host:2:def", 1)
    beats.beat("host:3:idle", None)
    page = render_main(read_status(store, beats), named_repos_from("*"))
    assert "Queue (1)" in page and "Running (1)" in page and "Workers (2)" in page
    assert "generating: leaf 2 of 5" in page and 'value="40"' in page
    assert "running #1" in page and "idle" in page
    assert "released community/model v2026.11.29" in page
    assert '<a href="/jobs/1/log">log</a>' in page


def test_repositories_not_listed_are_not_named_and_their_people_not_shown(tmp_path):
    store = _store_with_jobs(tmp_path)
    page = render_main(read_status(store, None), named_repos_from(PUBLIC))
    assert PUBLIC in page and "community/model" in page
    assert PRIVATE not in page and "insider" not in page and HIDDEN_REPO in page
    listed = render_main(read_status(store, None), named_repos_from(f"{PUBLIC}, {PRIVATE}"))
    assert PRIVATE in listed and "insider" in listed
    nothing_named = render_main(read_status(store, None), named_repos_from(""))
    assert PUBLIC not in nothing_named and "community/model" not in nothing_named


def test_hostile_progress_text_is_escaped_and_secrets_are_masked(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    job, _ = store.enqueue("generate", PUBLIC, "d" * 40, pr=1)
    store.claim("w", lease_s=60)
    register_secret("ghs_status_page_token_123456")
    store.set_progress(job.id, "w", '<script>alert(1)</script> using ghs_status_page_token_123456', None)
    page = render_main(read_status(store, None), named_repos_from("*"))
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page
    assert "ghs_status_page_token_123456" not in page


def test_silent_workers_are_marked_and_long_gone_ones_dropped(tmp_path):
    now = [1_000_000.0]
    beats = WorkerHeartbeats(tmp_path / "jobs.sqlite3", clock=lambda: now[0])
    beats.beat("old", None)
    now[0] += 600
    beats.beat("fresh", None)
    data = read_status(JobStore(tmp_path / "jobs.sqlite3"), beats, now=now[0])
    page = render_main(data, frozenset())
    assert "silent" in page and "idle" in page
    now[0] += 2 * 24 * 3600
    assert beats.workers() == []


def test_the_route_serves_the_page_and_its_refreshable_part(tmp_path):
    store = _store_with_jobs(tmp_path / "data")
    jobs = JobService(store, JobSettings(data_dir=tmp_path / "data"))
    app = create_app(settings_for(tmp_path), lambda installation: FakeGitHub(), jobs=jobs)
    with TestClient(app) as client:
        page = client.get("/status")
        part = client.get("/status", params={"part": "main"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<script>" in page.text and "Refreshes every" in page.text
    assert part.status_code == 200 and "<html" not in part.text and "Queue (1)" in part.text
    assert page.headers["cache-control"] == "no-store"
    assert PUBLIC not in page.text  # nothing configured: no repository is named


def test_a_bot_without_jobs_says_so(tmp_path):
    app = create_app(settings_for(tmp_path), lambda installation: FakeGitHub())
    with TestClient(app) as client:
        answer = client.get("/status")
    assert answer.status_code == 404 and "runs no jobs" in answer.text


def test_the_setting_names_the_repositories_the_page_may_show(tmp_path):
    store = _store_with_jobs(tmp_path / "data")
    jobs = JobService(store, JobSettings(data_dir=tmp_path / "data"))
    app = create_app(settings_for(tmp_path, status_repos=PUBLIC), lambda installation: FakeGitHub(), jobs=jobs)
    with TestClient(app) as client:
        page = client.get("/status").text
    assert PUBLIC in page and PRIVATE not in page and HIDDEN_REPO in page
