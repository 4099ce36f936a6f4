"""One behaviour for every GitHubClient: each test runs against the in-memory fake and against the PyGithub
adapter + HTTP stand-in (tests/contract/conftest.py), and asserts what each call did to GitHub's state.
"""

from __future__ import annotations

import pytest

from lab.github.errors import status_of
from lab.github.protocol import Annotation, CheckRunOutput
from lab.github.pygithub_client import MAX_FILE_BYTES
from tests.contract.worlds import REPO

MARKER = "<!-- arborist:validation -->"
BASE = {"README.md": "hello\n", "knowledge/a/qna.yaml": "version: 3\n", "knowledge/b/qna.yaml": "old\n"}
HEAD = {"README.md": "hello\n", "knowledge/a/qna.yaml": "version: 3\nchanged: yes\n",
        "knowledge/c/qna.yaml": "version: 3\n"}  # a modified, b removed, c added, README unchanged


def refused(github, expected: int, call, *args, **kwargs) -> None:
    """`call` fails as GitHub answers with the status `expected` (each world raises its own type; one mapping reads it)."""
    with pytest.raises(Exception) as caught:  # noqa: PT011 - each world raises its own type; the status is checked
        call(*args, **kwargs)
    assert status_of(caught.value) == expected, repr(caught.value)


def ann(n: int) -> tuple[Annotation, ...]:
    return tuple(Annotation("knowledge/a/qna.yaml", i + 1, i + 1, "failure", f"problem {i}") for i in range(n))


# ---- pulls and contents ------------------------------------------------------------------------------

def test_a_pull_reads_back_as_plain_data_with_its_head_and_base(github):
    number = github.open_pull(BASE, HEAD, author="newcomer")
    pull = github.client.get_pull(REPO, number)
    assert (pull.number, pull.state, pull.author, pull.base_ref, pull.head_ref) == (number, "open", "newcomer",
                                                                                      "main", "leaf")
    assert (pull.merged, pull.draft, pull.author_is_bot) == (False, False, False)
    assert len(pull.head_sha) == 40 and len(pull.base_sha) == 40 and pull.head_sha != pull.base_sha
    assert pull.html_url.endswith(f"/{REPO}/pull/{number}") and pull.head_repo == REPO


def test_a_missing_pull_is_not_found(github):
    github.open_pull(BASE, HEAD)
    refused(github, 404, github.client.get_pull, REPO, 999)
    refused(github, 404, github.client.list_pull_files, REPO, 999)


def test_pull_files_are_the_head_against_the_base_with_github_statuses(github):
    number = github.open_pull(BASE, HEAD)
    files = {f.filename: f.status for f in github.client.list_pull_files(REPO, number)}
    assert files == {"knowledge/a/qna.yaml": "modified", "knowledge/b/qna.yaml": "removed",
                     "knowledge/c/qna.yaml": "added"}


def test_pull_files_past_one_page_are_all_listed(github):
    head = {f"knowledge/leaf{i:03d}/qna.yaml": f"version: {i}\n" for i in range(130)}
    number = github.open_pull({}, head)
    listed = [f.filename for f in github.client.list_pull_files(REPO, number)]
    assert sorted(listed) == sorted(head) and len(listed) == 130


def test_contents_at_a_ref_are_the_exact_bytes_and_absent_things_are_none(github):
    binary = bytes(range(256)) * 3 + "ünïcode\n".encode()
    number = github.open_pull(BASE, {**HEAD, "knowledge/d/qna.yaml": binary})
    pull = github.client.get_pull(REPO, number)
    read = github.client.get_file
    assert read(REPO, "knowledge/d/qna.yaml", pull.head_sha) == binary
    assert read(REPO, "knowledge/a/qna.yaml", pull.head_sha) == b"version: 3\nchanged: yes\n"
    assert read(REPO, "knowledge/a/qna.yaml", "main") == b"version: 3\n"  # the base branch, by name
    assert read(REPO, "knowledge/b/qna.yaml", pull.head_sha) is None  # removed on the head
    assert read(REPO, "knowledge", pull.head_sha) is None  # a directory is not a file
    assert read(REPO, "README.md", "0" * 40) is None  # a ref that does not exist


def test_a_file_over_one_megabyte_is_read_whole(github):
    big = b"x: " + b"y" * (1024 * 1024 + 10) + b"\n"
    number = github.open_pull({}, {"knowledge/big/qna.yaml": big})
    pull = github.client.get_pull(REPO, number)
    assert github.client.get_file(REPO, "knowledge/big/qna.yaml", pull.head_sha) == big


