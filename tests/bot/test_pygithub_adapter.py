"""The real PyGithub adapter and App auth over HTTP against the stand-in, faults included."""

from __future__ import annotations

import pytest
from github import GithubException

from bot.metrics import Metrics
from lab.github.app_auth import REFRESH_MARGIN, AppAuth, AuthError
from lab.github.protocol import Annotation, CheckRunOutput
from lab.github.pygithub_client import PyGithubClient
from lab.github.retry import RetriesExhausted, RetryPolicy
from sandbox.standins.github import make_app_key

REPO = "octo/taxonomy"


def _client(standin, app_key, policy, metrics=None) -> tuple[PyGithubClient, AppAuth]:
    auth = AppAuth(standin.base_url, 7, app_key[0], policy=policy)
    return PyGithubClient(standin.base_url, lambda: auth.token(1), policy=policy, metrics=metrics), auth


def _seed(state) -> int:
    state.add_repo(REPO, files={"README.md": "hello\n"})
    state.commit(REPO, "leaf", {"knowledge/a/qna.yaml": "version: 3\n", "README.md": None})
    return state.open_pull(REPO, "leaf", author="newcomer")


def test_reads_pull_files_and_contents_as_plain_dataclasses(standin, app_key, no_sleep):
    number = _seed(standin.state)
    client, _ = _client(standin, app_key, no_sleep)
    pull = client.get_pull(REPO, number)
    assert (pull.author, pull.base_ref, pull.head_ref, pull.state) == ("newcomer", "main", "leaf", "open")
    assert pull.head_sha == standin.state.head_sha(REPO, "leaf")
    files = {f.filename: f.status for f in client.list_pull_files(REPO, number)}
    assert files == {"knowledge/a/qna.yaml": "added", "README.md": "removed"}
    assert client.get_file(REPO, "knowledge/a/qna.yaml", pull.head_sha) == b"version: 3\n"
    assert client.get_file(REPO, "README.md", pull.head_sha) is None
    assert client.get_file(REPO, "knowledge", pull.head_sha) is None  # a directory is not a file


def test_comments_labels_reactions_permissions_and_dispatch(standin, app_key, no_sleep):
    number = _seed(standin.state)
    client, _ = _client(standin, app_key, no_sleep)
    comment = client.create_comment(REPO, number, "first")
    client.edit_comment(REPO, comment.id, "second")
    assert [c.body for c in client.list_comments(REPO, number)] == ["second"]
    client.add_reaction(REPO, comment.id, "eyes")
    client.add_reaction(REPO, comment.id, "eyes")
    assert len(standin.state.repos[REPO].reactions[comment.id]) == 1
    client.add_labels(REPO, number, ["knowledge"])
    assert standin.state.labels(REPO, number) == ["knowledge"]
    standin.state.set_permission(REPO, "maint", "maintain")
    assert client.get_collaborator_permission(REPO, "maint") == "maintain"
    assert client.get_collaborator_permission(REPO, "stranger") == "none"
    standin.state.add_team_member("octo", "reviewers", "maint")
    assert client.is_team_member("octo", "reviewers", "maint") and not client.is_team_member("octo", "reviewers", "x")
    client.dispatch_workflow(REPO, "gpu.yml", "main", {"job": "1"})
    assert standin.state.repos[REPO].dispatches == [{"workflow": "gpu.yml", "ref": "main", "inputs": {"job": "1"}}]
    client.cancel_workflow_run(REPO, 4242)
    assert standin.state.repos[REPO].cancelled_runs == [4242]


def test_check_run_annotations_accumulate_across_batches(standin, app_key, no_sleep):
    _seed(standin.state)
    client, _ = _client(standin, app_key, no_sleep)
    ann = Annotation("knowledge/a/qna.yaml", 3, 3, "failure", "bad", title="schema", start_column=2, end_column=2)
    run = client.create_check_run(REPO, "arborist/validate", "abc", "in_progress",
                                  output=CheckRunOutput("t", "s", annotations=(ann,) * 50))
    done = client.update_check_run(REPO, run.id, output=CheckRunOutput("t", "s", annotations=(ann,) * 7),
                                   conclusion="failure")
    assert (done.status, done.conclusion) == ("completed", "failure")
    [stored] = standin.state.check_runs(REPO)
    assert len(stored["annotations"]) == 57 and stored["annotations"][0]["start_line"] == 3
    with pytest.raises(GithubException) as err:  # GitHub refuses 51 in one request, and so does the stand-in
        client.update_check_run(REPO, run.id, output=CheckRunOutput("t", "s", annotations=(ann,) * 51))
    assert err.value.status == 422


