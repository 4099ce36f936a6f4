"""retrain.require_approval: the retrain's tree holds only approved PRs' leaves, and a rerun with more approvals is right."""

from __future__ import annotations

from ci.approval import HeldBack, parse_approved, render_held, unapproved
from tests.ci.test_retrain import CONFIG, FACTS, leaf, retrain_env  # noqa: F401 - the shared repository fixture
from tests.gitrepo import commit

FACTS_LEAF = "compositional_skills/trivia/facts/qna.yaml"  # merged from PR #5 in retrain_env
WORDS_LEAF = "compositional_skills/linguistics/synonyms/qna.yaml"  # squashed from PR #7
REQUIRED = CONFIG.replace(b"retrain:\n", b"retrain:\n  require_approval: true\n")


def prepare(tmp, sha: str, approved: str):
    from ci.env import CiEnv
    from ci.retrain import apply_approvals, checkout, parse_args, repo_config, settings_from_environ

    tree = tmp / "data" / "retrain" / sha / "tree"
    checkout(tree, "acme/taxonomy", sha, CiEnv.from_environ())
    config, problems = repo_config(tree)
    assert config.retrain.require_approval and problems == []
    args = parse_args(["--repo", "acme/taxonomy", "--sha", sha, "--job-id", "1", "--approved", approved])
    return tree, apply_approvals(tree, args, config, settings_from_environ())


def test_a_new_leaf_of_an_unapproved_pr_is_left_out_until_its_pr_is_approved(retrain_env):  # noqa: F811
    _, tmp, _ = retrain_env
    repo = tmp / "git" / "acme" / "taxonomy.git"
    sha = commit(repo, {".github/arborist.yml": REQUIRED}, "Require approvals")  # a maintainer's push, no PR
    tree, held = prepare(tmp, sha, "5,not-a-number")
    assert held == [HeldBack(WORDS_LEAF, 7, kept_previous=False)]
    assert not (tree / WORDS_LEAF).exists() and (tree / FACTS_LEAF).is_file()
    assert "`compositional_skills/linguistics/synonyms/qna.yaml` from #7: a new leaf, left out" in render_held(held)
    tree, held = prepare(tmp, sha, "5,7")  # the same commit again (a retried job), now approved
    assert held == [] and (tree / WORDS_LEAF).read_bytes().startswith(b"version: 2")


def test_a_modified_leaf_of_an_unapproved_pr_keeps_its_released_version(retrain_env, monkeypatch):  # noqa: F811
    import ci.retrain

    released, tmp, _ = retrain_env
    repo = tmp / "git" / "acme" / "taxonomy.git"
    released = commit(repo, {".github/arborist.yml": REQUIRED}, "Require approvals")
    sharper = leaf("Answer trivia, sharply.", FACTS)
    sha = commit(repo, {FACTS_LEAF: sharper}, "Sharpen the trivia task (#9)")
    monkeypatch.setattr(ci.retrain, "previous_taxonomy_sha", lambda config, settings: released)
    tree, held = prepare(tmp, sha, "")
    assert held == [HeldBack(FACTS_LEAF, 9, kept_previous=True)]  # #5 and #7 were released already
    assert b"Answer trivia." in (tree / FACTS_LEAF).read_bytes() and (tree / WORDS_LEAF).is_file()
    tree, held = prepare(tmp, sha, "9")
    assert held == [] and (tree / FACTS_LEAF).read_bytes() == sharper


def test_only_prs_need_approval_and_removals_need_none():
    changes = [("a/qna.yaml", "added"), ("b/qna.yaml", "modified"), ("c/qna.yaml", "removed"), ("d/qna.yaml", "added")]
    by_leaf = {"a/qna.yaml": 1, "b/qna.yaml": 2, "c/qna.yaml": 3}  # d: a direct push by a maintainer
    assert unapproved(changes, by_leaf, {2}) == [("a/qna.yaml", 1, "added")]
    assert parse_approved(" 4, 5,,x,6 ") == {4, 5, 6} and parse_approved(None) == set()
    assert render_held([]) == ""
