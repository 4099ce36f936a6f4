"""A locked or corrupt SQLite file: the loop keeps answering, the user is told, a redelivery is handled.

The real files are locked from another connection (BEGIN EXCLUSIVE), as another process would.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time

import httpx
import pytest

from bot.jobs.service import JobService
from bot.jobs.settings import JobSettings
from bot.jobs.store import JobStore
from bot.metrics import Metrics
from bot.server import create_app
from lab.github.factory import app_client_factory
from sandbox.standins.github import serve_app_in_thread
from tests.bot.helpers import body_of, delivery_headers, settings_for
from tests.conftest import REPO_ROOT

REPO = "octo/taxonomy"
MAINTAINER = "maya"


@pytest.fixture
def served(standin, app_key, tmp_path, no_sleep):
    """An arborist server with a job store whose busy timeout is short, against the GitHub stand-in."""
    settings = settings_for(tmp_path, github_url=standin.base_url, private_key=app_key[0])
    jobs = JobService(JobStore(tmp_path / "jobs.sqlite3", busy_timeout_s=0.5), JobSettings(data_dir=tmp_path))
    metrics = Metrics()
    app = create_app(settings, app_client_factory(settings, metrics, policy=no_sleep), metrics=metrics, jobs=jobs)
    running = serve_app_in_thread(app)
    with httpx.Client(base_url=running.base_url, timeout=60) as client:
        client.app, client.jobs = app, jobs
        yield client
    running.stop()


def _lock(path) -> sqlite3.Connection:
    holder = sqlite3.connect(str(path), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    return holder


def _comment_payload(state, body: str) -> dict:
    state.add_repo(REPO, files={"README.md": "# taxonomy\n"})
    state.commit(REPO, "add-leaf", {"knowledge/a/qna.yaml": "version: 3\n"})
    number = state.open_pull(REPO, "add-leaf")
    state.set_permission(REPO, MAINTAINER, "write")
    comment = state.add_comment(REPO, number, MAINTAINER, body)
    return {"action": "created", "installation": {"id": 1}, "repository": {"full_name": REPO},
            "issue": {"number": number, "state": "open", "pull_request": {"url": "x"}},
            "comment": {"id": comment["id"], "body": body, "user": {"login": MAINTAINER, "type": "User"},
                        "author_association": "COLLABORATOR"}}


def _post_in_background(client, body: bytes, headers: dict) -> dict:
    answer: dict = {}

    def post() -> None:
        answer["response"] = client.post("/webhook", content=body, headers=headers)

    thread = threading.Thread(target=post)
    thread.start()
    answer["thread"] = thread
    return answer


def test_locked_delivery_log_keeps_healthz_answering_and_the_redelivery_is_handled(served, standin, tmp_path):
    payload = _comment_payload(standin.state, "/help")
    body = body_of(payload)
    headers = delivery_headers("issue_comment", body, "d-locked-1")
    holder = _lock(tmp_path / "deliveries.sqlite3")
    pending = _post_in_background(served, body, headers)
    slowest = 0.0
    while pending["thread"].is_alive():
        started = time.monotonic()
        assert served.get("/healthz", timeout=5).status_code == 200
        slowest = max(slowest, time.monotonic() - started)
        time.sleep(0.1)
    holder.rollback()
    holder.close()
    assert slowest < 1.0
    refused = pending["response"]
    assert refused.status_code == 503 and refused.headers["retry-after"]
    again = served.post("/webhook", content=body, headers=headers)
    assert again.status_code == 202 and again.json()["status"] == "queued"
    assert served.app.state.dispatcher.wait_idle(30)
    assert any("/help" in c["body"] or "Arborist commands" in c["body"]
               for c in standin.state.comments(REPO, payload["issue"]["number"]))


def test_locked_job_store_tells_the_user_and_a_redelivery_queues_the_job(served, standin, tmp_path):
    payload = _comment_payload(standin.state, "/generate")
    number = payload["issue"]["number"]
    body = body_of(payload)
    headers = delivery_headers("issue_comment", body, "d-locked-2")
    holder = _lock(tmp_path / "jobs.sqlite3")
    assert served.post("/webhook", content=body, headers=headers).status_code == 202
    assert served.app.state.dispatcher.wait_idle(30)
    holder.rollback()
    holder.close()
    (reply,) = [c for c in standin.state.comments(REPO, number) if c["author"] != MAINTAINER]
    assert "could not be queued" in reply["body"]
    assert served.app.state.store.status("d-locked-2") == "failed"
    assert served.jobs.store.jobs() == []

    again = served.post("/webhook", content=body, headers=headers)
    assert again.json()["status"] == "queued"  # not "duplicate": the failed delivery is handled again
    assert served.app.state.dispatcher.wait_idle(30)
    (job,) = served.jobs.store.jobs()
    assert job.pr == number and job.requested_by == MAINTAINER
    assert served.app.state.store.status("d-locked-2") == "done"


@pytest.mark.parametrize("name", ["deliveries.sqlite3", "jobs.sqlite3"])
def test_corrupt_database_stops_start_up_with_one_line_naming_it(tmp_path, name):
    data = tmp_path / "data"
    data.mkdir()
    (data / name).write_bytes(b"this is not a database, it was cut short\x00" * 200)
    key = tmp_path / "app.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n")
    env = {"PATH": "/usr/bin:/bin", "ARBORIST_DATA_DIR": str(data), "ARBORIST_WEBHOOK_SECRET": "s",
           "ARBORIST_APP_ID": "7", "ARBORIST_PRIVATE_KEY_FILE": str(key)}
    programs = [("serve",), ("worker", "--once")] if name == "jobs.sqlite3" else [("serve",)]
    for program, *options in programs:
        done = subprocess.run([sys.executable, "-m", "bot.cli", program, *options], cwd=REPO_ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 2, done.stderr[-2000:]
        (line,) = done.stderr.strip().splitlines()
        assert line.startswith(f"arborist {program}: ") and str(data / name) in line and "Traceback" not in line
