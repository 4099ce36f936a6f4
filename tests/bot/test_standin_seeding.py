"""The GitHub stand-in's seeding helpers: what a seeded commit, comment or merge looks like over HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from sandbox.standins.github import GitHubState, serve_in_thread

REPO = "octo/taxonomy"
GIT_SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def served():
    """An auth-less stand-in (no App key) with one repo and a PR that adds a leaf and removes the README."""
    state = GitHubState()
    state.add_repo(REPO, files={"README.md": "hello\n", "LICENSE": "MIT\n"})
    state.commit(REPO, "leaf", {"knowledge/a/qna.yaml": "version: 3\n", "README.md": None})
    number = state.open_pull(REPO, "leaf", author="newcomer")
    with serve_in_thread(state) as running:
        yield running, number


def _get(running, path: str):
    with urllib.request.urlopen(f"{running.base_url}{path}") as answer:
        return json.load(answer)


def test_commit_with_explicit_sha_is_served_under_that_sha(served):
    running, _ = served
    sha = running.state.commit(REPO, "mirror", {"only.txt": "x\n"}, "mirrored", sha=GIT_SHA, whole_tree=True)
    assert sha == GIT_SHA == running.state.head_sha(REPO, "mirror")
    assert _get(running, f"/repos/{REPO}/contents/only.txt?ref={GIT_SHA}")["size"] == 2
    with pytest.raises(urllib.error.HTTPError):  # whole_tree: nothing of the parent's tree carried over
        _get(running, f"/repos/{REPO}/contents/LICENSE?ref={GIT_SHA}")


def test_added_comment_is_listed_with_the_authors_association(served):
    running, number = served
    running.state.set_permission(REPO, "maintainer", "write")
    running.state.add_comment(REPO, number, "maintainer", "/generate")
    running.state.add_comment(REPO, number, "passer-by", "nice")
    listed = _get(running, f"/repos/{REPO}/issues/{number}/comments")
    assert [(c["user"]["login"], c["body"], c["author_association"]) for c in listed] == [
        ("maintainer", "/generate", "COLLABORATOR"), ("passer-by", "nice", "NONE")]
    with pytest.raises(KeyError):
        running.state.add_comment(REPO, number + 1, "maintainer", "no such PR")


def test_merge_without_sha_commits_the_heads_changes_onto_the_base(served):
    running, number = served
    sha = running.state.merge_pull(REPO, number)
    assert running.state.head_sha(REPO, "main") == sha
    tree = running.state.repos[REPO].commits[sha]
    assert set(tree) == {"LICENSE", "knowledge/a/qna.yaml"}  # added file in, removed file out
    pull = _get(running, f"/repos/{REPO}/pulls/{number}")
    assert (pull["state"], pull["merged"], pull["merge_commit_sha"]) == ("closed", True, sha)
    assert pull["merged_at"] and pull["closed_at"]
    with pytest.raises(ValueError):
        running.state.merge_pull(REPO, number)


def test_merge_onto_a_known_sha_moves_the_base_there(served):
    running, number = served
    running.state.commit(REPO, "main", {"merged.txt": "yes\n"}, "Merge #1", sha=GIT_SHA)
    assert running.state.merge_pull(REPO, number, sha=GIT_SHA) == GIT_SHA
    assert running.state.head_sha(REPO, "main") == GIT_SHA
    assert _get(running, f"/repos/{REPO}/pulls/{number}")["merge_commit_sha"] == GIT_SHA
