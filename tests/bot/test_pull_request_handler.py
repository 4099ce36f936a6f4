"""PR validation against the in-memory fake: one check run, one living comment, labels."""

from __future__ import annotations

import json

from bot.context import Context, Event
from bot.handlers.pull_request import on_check_rerequested, on_pull_request
from bot.render.validation import CHECK_NAME, COMMENT_MARKER
from lab.github.protocol import PullFile, PullRequest
from sandbox.fakes.github import FakeGitHub
from schemas.repo_config import CONFIG_PATH
from tests.bot.taxonomy_data import (
    ATTRIBUTION,
    ATTRIBUTION_PATH,
    KNOWLEDGE_PATH,
    SKILL_PATH,
    broken_skill,
    valid_skill,
)

REPO = "octo/taxonomy"


def _payload(number: int, head_sha: str, action: str = "opened", state: str = "open") -> dict:
    return {"action": action, "number": number, "installation": {"id": 1}, "repository": {"full_name": REPO},
            "pull_request": {"number": number, "state": state, "draft": False, "user": {"login": "newcomer"},
                             "head": {"sha": head_sha, "ref": "my-skill"}, "base": {"sha": "base1", "ref": "main"}}}


def _seed(gh: FakeGitHub, head: str, skill_text: str, extra: dict | None = None) -> None:
    gh.put_files(REPO, head, {SKILL_PATH: skill_text, ATTRIBUTION_PATH: ATTRIBUTION, **(extra or {})})
    files = [PullFile(SKILL_PATH, "added"), PullFile(ATTRIBUTION_PATH, "added")]
    if 7 in gh.repo(REPO).pulls:
        gh.set_pull_head(REPO, 7, head, files)
    else:
        gh.add_pull(REPO, PullRequest(7, "open", head, "my-skill", "main", "base1", "newcomer"), files)


def _run(gh: FakeGitHub, head: str, action: str = "opened", delivery: str = "d1") -> None:
    on_pull_request(Event.from_delivery("pull_request", delivery, _payload(7, head, action)), Context(github=gh))


def test_broken_leaf_gets_failing_check_with_annotation_on_its_line_and_one_comment():
    gh = FakeGitHub()
    text, bad_line = broken_skill()
    _seed(gh, "head1", text)
    _run(gh, "head1")
    [run] = gh.check_runs(REPO, CHECK_NAME, "head1")
    assert run.status == "completed" and run.conclusion == "failure"
    assert any(a.path == SKILL_PATH and a.start_line in (bad_line, bad_line + 1) and a.level == "failure"
               for a in run.annotations)
    [comment] = gh.comments_on(REPO, 7)
    assert COMMENT_MARKER in comment.body and SKILL_PATH in comment.body and "How to fix" in comment.body
    assert gh.repo(REPO).labels[7] == ["skill"]


def test_fixing_push_turns_check_green_and_edits_the_same_comment():
    gh = FakeGitHub()
    _seed(gh, "head1", broken_skill()[0])
    _run(gh, "head1")
    [first] = gh.comments_on(REPO, 7)
    _seed(gh, "head2", valid_skill())
    _run(gh, "head2", action="synchronize", delivery="d2")
    [run2] = gh.check_runs(REPO, CHECK_NAME, "head2")
    assert run2.conclusion == "success" and run2.annotations == []
    [comment] = gh.comments_on(REPO, 7)
    assert comment.id == first.id and "passed validation" in comment.body and "/generate" in comment.body
    assert gh.count("create_comment") == 1 and gh.count("edit_comment") == 1


def test_same_result_twice_edits_nothing():
    gh = FakeGitHub()
    _seed(gh, "head1", valid_skill())
    _run(gh, "head1")
    _run(gh, "head1", action="reopened", delivery="d2")
    assert gh.count("create_comment") == 1 and gh.count("edit_comment") == 0


