"""The whole GitHub side over real HTTP: signed real payloads -> arborist server -> stand-in GitHub.

Done when: a broken qna.yaml gives one check run with annotations on the right lines and one
helpful comment; fixing it turns the check green and edits the same comment; redelivered and
forged webhooks change nothing; 502s, secondary rate limits and slow answers change nothing either.
"""

from __future__ import annotations

import json

import httpx
import pytest

from bot.metrics import Metrics
from bot.server import create_app
from lab.github.factory import app_client_factory
from sandbox.standins.github import serve_app_in_thread
from tests.bot.helpers import body_of, delivery_headers, settings_for
from tests.bot.taxonomy_data import ATTRIBUTION, ATTRIBUTION_PATH, SKILL_PATH, broken_skill, valid_skill

REPO = "octo/taxonomy"
CHECK = "arborist/validate"


@pytest.fixture
def arborist(standin, app_key, tmp_path, no_sleep):
    settings = settings_for(tmp_path, github_url=standin.base_url, private_key=app_key[0])
    metrics = Metrics()
    app = create_app(settings, app_client_factory(settings, metrics, policy=no_sleep), metrics=metrics)
    running = serve_app_in_thread(app)
    with httpx.Client(base_url=running.base_url, timeout=10) as client:
        client.dispatcher = app.state.dispatcher
        client.metrics = app.state.metrics
        yield client
    running.stop()


def _real_payload(webhook_examples, action: str, state, number: int) -> dict:
    """A real example payload, pointed at the stand-in's repository, PR and head."""
    payload = json.loads((webhook_examples / "pull_request" / f"{action}.payload.json").read_text())
    pr = payload["pull_request"]
    payload["number"] = pr["number"] = number
    payload["installation"] = {"id": 1, "node_id": "x"}
    payload["repository"]["full_name"] = REPO
    pr["user"]["login"] = "first-timer"
    pr["head"]["sha"], pr["head"]["ref"] = state.head_sha(REPO, "add-skill"), "add-skill"
    pr["base"]["sha"], pr["base"]["ref"] = state.head_sha(REPO, "main"), "main"
    return payload


def _deliver(client, payload: dict, delivery: str | None = None, event: str = "pull_request") -> httpx.Response:
    body = body_of(payload)
    response = client.post("/webhook", content=body, headers=delivery_headers(event, body, delivery))
    assert client.dispatcher.wait_idle(30)
    return response


def _seed(state) -> int:
    state.add_repo(REPO, files={"README.md": "# taxonomy\n"})
    state.commit(REPO, "add-skill", {SKILL_PATH: broken_skill()[0], ATTRIBUTION_PATH: ATTRIBUTION})
    return state.open_pull(REPO, "add-skill", author="first-timer")


def test_broken_then_fixed_pr_gives_one_check_per_head_and_one_edited_comment(arborist, standin, webhook_examples):
    state = standin.state
    number = _seed(state)
    bad_line = broken_skill()[1]
    assert _deliver(arborist, _real_payload(webhook_examples, "opened", state, number), "d-open").status_code == 202
    head1 = state.head_sha(REPO, "add-skill")
    [run] = state.check_runs(REPO, head1, CHECK)
    assert (run["status"], run["conclusion"]) == ("completed", "failure")
    lines = {(a["path"], a["start_line"], a["annotation_level"]) for a in run["annotations"]}
    assert (SKILL_PATH, bad_line, "failure") in lines
    [comment] = state.comments(REPO, number)
    assert "first-timer" in comment["body"] and "How to fix" in comment["body"] and SKILL_PATH in comment["body"]
    assert state.labels(REPO, number) == ["skill"]

    state.commit(REPO, "add-skill", {SKILL_PATH: valid_skill()}, "fix the YAML")
    head2 = state.head_sha(REPO, "add-skill")
    _deliver(arborist, _real_payload(webhook_examples, "synchronize", state, number), "d-sync")
    [green] = state.check_runs(REPO, head2, CHECK)
    assert green["conclusion"] == "success" and green["annotations"] == []
    [edited] = state.comments(REPO, number)
    assert edited["id"] == comment["id"] and edited["edits"] == 1 and "passed validation" in edited["body"]

    before = (len(state.check_runs(REPO)), state.comments(REPO, number)[0]["edits"], len(state.log))
    again = _deliver(arborist, _real_payload(webhook_examples, "synchronize", state, number), "d-sync")
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    forged_body = body_of(_real_payload(webhook_examples, "opened", state, number))
    headers = delivery_headers("pull_request", forged_body, "d-forged", secret=b"not-the-secret")
    assert arborist.post("/webhook", content=forged_body, headers=headers).status_code == 401
    assert arborist.dispatcher.wait_idle(5)
    assert (len(state.check_runs(REPO)), state.comments(REPO, number)[0]["edits"], len(state.log)) == before


def test_faults_in_github_still_end_in_one_check_run_and_one_comment(arborist, standin, webhook_examples):
    state = standin.state
    number = _seed(state)
    state.fail_next(3, 502)
    state.rate_limit_next(2, retry_after=1)
    state.slow(0.05, count=5)
    _deliver(arborist, _real_payload(webhook_examples, "opened", state, number), "d-faulty")
    runs = state.check_runs(REPO, name=CHECK)
    assert len(runs) == 1 and runs[0]["conclusion"] == "failure"
    assert len(state.comments(REPO, number)) == 1
    statuses = [e["status"] for e in state.log]
    assert statuses.count(502) == 3 and statuses.count(403) == 2
    text = arborist.get("/metrics").text
    assert 'arborist_github_api_retries_total{reason="rate_limit"} 2' in text
    assert 'arborist_deliveries_total{event="pull_request",outcome="handled"} 1' in text


def test_installation_events_are_logged_without_github_calls(arborist, standin, webhook_examples):
    for name in ("installation/created.payload.json", "installation_repositories/added.payload.json"):
        payload = json.loads((webhook_examples / name).read_text())
        assert _deliver(arborist, payload, event=name.split("/")[0]).status_code == 202
    assert standin.state.log == []
    assert 'outcome="handled"' in arborist.get("/metrics").text


def test_lost_answers_to_creating_posts_do_not_post_twice(arborist, standin, webhook_examples):
    """GitHub did the work but the answer was a 502: the retry finds the check run / comment instead."""
    state = standin.state
    number = _seed(state)
    state.lose_next_answers(2, 502, methods=("POST",))  # the check-run create, then the comment create
    _deliver(arborist, _real_payload(webhook_examples, "opened", state, number), "d-lost")
    runs = state.check_runs(REPO, name=CHECK)
    assert len(runs) == 1 and runs[0]["conclusion"] == "failure"
    assert len(state.comments(REPO, number)) == 1
    lost = [e["path"].rsplit("/", 1)[-1] for e in state.log if e["status"] == 502]
    assert lost == ["check-runs", "comments"]