def test_a_file_over_the_download_cap_is_not_downloaded_and_reads_as_too_large(github):
    number = github.open_pull({}, {"knowledge/huge/qna.yaml": b"z" * (MAX_FILE_BYTES + 5)})
    pull = github.client.get_pull(REPO, number)
    data = github.client.get_file(REPO, "knowledge/huge/qna.yaml", pull.head_sha)
    assert data is not None and len(data) == MAX_FILE_BYTES + 1 and set(data) == {0}


# ---- comments ----------------------------------------------------------------------------------------

def test_a_created_comment_is_listed_as_the_bots_and_an_edit_keeps_its_id(github):
    number = github.open_pull(BASE, HEAD)
    created = github.client.create_comment(REPO, number, f"{MARKER}\nfirst")
    assert created.author == github.bot_login and created.body == f"{MARKER}\nfirst"
    assert created.html_url.endswith(f"/{REPO}/pull/{number}#issuecomment-{created.id}")
    edited = github.client.edit_comment(REPO, created.id, f"{MARKER}\nsecond")
    assert (edited.id, edited.body) == (created.id, f"{MARKER}\nsecond")
    assert [(c.id, c.body) for c in github.client.list_comments(REPO, number)] == [(created.id, f"{MARKER}\nsecond")]


def test_the_bots_comment_is_found_again_by_its_marker_among_other_comments(github):
    number = github.open_pull(BASE, HEAD)
    github.person_comment(number, "reviewer", "looks good")
    ours = github.client.create_comment(REPO, number, f"{MARKER}\nsummary")
    github.person_comment(number, "newcomer", f"quoting you: {MARKER[:10]}")
    found = [c for c in github.client.list_comments(REPO, number) if MARKER in c.body]
    assert [(c.id, c.author) for c in found] == [(ours.id, github.bot_login)]


def test_comments_past_one_page_are_all_listed_in_order(github):
    number = github.open_pull(BASE, HEAD)
    seeded = [github.person_comment(number, f"user{i}", f"comment {i}") for i in range(120)]
    last = github.client.create_comment(REPO, number, "the bot's")
    assert [c.id for c in github.client.list_comments(REPO, number)] == [*seeded, last.id]


def test_a_comment_on_a_missing_pull_is_not_found_and_nothing_is_written(github):
    number = github.open_pull(BASE, HEAD)
    refused(github, 404, github.client.create_comment, REPO, 999, "hello")
    assert github.client.list_comments(REPO, 999) == [] and github.client.list_comments(REPO, number) == []


def test_an_overlong_comment_is_refused_and_nothing_is_written(github):
    number = github.open_pull(BASE, HEAD)
    refused(github, 422, github.client.create_comment, REPO, number, "x" * 65537)
    assert github.client.list_comments(REPO, number) == []
    assert github.client.create_comment(REPO, number, "x" * 65536).body == "x" * 65536  # the limit itself is fine


def test_someone_elses_comment_cannot_be_edited(github):
    number = github.open_pull(BASE, HEAD)
    theirs = github.person_comment(number, "reviewer", "my words")
    refused(github, 403, github.client.edit_comment, REPO, theirs, "rewritten")
    assert [c.body for c in github.client.list_comments(REPO, number)] == ["my words"]
    refused(github, 404, github.client.edit_comment, REPO, 987654321, "nothing there")


# ---- reactions and labels ----------------------------------------------------------------------------

def test_the_same_reaction_twice_is_one_reaction(github):
    number = github.open_pull(BASE, HEAD)
    comment = github.person_comment(number, "maintainer", "/generate")
    github.client.add_reaction(REPO, comment, "eyes")
    github.client.add_reaction(REPO, comment, "eyes")
    github.client.add_reaction(REPO, comment, "rocket")
    assert github.reactions(comment) == ["eyes", "rocket"]


def test_an_unknown_reaction_or_comment_is_refused(github):
    number = github.open_pull(BASE, HEAD)
    comment = github.person_comment(number, "maintainer", "/generate")
    refused(github, 422, github.client.add_reaction, REPO, comment, "👀")
    refused(github, 404, github.client.add_reaction, REPO, 987654321, "eyes")
    assert github.reactions(comment) == []


def test_labels_are_a_set_kept_in_the_order_first_added(github):
    number = github.open_pull(BASE, HEAD)
    github.client.add_labels(REPO, number, ["skill"])
    github.client.add_labels(REPO, number, ["knowledge", "skill"])
    assert github.labels(number) == ["skill", "knowledge"]
    refused(github, 404, github.client.add_labels, REPO, 999, ["skill"])


