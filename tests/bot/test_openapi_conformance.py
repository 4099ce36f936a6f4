"""Every request the adapter sends and every answer the stand-in gives match GitHub's OpenAPI description."""

from __future__ import annotations

import pytest

from lab.github.app_auth import AppAuth
from lab.github.pygithub_client import PyGithubClient
from tests.bot.openapi_check import find_operation, load_spec, problems
from tests.bot.test_end_to_end import _deliver, _real_payload, _seed, arborist  # noqa: F401 - fixture

REPO = "octo/taxonomy"


@pytest.fixture(scope="module")
def specs(shared_fixtures):
    root = shared_fixtures / "github-openapi"
    return load_spec(root / "bot-subset.api.github.com.json"), root / "api.github.com.json"


def _check_log(log, specs) -> list[str]:
    subset, full_path = specs
    found: list[str] = []
    for entry in log:
        if entry["status"] in (502, 503) or entry["status"] is None:
            continue
        spec = subset
        if find_operation(subset, entry["method"], entry["path"]) is None:
            spec = load_spec(full_path)  # labels and team memberships are outside the bot subset
        found += problems(spec, entry)
    return found


@pytest.mark.slow
def test_validation_flow_exchanges_match_openapi(arborist, standin, webhook_examples, specs):  # noqa: F811
    state = standin.state
    number = _seed(state)
    state.lose_next_answers(2)  # exercise the recovery lookups (check runs by ref, comments) too
    _deliver(arborist, _real_payload(webhook_examples, "opened", state, number), "d-open")
    routes = {(e["method"], e["route"]) for e in state.log}
    assert ("POST", "/repos/{owner}/{name}/check-runs") in routes and len(routes) >= 8
    assert ("GET", "/repos/{owner}/{name}/commits/{ref}/check-runs") in routes
    assert _check_log(state.log, specs) == []


@pytest.mark.slow
def test_command_side_exchanges_match_openapi(standin, app_key, no_sleep, specs):
    state = standin.state
    number = _seed(state)
    auth = AppAuth(standin.base_url, 7, app_key[0], policy=no_sleep)
    client = PyGithubClient(standin.base_url, lambda: auth.token(1), policy=no_sleep)
    comment = client.create_comment(REPO, number, "status")
    client.add_reaction(REPO, comment.id, "eyes")
    client.add_reaction(REPO, comment.id, "eyes")
    state.set_permission(REPO, "maint", "maintain")
    client.get_collaborator_permission(REPO, "maint")
    client.get_collaborator_permission(REPO, "nobody")
    state.add_team_member("octo", "reviewers", "maint")
    client.is_team_member("octo", "reviewers", "maint")
    client.dispatch_workflow(REPO, "gpu.yml", "main", {"job": "1"})
    client.add_labels(REPO, number, ["skill"])
    assert _check_log(state.log, specs) == []


def test_the_checker_flags_a_wrong_request_and_response(specs):
    subset, _ = specs
    entry = {"method": "POST", "path": "/repos/o/r/check-runs", "body": {"name": 5, "head_sha": "abc"},
             "status": 201, "response": {"id": "not-a-number"}}
    found = problems(subset, entry)
    assert any("request" in p for p in found) and any("response 201" in p for p in found)
    assert problems(subset, {**entry, "method": "PUT", "path": "/nowhere"})
