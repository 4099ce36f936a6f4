"""Over real HTTP: a maintainer's /generate -> the Arborist server -> stand-in GitHub -> a real `arborist worker`.

Done when: one 👀 reaction, one status comment that walks queued -> running -> a final state, one
check run `arborist/generate` updated through the same states, and the `ci.generate` step run by a
worker process; the same with 502s and rate limits from GitHub; a redelivered comment starts one job.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bot.helpers import body_of, delivery_headers
from tests.bot.jobs.served_jobs import served_bot
from tests.bot.jobs.world import comment_payload

REPO = "octo/taxonomy"
LEAF = "knowledge/trees/rings/qna.yaml"


@pytest.fixture
def world(standin, app_key, tmp_path, no_sleep):
    state = standin.state
    state.add_repo(REPO, files={"README.md": "# taxonomy\n"})
    state.commit(REPO, "add-leaf", {LEAF: "version: 3\n"})
    number = state.open_pull(REPO, "add-leaf", author="first-timer")
    state.set_permission(REPO, "maya", "maintain")
    worker_env = {"ARBORIST_LEASE_S": "10", "ARBORIST_JOB_TIMEOUT_S": "120",
                  "ARBORIST_GIT_URL_TEMPLATE": (tmp_path / "no-such-remote").as_uri() + "/{repo}.git"}
    with served_bot(standin, app_key, tmp_path, no_sleep, worker_env) as (client, dispatcher, jobs, env):
        yield client, dispatcher, state, number, jobs, env


def deliver(client, dispatcher, payload: dict, delivery: str) -> None:
    payload = {**payload, "repository": {"full_name": REPO, "default_branch": "main"}, "installation": {"id": 1}}
    body = body_of(payload)
    assert client.post("/webhook", content=body, headers=delivery_headers("issue_comment", body, delivery)).status_code < 300
    assert dispatcher.wait_idle(30)


def seed_comment(state, number: int, comment: dict) -> None:
    """The maintainer's comment exists on GitHub before its webhook arrives."""
    with state.lock:
        state.repos[REPO].comments[comment["id"]] = {
            "id": comment["id"], "issue_number": number, "body": comment["body"], "author": comment["user"]["login"],
            "author_type": "User", "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
            "edits": 0}


def comment_bodies(state, comment_id: int) -> list[str]:
    """Every body the status comment had: the POST that made it, then each PATCH."""
    bodies = []
    for entry in state.log:
        response = entry.get("response") or {}
        if entry["status"] in (200, 201) and isinstance(response, dict) and response.get("id") == comment_id \
                and entry["method"] in ("POST", "PATCH"):
            bodies.append(entry["body"]["body"])
    return bodies


def run_worker(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot.cli", "worker", "--once", "--log-level", "warning"],
                          env=env, capture_output=True, text=True, timeout=240)


@pytest.mark.slow
@pytest.mark.parametrize("faults", [False, True], ids=["clean", "with-502s-and-rate-limits"])
def test_generate_on_the_standin_reacts_walks_one_comment_and_one_check_run(world, faults):
    client, dispatcher, state, number, jobs, env = world
    payload = comment_payload("LGTM\n/generate --samples 3", "maya", number=number)
    seed_comment(state, number, payload["comment"])
    deliver(client, dispatcher, payload, "d-1")
    deliver(client, dispatcher, payload, "d-2")  # the same comment under another delivery id
    (job,) = jobs.store.jobs()
    assert job.state == "queued"
    reactions = state.repos[REPO].reactions[payload["comment"]["id"]]
    assert [r["content"] for r in reactions] == ["eyes"]
    if faults:
        state.fail_next(2, 502)
        state.rate_limit_next(1, retry_after=1)
    result = run_worker(env)
    assert result.returncode == 0, result.stderr[-2000:]
    (job,) = jobs.store.jobs()
    assert job.state in ("succeeded", "failed") and job.attempts == 1
    status = [c for c in state.comments(REPO, number) if "arborist:status" in c["body"]]
    assert len(status) == 1
    walked = [b.split("**")[1] for b in comment_bodies(state, status[0]["id"]) if "**" in b]
    assert walked[0] == "queued" and "running" in walked
    assert walked[-1] == {"succeeded": "done", "failed": "failed"}[job.state]
    assert job.result_title in status[0]["body"]
    (check,) = state.check_runs(REPO, name="arborist/generate")
    assert check["status"] == "completed"
    assert check["conclusion"] == {"succeeded": "success", "failed": "failure"}[job.state]
    assert "::arborist-progress::" in Path(job.log_url).read_text()  # the real ci.generate step ran and reported
    for entry in state.log:  # the installation token never reaches a comment or a check run
        assert "ghs_" not in json.dumps(entry.get("body") or "")
    if faults:
        assert [e["status"] for e in state.log].count(502) == 2


def pr_event_payload(state, number: int, action: str) -> dict:
    pull = state.repos[REPO].pulls[number]
    head = state.head_sha(REPO, pull["head_ref"])
    return {"action": action, "number": number, "after": head,
            "pull_request": {"number": number, "state": "open", "merged": False, "user": {"login": "first-timer"},
                             "head": {"sha": head, "ref": pull["head_ref"]},
                             "base": {"sha": state.head_sha(REPO, "main"), "ref": "main"}}}


def deliver_event(client, dispatcher, event: str, payload: dict, delivery: str) -> None:
    payload = {**payload, "repository": {"full_name": REPO, "default_branch": "main"}, "installation": {"id": 1}}
    body = body_of(payload)
    assert client.post("/webhook", content=body, headers=delivery_headers(event, body, delivery)).status_code < 300
    assert dispatcher.wait_idle(30)


def command(client, dispatcher, state, number: int, text: str, delivery: str) -> None:
    payload = comment_payload(text, "maya", number=number)
    seed_comment(state, number, payload["comment"])
    deliver(client, dispatcher, payload, delivery)


def test_cancel_retry_and_supersede_over_http(world):
    client, dispatcher, state, number, jobs, env = world
    command(client, dispatcher, state, number, "/generate", "d-gen")
    command(client, dispatcher, state, number, "/cancel", "d-cancel")
    (job,) = jobs.store.jobs()
    assert job.state == "cancelled"
    (check,) = state.check_runs(REPO, name="arborist/generate")
    assert check["conclusion"] == "cancelled"
    command(client, dispatcher, state, number, "/retry", "d-retry")
    job = jobs.store.get(job.id)
    assert job.state == "queued"
    runs = state.check_runs(REPO, name="arborist/generate")
    assert len(runs) == 2 and runs[-1]["status"] == "queued"
    old_head = job.sha
    state.commit(REPO, "add-leaf", {LEAF: "version: 3\n# fixed\n"}, "fix")  # a new push to the PR branch
    deliver_event(client, dispatcher, "pull_request", pr_event_payload(state, number, "synchronize"), "d-sync")
    job = jobs.store.get(job.id)
    assert job.state == "cancelled" and "superseded by a push" in job.reason
    assert all(r["conclusion"] == "cancelled" for r in state.check_runs(REPO, head_sha=old_head, name="arborist/generate"))
    status = [c for c in state.comments(REPO, number) if "arborist:status" in c["body"]]
    assert len(status) == 1 and "superseded by a push" in status[0]["body"]
    replies = [c for c in state.comments(REPO, number) if c["author"] == state.bot_login and c["body"].startswith("> /")]
    assert replies == []  # every command was accepted: the status comment, edited, said it all