def test_installation_token_is_cached_and_refreshed_before_expiry(standin, app_key, no_sleep):
    now = [1_000_000.0]
    import time as _time

    now[0] = _time.time()
    auth = AppAuth(standin.base_url, 7, app_key[0], policy=no_sleep, clock=lambda: now[0])
    first = auth.token(1)
    assert auth.token(1) == first and auth.exchanges == 1
    now[0] += 3600 - REFRESH_MARGIN - 10  # still 5+ minutes left
    assert auth.token(1) == first
    now[0] += 20  # now within 5 minutes of expiry
    assert auth.token(1) != first and auth.exchanges == 2


def test_jwt_signed_with_another_key_is_refused(standin, app_key, no_sleep):
    wrong_private, _ = make_app_key()
    auth = AppAuth(standin.base_url, 7, wrong_private, policy=no_sleep)
    with pytest.raises(AuthError, match="401"):
        auth.token(1)
    with pytest.raises(AuthError, match="404"):
        AppAuth(standin.base_url, 7, app_key[0], policy=no_sleep).token(99)  # right key, not installed


def test_502s_and_secondary_rate_limits_are_retried_honouring_retry_after(standin, app_key, no_sleep):
    number = _seed(standin.state)
    metrics = Metrics()
    client, auth = _client(standin, app_key, no_sleep, metrics)
    auth.token(1)
    standin.state.fail_next(2, 502)
    standin.state.rate_limit_next(1, retry_after=7)
    assert client.get_pull(REPO, number).number == number
    assert no_sleep.waits[:2] == [0.375, 0.75] and no_sleep.waits[2] == 7.0  # backoff, backoff, Retry-After
    assert metrics.value("arborist_github_api_retries_total", reason="http_502") == 2
    assert metrics.value("arborist_github_api_retries_total", reason="rate_limit") == 1
    assert metrics.value("arborist_github_rate_limit_remaining") == 4999


def test_primary_rate_limit_waits_until_reset(standin, app_key, no_sleep):
    number = _seed(standin.state)
    client, auth = _client(standin, app_key, no_sleep)
    auth.token(1)
    standin.state.rate_limit_next(1, retry_after=30, primary=True)
    client.get_pull(REPO, number)
    assert 25 <= no_sleep.waits[-1] <= 32


def test_retries_stop_at_the_budget_and_4xx_is_not_retried(standin, app_key):
    number = _seed(standin.state)
    waits: list[float] = []
    policy = RetryPolicy(max_attempts=3, sleep=waits.append)
    client, auth = _client(standin, app_key, policy)
    auth.token(1)
    standin.state.fail_next(3, 503)
    with pytest.raises(RetriesExhausted):
        client.get_pull(REPO, number)
    assert len(waits) == 2
    with pytest.raises(GithubException) as err:
        client.get_pull(REPO, 404)
    assert err.value.status == 404 and len(waits) == 2


def test_slow_answers_hit_the_timeout_and_are_retried(standin, app_key):
    number = _seed(standin.state)
    waits: list[float] = []
    auth = AppAuth(standin.base_url, 7, app_key[0], policy=RetryPolicy(sleep=waits.append))
    auth.token(1)
    client = PyGithubClient(standin.base_url, lambda: auth.token(1), timeout=0.3, policy=RetryPolicy(sleep=waits.append))
    standin.state.slow(1.0, count=1)
    assert client.get_pull(REPO, number).number == number
    assert len(waits) == 1


def test_files_over_one_megabyte_come_from_the_blob_api_and_huge_ones_are_not_downloaded(
        standin, app_key, no_sleep, monkeypatch):
    import lab.github.pygithub_client as adapter

    monkeypatch.setattr(adapter, "MAX_FILE_BYTES", 3 * 1024 * 1024)
    big, huge = b"a: b\n" * 300_000, b"x" * (4 * 1024 * 1024)
    standin.state.add_repo(REPO, files={"big/qna.yaml": big, "huge/qna.yaml": huge})
    client, _ = _client(standin, app_key, no_sleep)
    assert client.get_file(REPO, "big/qna.yaml", "main") == big
    assert len(client.get_file(REPO, "huge/qna.yaml", "main")) == 3 * 1024 * 1024 + 1
    fetched = [e["path"] for e in standin.state.log]
    assert any("/git/blobs/" in p for p in fetched)
    assert sum("/git/blobs/" in p for p in fetched) == 1  # only the 1.5 MB one