def test_more_than_fifty_annotations_go_in_batches_and_all_arrive():
    gh = FakeGitHub()
    many = {f"knowledge/topic{i}/qna.yaml": "version: [\n" for i in range(60)}  # 60 broken files
    gh.put_files(REPO, "head1", many)
    gh.add_pull(REPO, PullRequest(7, "open", "head1", "x", "main", "base1", "newcomer"),
                [PullFile(p, "added") for p in many])
    _run(gh, "head1")
    [run] = gh.check_runs(REPO, CHECK_NAME)
    assert len(run.annotations) >= 60 and run.conclusion == "failure"
    assert gh.count("update_check_run") >= 2
    assert gh.repo(REPO).labels[7] == ["knowledge"]


def test_pr_without_taxonomy_files_passes_quietly():
    gh = FakeGitHub()
    gh.put_files(REPO, "head1", {"README.md": "hi"})
    gh.add_pull(REPO, PullRequest(7, "open", "head1", "x", "main", "base1", "newcomer"), [PullFile("README.md", "modified")])
    _run(gh, "head1")
    [run] = gh.check_runs(REPO, CHECK_NAME)
    assert run.conclusion == "success" and gh.comments_on(REPO, 7) == [] and 7 not in gh.repo(REPO).labels


def test_config_is_read_from_base_branch_and_its_problems_reach_the_check():
    gh = FakeGitHub()
    _seed(gh, "head1", valid_skill(), extra={CONFIG_PATH: "generate: {samples: 1}\n"})
    gh.put_files(REPO, "main", {CONFIG_PATH: "nonsense: true\n"})
    _run(gh, "head1")
    assert ("get_file", (REPO, CONFIG_PATH, "main")) in gh.calls
    assert ("get_file", (REPO, CONFIG_PATH, "head1")) not in gh.calls
    [run] = gh.check_runs(REPO, CHECK_NAME)
    assert "nonsense" in run.summary


def test_removed_files_are_not_validated_and_attribution_edit_rechecks_its_leaf():
    gh = FakeGitHub()
    gh.put_files(REPO, "head1", {SKILL_PATH: valid_skill(), ATTRIBUTION_PATH: ATTRIBUTION})
    gh.add_pull(REPO, PullRequest(7, "open", "head1", "x", "main", "base1", "newcomer"),
                [PullFile(ATTRIBUTION_PATH, "modified"), PullFile(KNOWLEDGE_PATH, "removed")])
    _run(gh, "head1")
    [run] = gh.check_runs(REPO, CHECK_NAME)
    assert run.conclusion == "success" and SKILL_PATH in run.summary and KNOWLEDGE_PATH not in run.summary


def test_closed_pr_is_not_validated():
    gh = FakeGitHub()
    on_pull_request(Event.from_delivery("pull_request", "d", _payload(7, "h", state="closed")), Context(github=gh))
    assert gh.calls == []


def _rerequest(webhook_examples, head_sha: str, name: str = CHECK_NAME) -> Event:
    payload = json.loads((webhook_examples / "check_run" / "rerequested.payload.json").read_text())
    payload["repository"]["full_name"] = REPO
    run = payload["check_run"]
    run["name"], run["head_sha"] = name, head_sha
    run["pull_requests"] = [{**run["pull_requests"][0], "number": 7}] if run["pull_requests"] else [{"number": 7}]
    return Event.from_delivery("check_run", "d-rerun", payload)


def test_rerun_button_validates_again_into_a_new_run_and_the_same_comment(webhook_examples):
    gh = FakeGitHub()
    _seed(gh, "head1", broken_skill()[0])
    _run(gh, "head1")
    on_check_rerequested(_rerequest(webhook_examples, "head1"), Context(github=gh))
    runs = gh.check_runs(REPO, CHECK_NAME, "head1")
    assert [r.conclusion for r in runs] == ["failure", "failure"]
    assert len(gh.comments_on(REPO, 7)) == 1 and gh.count("edit_comment") == 0


def test_rerun_of_a_stale_sha_or_another_check_does_nothing(webhook_examples):
    gh = FakeGitHub()
    _seed(gh, "head2", valid_skill())
    on_check_rerequested(_rerequest(webhook_examples, "head1"), Context(github=gh))
    on_check_rerequested(_rerequest(webhook_examples, "head2", name="arborist/generate"), Context(github=gh))
    assert gh.check_runs(REPO) == [] and gh.count("create_comment") == 0
