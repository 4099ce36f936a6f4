"""A step's report never carries a secret: progress, result and failure text are masked before printing or posting."""

from __future__ import annotations

import io

from ci.report import Reporter
from lab.github.protocol import PullRequest
from sandbox.fakes.github import FakeGitHub

REPO = "acme/taxonomy"
KEY = "sk-reportKeyCanary-000000000033"


def test_reported_text_is_masked_on_stdout_and_on_github(monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    github = FakeGitHub()
    github.add_pull(REPO, PullRequest(7, "open", "a" * 40, "f", "main", "b" * 40, "c"))
    comment = github.create_comment(REPO, 7, "<!-- arborist:status -->\nqueued")
    run = github.create_check_run(REPO, "arborist/generate", "a" * 40, "queued")
    out = io.StringIO()
    reporter = Reporter(repo=REPO, job_id=3, pr=7, status_comment_id=comment.id, check_run_id=run.id,
                        github=github, stream=out, edit_status=True)
    reporter.progress(f"teacher said: bad key {KEY}", 0.5)
    reporter.fail(f"teacher refused {KEY}", f"HTTP 401: invalid credentials: Bearer {KEY}")
    posted = github.comments_on(REPO, 7)[0].body + "".join(str(c) for c in github.check_runs(REPO))
    printed = out.getvalue() + capsys.readouterr().err
    assert KEY not in printed and KEY not in posted
    assert "invalid credentials: Bearer ***" in printed and "teacher refused ***" in posted
