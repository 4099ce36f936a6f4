"""The in-memory fake keeps GitHub's rules that handlers rely on."""

from __future__ import annotations

import pytest

from lab.github.protocol import Annotation, CheckRunOutput, PullFile, PullRequest
from sandbox.fakes.github import FakeGitHub


def test_fake_enforces_fifty_annotations_per_request_and_accumulates():
    gh = FakeGitHub()
    ann = Annotation("a.yaml", 1, 1, "failure", "m")
    run = gh.create_check_run("o/r", "c", "sha", "in_progress", output=CheckRunOutput("t", "s", annotations=(ann,) * 50))
    gh.update_check_run("o/r", run.id, output=CheckRunOutput("t", "s", annotations=(ann,) * 10), conclusion="failure")
    stored = gh.check_runs("o/r")[0]
    assert len(stored.annotations) == 60 and stored.status == "completed"
    with pytest.raises(ValueError):
        gh.update_check_run("o/r", run.id, output=CheckRunOutput("t", "s", annotations=(ann,) * 51))


def test_fake_serves_seeded_pulls_files_and_edits_comments():
    gh = FakeGitHub()
    gh.add_pull("o/r", PullRequest(1, "open", "h1", "f", "main", "b1", "alice"), [PullFile("a/qna.yaml", "added")])
    gh.put_files("o/r", "h1", {"a/qna.yaml": "x: 1\n"})
    assert gh.get_file("o/r", "a/qna.yaml", "h1") == b"x: 1\n"
    assert gh.get_file("o/r", "a/qna.yaml", "main") is None
    comment = gh.create_comment("o/r", 1, "hi")
    gh.edit_comment("o/r", comment.id, "bye")
    assert [c.body for c in gh.list_comments("o/r", 1)] == ["bye"]
    gh.add_labels("o/r", 1, ["skill"])
    gh.add_labels("o/r", 1, ["skill", "knowledge"])
    assert gh.repo("o/r").labels[1] == ["skill", "knowledge"]
