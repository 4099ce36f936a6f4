"""Webhook intake on the FastAPI app: signatures first, durable dedupe, 4xx for hostile bodies."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from bot.deliveries import DeliveryStore
from bot.router import Router
from bot.routes import default_router
from bot.server import create_app
from bot.webhook import sign, verify_signature
from lab.github.protocol import PullFile, PullRequest
from sandbox.fakes.github import FakeGitHub
from tests.bot.helpers import SECRET, body_of, delivery_headers, settings_for
from tests.bot.taxonomy_data import ATTRIBUTION, ATTRIBUTION_PATH, SKILL_PATH, broken_skill

REPO = "Codertocat/Hello-World"


@pytest.fixture
def bot(tmp_path):
    """A running app (worker thread included) whose client factory hands out one FakeGitHub."""
    gh = FakeGitHub()
    app = create_app(settings_for(tmp_path, max_body_bytes=200_000), lambda installation: gh)
    with TestClient(app) as client:
        client.gh = gh
        client.dispatcher = app.state.dispatcher
        client.store = app.state.store
        yield client


def _seed_pull(gh: FakeGitHub, number: int, head_sha: str) -> None:
    gh.put_files(REPO, head_sha, {SKILL_PATH: broken_skill()[0], ATTRIBUTION_PATH: ATTRIBUTION})
    gh.add_pull(REPO, PullRequest(number, "open", head_sha, "changes", "master", "base", "Codertocat"),
                [PullFile(SKILL_PATH, "added"), PullFile(ATTRIBUTION_PATH, "added")])


def _post(client, event: str, body: bytes, **kw):
    return client.post("/webhook", content=body, headers=delivery_headers(event, body, **kw))


def test_signature_check_is_constant_time_hmac_of_raw_body():
    body = b'{"a": 1}'
    assert verify_signature(SECRET, body, sign(SECRET, body))
    assert not verify_signature(SECRET, body + b" ", sign(SECRET, body))
    assert not verify_signature(SECRET, body, sign(b"other", body))
    assert not verify_signature(SECRET, body, None) and not verify_signature(SECRET, body, "sha1=abc")


def test_real_payloads_are_all_accepted_and_pull_request_opened_is_validated(bot, webhook_examples):
    for path in sorted(webhook_examples.glob("*/*.json")):
        response = _post(bot, path.parent.name, path.read_bytes())
        from_app = "installation" in json.loads(path.read_bytes()) or path.parent.name == "ping"
        expected = (200, 202) if from_app else (202, 400)  # not from an App: ignored or refused, never a 500
        assert response.status_code in expected, (path.name, response.text)
    opened = json.loads((webhook_examples / "pull_request" / "opened.payload.json").read_text())
    pr = opened["pull_request"]
    _seed_pull(bot.gh, pr["number"], "f" * 40)
    opened["pull_request"]["head"]["sha"] = "f" * 40
    assert _post(bot, "pull_request", body_of(opened)).status_code == 202
    assert bot.dispatcher.wait_idle(20)
    [run] = bot.gh.check_runs(REPO, "arborist/validate", "f" * 40)
    assert run.conclusion == "failure" and run.annotations
    assert len(bot.gh.comments_on(REPO, pr["number"])) == 1


def test_ping_answers_pong(bot, webhook_examples):
    response = _post(bot, "ping", (webhook_examples / "ping" / "payload.json").read_bytes())
    assert response.status_code == 200 and response.json()["msg"] == "pong"


@pytest.mark.parametrize("signature", [None, "sha256=" + "0" * 64, "garbage"])
def test_missing_or_wrong_signature_is_401_and_nothing_happens(bot, signature):
    body = body_of({"action": "opened", "installation": {"id": 1}, "repository": {"full_name": REPO},
                    "number": 1})
    headers = delivery_headers("pull_request", body, delivery="forged-1")
    headers.pop("X-Hub-Signature-256")
    if signature:
        headers["X-Hub-Signature-256"] = signature
    response = bot.post("/webhook", content=body, headers=headers)
    assert response.status_code == 401
    assert bot.store.status("forged-1") is None and bot.gh.calls == []


def test_redelivery_is_a_no_op(bot):
    _seed_pull(bot.gh, 3, "a" * 40)
    payload = {"action": "opened", "number": 3, "installation": {"id": 1}, "repository": {"full_name": REPO},
               "pull_request": {"number": 3, "state": "open", "user": {"login": "c"}, "head": {"sha": "a" * 40, "ref": "x"},
                                "base": {"sha": "b", "ref": "master"}}}
    first = _post(bot, "pull_request", body_of(payload), delivery="same-id")
    assert bot.dispatcher.wait_idle(20)
    again = _post(bot, "pull_request", body_of(payload), delivery="same-id")
    assert bot.dispatcher.wait_idle(20)
    assert (first.status_code, again.status_code, again.json()["status"]) == (202, 200, "duplicate")
    assert len(bot.gh.check_runs(REPO)) == 1 and bot.gh.count("create_comment") == 1
    assert bot.store.status("same-id") == "done"


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain", ""])
def test_wrong_content_type_is_415(bot, content_type):
    body = b"payload=%7B%7D"
    headers = delivery_headers("push", body)
    headers["Content-Type"] = content_type
    assert bot.post("/webhook", content=body, headers=headers).status_code == 415


@pytest.mark.parametrize("body", [b'{"action": "opened", "installation": {"id"', b"[1, 2]", b"\xff\xfe", b"", b"[" * 100_000])
def test_broken_json_is_400_never_500(bot, body):
    assert _post(bot, "pull_request", body).status_code == 400


def test_unknown_event_is_accepted_and_ignored(bot):
    response = _post(bot, "star", body_of({"action": "created"}))
    assert response.status_code == 202 and response.json()["status"] == "ignored"
    assert bot.gh.calls == []


def test_missing_fields_are_400(bot):
    response = _post(bot, "pull_request", body_of({"action": "opened", "number": 1}))
    assert response.status_code == 400 and "installation.id" in response.json()["error"]


def test_missing_event_or_delivery_header_is_400(bot):
    body = body_of({"action": "opened"})
    headers = delivery_headers("push", body)
    headers["X-GitHub-Event"] = "../etc"
    assert bot.post("/webhook", content=body, headers=headers).status_code == 400


def test_oversized_body_is_413_before_the_signature_is_computed(bot):
    body = b"{" + b" " * 300_000 + b"}"
    assert _post(bot, "push", body).status_code == 413


def test_metrics_and_health(bot, webhook_examples):
    _post(bot, "ping", (webhook_examples / "ping" / "payload.json").read_bytes())
    bot.post("/webhook", content=b"{}", headers={"X-GitHub-Event": "push"})
    assert bot.get("/healthz").json()["status"] == "ok"
    text = bot.get("/metrics").text
    assert 'arborist_deliveries_total{event="ping",outcome="pong"} 1' in text
    assert 'outcome="bad_signature"' in text
    assert "# TYPE arborist_handler_seconds histogram" in text


def test_deliveries_left_queued_are_handled_at_next_start(tmp_path):
    store = DeliveryStore(tmp_path / "deliveries.sqlite3")
    gh = FakeGitHub()
    _seed_pull(gh, 9, "c" * 40)
    payload = {"action": "reopened", "number": 9, "installation": {"id": 1}, "repository": {"full_name": REPO}}
    gh.repo(REPO).pulls[9] = PullRequest(9, "open", "c" * 40, "x", "master", "b", "someone")
    assert store.record("left-over", "pull_request", body_of(payload), "queued")
    store.close()
    app = create_app(settings_for(tmp_path), lambda i: gh, router=default_router())
    with TestClient(app):
        assert app.state.dispatcher.wait_idle(20)
        assert app.state.store.status("left-over") == "done"
    assert len(gh.check_runs(REPO)) == 1


GATE = __import__("threading").Event()


def blocking_handler(event, ctx) -> None:
    GATE.wait(10)


def test_full_queue_answers_503_and_forgets_the_delivery_so_a_redelivery_works(tmp_path):
    GATE.clear()
    router = Router()
    router.register("push")(blocking_handler)
    app = create_app(settings_for(tmp_path, queue_size=1), lambda i: FakeGitHub(), router=router)
    payload = {"ref": "refs/heads/main", "installation": {"id": 1}, "repository": {"full_name": REPO}}
    with TestClient(app) as client:
        codes = [_post(client, "push", body_of(payload), delivery=f"p{i}").status_code for i in range(4)]
        assert codes[0] == 202 and 503 in codes
        refused = f"p{codes.index(503)}"
        assert app.state.store.status(refused) is None
        GATE.set()
        assert app.state.dispatcher.wait_idle(20)
        assert _post(client, "push", body_of(payload), delivery=refused).status_code == 202
        assert app.state.dispatcher.wait_idle(20)