# ---- check runs ----------------------------------------------------------------------------------------

def test_a_check_run_accumulates_annotations_over_updates_and_completes(github):
    number = github.open_pull(BASE, HEAD)
    sha = github.client.get_pull(REPO, number).head_sha
    checks = github.client
    run = checks.create_check_run(REPO, "arborist/validate", sha, "in_progress", external_id="d-1",
                                  output=CheckRunOutput("Validating…", "Reading the files."))
    assert (run.name, run.head_sha, run.status, run.conclusion) == ("arborist/validate", sha, "in_progress", None)
    assert run.html_url.endswith(f"/{REPO}/runs/{run.id}")
    checks.update_check_run(REPO, run.id, status="in_progress", output=CheckRunOutput("t", "s", annotations=ann(50)))
    done = checks.update_check_run(REPO, run.id, conclusion="failure", details_url="https://ci.test/run/1",
                                   output=CheckRunOutput("2 problems", "summary", "details", ann(20)))
    assert (done.id, done.status, done.conclusion, done.details_url) == (run.id, "completed", "failure",
                                                                         "https://ci.test/run/1")
    [seen] = github.check_runs()
    assert (seen.status, seen.conclusion, seen.title, seen.summary, seen.text) == ("completed", "failure",
                                                                                   "2 problems", "summary", "details")
    assert len(seen.annotations) == 70 and seen.annotations[0] == ("knowledge/a/qna.yaml", 1, 1, "failure", "problem 0")
    assert seen.external_id == "d-1"


def test_more_than_fifty_annotations_in_one_request_are_refused_and_change_nothing(github):
    number = github.open_pull(BASE, HEAD)
    sha = github.client.get_pull(REPO, number).head_sha
    run = github.client.create_check_run(REPO, "arborist/validate", sha, "in_progress",
                                         output=CheckRunOutput("t", "s", annotations=ann(3)))
    refused(github, 422, github.client.update_check_run, REPO, run.id, conclusion="failure",
            output=CheckRunOutput("t2", "s2", annotations=ann(51)))
    [seen] = github.check_runs()
    assert (seen.status, seen.conclusion, seen.title, len(seen.annotations)) == ("in_progress", None, "t", 3)
    refused(github, 422, github.client.create_check_run, REPO, "other", sha, "in_progress",
            output=CheckRunOutput("t", "s", annotations=ann(51)))
    assert len(github.check_runs()) == 1


def test_a_conclusion_completes_a_run_and_completing_without_one_is_refused(github):
    number = github.open_pull(BASE, HEAD)
    sha = github.client.get_pull(REPO, number).head_sha
    quick = github.client.create_check_run(REPO, "quick", sha, "in_progress", conclusion="success",
                                           output=CheckRunOutput("ok", "nothing to check"))
    assert (quick.status, quick.conclusion) == ("completed", "success")
    refused(github, 422, github.client.create_check_run, REPO, "bad", sha, "completed")
    slow = github.client.create_check_run(REPO, "slow", sha, "queued")
    refused(github, 422, github.client.update_check_run, REPO, slow.id, status="completed")
    assert [(r.name, r.status, r.conclusion) for r in github.check_runs()] == [("quick", "completed", "success"),
                                                                                ("slow", "queued", None)]
    refused(github, 404, github.client.update_check_run, REPO, 987654321, conclusion="success")


# ---- people and Actions ----------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["admin", "maintain", "write", "triage", "read"])
def test_a_collaborators_permission_is_their_role(github, role):
    github.set_permission("someone", role)
    assert github.client.get_collaborator_permission(REPO, "someone") == role


def test_a_stranger_has_no_permission_and_teams_know_their_members(github):
    github.add_team_member("octo", "reviewers", "maint")
    assert github.client.get_collaborator_permission(REPO, "drive-by") == "none"
    assert github.client.is_team_member("octo", "reviewers", "maint")
    assert not github.client.is_team_member("octo", "reviewers", "drive-by")
    assert not github.client.is_team_member("octo", "no-such-team", "maint")


def test_a_dispatch_and_a_cancel_are_recorded_as_asked(github):
    ref = github.client.dispatch_workflow(REPO, "arborist-gpu.yml", "main", {"job": "12", "kind": "retrain"})
    assert (ref.workflow, ref.ref, ref.inputs) == ("arborist-gpu.yml", "main", {"job": "12", "kind": "retrain"})
    github.client.cancel_workflow_run(REPO, 4242)
    assert github.dispatches() == [("arborist-gpu.yml", "main", {"job": "12", "kind": "retrain"})]
    assert github.cancelled_runs() == [4242]
