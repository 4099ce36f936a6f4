"""ci.report: the progress/result lines a worker reads, and direct GitHub edits under the actions executor."""

from __future__ import annotations

import io
import json

import pytest

from ci.report import (
    COMMENT_LIMIT,
    PROGRESS_PREFIX,
    RESULT_PREFIX,
    Progress,
    Reporter,
    Result,
    format_progress,
    format_result,
    parse_line,
    truncate,
)
from lab.github.protocol import PullRequest
from sandbox.fakes.github import FakeGitHub

REPO = "acme/taxonomy"


def test_progress_and_result_lines_round_trip():
    assert parse_line(format_progress(Progress("generating", 0.5))) == Progress("generating", 0.5)
    result = Result("success", "20 samples", "| a | b |", {"artefacts": "https://hub.test/x"})
    assert parse_line(format_result(result)) == result


@pytest.mark.parametrize("line", [
    "plain output",
    PROGRESS_PREFIX + "{not json",
    PROGRESS_PREFIX + "[1, 2]",
    RESULT_PREFIX + "x" * 300_000,
    "  " + "::arborist-other::{}",
])
def test_malformed_lines_are_plain_output(line):
    assert parse_line(line) is None


def test_hostile_values_are_clamped_and_links_must_be_http():
    progress = parse_line(PROGRESS_PREFIX + json.dumps({"text": "x" * 5000, "fraction": 7}))
    assert progress.fraction == 1.0 and len(progress.text) == 500
    assert parse_line(PROGRESS_PREFIX + json.dumps({"text": "t", "fraction": True})).fraction is None
    result = parse_line(RESULT_PREFIX + json.dumps({"conclusion": "maybe", "title": "t",
                                                    "links": {"artefacts": "javascript:alert(1)", "logs": "https://ok"}}))
    assert result.conclusion == "failure" and result.links == {"logs": "https://ok"}


def test_long_bodies_are_cut_to_githubs_limit_with_a_note():
    body = truncate("x" * 100_000)
    assert len(body) == COMMENT_LIMIT and body.endswith("see the logs._")
    assert truncate("short") == "short"


def test_reporter_without_github_only_prints_the_protocol():
    out = io.StringIO()
    reporter = Reporter(repo=REPO, job_id=3, stream=out)
    reporter.progress("checking out", 0.1)
    assert reporter.fail("no teacher", "ARBORIST_TEACHER is not set") == 1
    lines = [parse_line(line) for line in out.getvalue().splitlines()]
    assert lines == [Progress("checking out", 0.1), Result("failure", "no teacher", "ARBORIST_TEACHER is not set", {})]


def test_reporter_with_github_edits_the_status_comment_and_check_run_throttled():
    github = FakeGitHub()
    github.add_pull(REPO, PullRequest(7, "open", "a" * 40, "f", "main", "b" * 40, "c"))
    comment = github.create_comment(REPO, 7, "<!-- arborist:status -->\nqueued")
    run = github.create_check_run(REPO, "arborist/generate", "a" * 40, "queued")
    now = [0.0]
    reporter = Reporter(repo=REPO, job_id=3, pr=7, status_comment_id=comment.id, check_run_id=run.id,
                        github=github, stream=io.StringIO(), clock=lambda: now[0], edit_status=True)
    reporter.progress("one", 0.1)
    reporter.progress("two", 0.2)  # within the throttle window: printed, not sent
    now[0] = 10.0
    reporter.progress("three", 0.3)
    assert github.count("edit_comment") == 2
    reporter.result("success", "done: 20 samples", "x" * 70_000, {"artefacts": "https://hub.test/d"})
    body = github.comments_on(REPO, 7)[0].body
    assert body.startswith("<!-- arborist:status -->") and "Done: done: 20 samples" in body
    assert len(body) <= COMMENT_LIMIT and "cut here" in body
    (check,) = github.check_runs(REPO)
    assert (check.status, check.conclusion) == ("completed", "success")


def test_under_a_local_worker_the_step_never_edits_the_status_itself(monkeypatch):
    monkeypatch.delenv("ARBORIST_REPORT", raising=False)
    github = FakeGitHub()
    reporter = Reporter(repo=REPO, job_id=3, pr=7, status_comment_id=11, check_run_id=12, github=github,
                        stream=io.StringIO())
    reporter.progress("working", 0.5)
    reporter.result("success", "done")
    assert github.calls == []  # the worker relays the lines; the client stays free for the step's own calls
    monkeypatch.setenv("ARBORIST_REPORT", "github")
    assert Reporter(repo=REPO, job_id=3, github=github).edit_status is True


class OnlyStatus:
    """A client with the two calls a reporting step needs and nothing else (ci.report.StatusClient)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, str]] = []

    def edit_comment(self, repo, comment_id, body):
        self.calls.append(("edit_comment", comment_id, body))

    def update_check_run(self, repo, check_run_id, *, status=None, conclusion=None, output=None, **_):
        self.calls.append(("update_check_run", check_run_id, f"{status}/{conclusion}/{output.title}"))

    def __getattr__(self, name):
        raise AssertionError(f"a reporting step called {name}: it may only edit its comment and check run")


def test_a_reporting_step_needs_only_the_status_comment_and_the_check_run():
    client = OnlyStatus()
    reporter = Reporter(repo=REPO, job_id=3, pr=7, status_comment_id=11, check_run_id=12, github=client,
                        stream=io.StringIO(), edit_status=True)
    reporter.progress("working", 0.5)
    reporter.result("failure", "teacher crashed", "it exited")
    assert [(name, target) for name, target, _ in client.calls] == [
        ("edit_comment", 11), ("update_check_run", 12), ("edit_comment", 11), ("update_check_run", 12)]
    assert client.calls[-1][2] == "completed/failure/teacher crashed"
