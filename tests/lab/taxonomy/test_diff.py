"""`lab diff` / changed_leaves on real git repositories built in a temporary folder."""

from __future__ import annotations

import json
import subprocess

import pytest

from lab.cli import main
from lab.taxonomy.diff import DiffError, LeafDiff, changed_leaves, merge_base, since_release

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.org", "GIT_CONFIG_NOSYSTEM": "1", "HOME": "/nonexistent"}


def git(repo, *args):
    import os

    env = {**os.environ, **GIT_ENV}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env,
                          text=True).stdout.strip()


def write(repo, path, text):
    file = repo / path
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(text)


@pytest.fixture
def repo(tmp_path):
    """main: three leaves. feature (forked from main): add, modify, delete, rename. main moves on after."""
    git(tmp_path, "init", "-q", "-b", "main")
    write(tmp_path, "knowledge/a/qna.yaml", "version: 3\n")
    write(tmp_path, "compositional_skills/b/qna.yaml", "created_by: bob\ntask_description: one two three\n")
    write(tmp_path, "compositional_skills/c/qna.yaml", "version: 3\nc: long enough to be detected as a rename\n")
    write(tmp_path, "README.md", "readme\n")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "base")
    git(tmp_path, "checkout", "-q", "-b", "feature")
    write(tmp_path, "knowledge/new/qna.yaml", "domain: astronomy\ndocument: {repo: x}\n")
    write(tmp_path, "knowledge/a/qna.yaml", "version: 3\nchanged: yes\n")
    (tmp_path / "compositional_skills/b/qna.yaml").unlink()
    git(tmp_path, "mv", "compositional_skills/c", "compositional_skills/c2")
    write(tmp_path, "README.md", "readme changed\n")
    write(tmp_path, "knowledge/a/notes.yml", "not a leaf\n")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "feature")
    git(tmp_path, "checkout", "-q", "main")
    write(tmp_path, "foundational_skills/only_on_main/qna.yaml", "x: 1\n")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "main moves on")
    git(tmp_path, "checkout", "-q", "feature")
    return tmp_path


EXPECTED = [
    LeafDiff("compositional_skills/b/qna.yaml", "deleted"),
    LeafDiff("compositional_skills/c2/qna.yaml", "renamed", "compositional_skills/c/qna.yaml"),
    LeafDiff("knowledge/a/qna.yaml", "modified"),
    LeafDiff("knowledge/new/qna.yaml", "added"),
]


def test_changes_are_counted_from_the_merge_base_not_from_the_tip_of_base(repo):
    assert changed_leaves(repo, "main", "feature") == EXPECTED
    assert merge_base(repo, "main", "feature") == git(repo, "rev-parse", "main~1")


def test_without_head_the_working_tree_and_untracked_leaves_count(repo):
    write(repo, "knowledge/draft/qna.yaml", "version: 3\n")
    write(repo, "compositional_skills/c2/qna.yaml", "edited in the working tree, not committed\n")
    changes = changed_leaves(repo, "main")
    assert LeafDiff("knowledge/draft/qna.yaml", "added") in changes
    assert [c.status for c in changes if c.path == "compositional_skills/c2/qna.yaml"] in (["renamed"], ["added"])


def test_since_a_release_the_two_trees_are_compared_in_a_releases_words(repo):
    # from main's tip (a "released" commit that is not an ancestor of feature): the leaf only main has counts
    # as removed, a moved leaf is its old path removed and its new path added, and nothing is "deleted"/"renamed"
    assert since_release(repo, "main", "feature") == [
        ("compositional_skills/b/qna.yaml", "removed"),
        ("compositional_skills/c/qna.yaml", "removed"),
        ("compositional_skills/c2/qna.yaml", "added"),
        ("foundational_skills/only_on_main/qna.yaml", "removed"),
        ("knowledge/a/qna.yaml", "modified"),
        ("knowledge/new/qna.yaml", "added"),
    ]
    assert since_release(repo, "feature", "feature") == []
    with pytest.raises(DiffError, match="revision"):
        since_release(repo, "--output=/tmp/pwned", "feature")


def test_taxonomy_root_can_be_a_folder_inside_the_repository(tmp_path):
    git(tmp_path, "init", "-q", "-b", "main")
    write(tmp_path, "data/taxonomy/knowledge/a/qna.yaml", "version: 3\n")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "one")
    write(tmp_path, "data/taxonomy/knowledge/b/qna.yaml", "version: 3\n")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "two")
    assert changed_leaves(tmp_path / "data" / "taxonomy", "HEAD~1", "HEAD") == [
        LeafDiff("knowledge/b/qna.yaml", "added")]


@pytest.mark.parametrize("revision", ["no-such-branch", "--output=/tmp/pwned", ""])
def test_bad_revisions_raise_a_clear_error(repo, revision):
    with pytest.raises(DiffError, match="revision"):
        changed_leaves(repo, revision, "feature")


def test_not_a_repository_is_a_clear_error(tmp_path):
    with pytest.raises(DiffError):
        changed_leaves(tmp_path, "main")


def test_cli_prints_text_and_json_and_exits_2_on_bad_input(repo, capsys):
    assert main(["diff", "--taxonomy", str(repo), "main", "feature"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == ["deleted  compositional_skills/b/qna.yaml",
                   "renamed  compositional_skills/c/qna.yaml -> compositional_skills/c2/qna.yaml",
                   "modified knowledge/a/qna.yaml", "added    knowledge/new/qna.yaml"]
    assert main(["diff", "--taxonomy", str(repo), "main", "feature", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["merge_base"] == git(repo, "rev-parse", "main~1")
    assert [LeafDiff(**c) for c in data["changes"]] == EXPECTED
    assert main(["diff", "--taxonomy", str(repo), "nope"]) == 2
    assert "unknown revision" in capsys.readouterr().err
