"""`python -m ci.generate` against a local taxonomy repository: checkout as data, diff, validate, generate, report."""

from __future__ import annotations

import json

import pytest

from ci.generate import main, pick_leaves
from schemas.steplines import Result, parse_line
from tests.gitrepo import commit, git
from tests.lab.generate.conftest import FREEFORM as LEAF

ATTRIBUTION = (b"Title of work: Synonyms\nLink to work: https://example.org/synonyms\n"
               b"License of the work: CC-BY-4.0\nCreator names: tester\n")
CONFIG = b"generate:\n  samples: 2\n  teacher: scripted\n"
NEW_LEAF = "compositional_skills/linguistics/synonyms/qna.yaml"


@pytest.fixture
def taxonomy(tmp_path, monkeypatch):
    """A repo `acme/taxonomy` with config and one leaf on main; returns (repo path, make_pr)."""
    repo = tmp_path / "git" / "acme" / "taxonomy.git"
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    commit(repo, {".github/arborist.yml": CONFIG, "README.md": b"taxonomy\n"}, "base")
    monkeypatch.setenv("ARBORIST_GIT_URL_TEMPLATE", (tmp_path / "git").as_uri() + "/{repo}.git")
    monkeypatch.setenv("ARBORIST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ARBORIST_REPORT", "stdout")
    monkeypatch.delenv("ARBORIST_CACHE_DIR", raising=False)
    monkeypatch.delenv("GITHUB_RUN_ID", raising=False)

    def make_pr(files: dict[str, bytes]) -> str:
        git(repo, "checkout", "-q", "-b", f"pr-{len(files)}-{abs(hash(tuple(files)))}")
        sha = commit(repo, files, "contribution")
        git(repo, "checkout", "-q", "main")
        commit(repo, {"README.md": b"taxonomy, moved on\n"}, "main moves on after the PR branched")
        return sha

    return repo, make_pr


def run_pr_step(step_main, capsys, job_id: int, sha: str, *extra: str) -> tuple[int, Result, str]:
    """A PR step's `main` on PR 7 of acme/taxonomy at `sha`: (its exit code, its one result line, its stdout)."""
    code = step_main(["--repo", "acme/taxonomy", "--pr", "7", "--sha", sha, "--job-id", str(job_id), *extra])
    out = capsys.readouterr().out
    results = [r for r in map(parse_line, out.splitlines()) if isinstance(r, Result)]
    assert len(results) == 1, out[-2000:]
    return code, results[0], out


def run_step(capsys, sha: str, *extra: str) -> tuple[int, Result]:
    code, result, _ = run_pr_step(main, capsys, 3, sha, *extra)
    return code, result


def test_changed_leaf_gets_samples_keep_rates_and_a_data_location(taxonomy, capsys, tmp_path):
    _, make_pr = taxonomy
    sha = make_pr({NEW_LEAF: LEAF, NEW_LEAF.replace("qna.yaml", "attribution.txt"): ATTRIBUTION})
    code, result = run_step(capsys, sha)
    assert code == 0 and result.conclusion == "success", result.summary
    assert result.title == "2 synthetic rows for 1 changed leaf"
    assert "<details><summary><code>compositional_skills/linguistics/synonyms/qna.yaml</code>: 2 rows" in result.summary
    assert "**Sample 2**" in result.summary and "| parse:question |" in result.summary
    out = tmp_path / "data" / "generate" / "job-3" / "out"
    assert str(out) in result.summary
    rows = [json.loads(x) for x in (out / "skills_train_msgs.jsonl").read_text().splitlines()]
    assert len(rows) == 2 and rows[0]["metadata"]["leaf"] == NEW_LEAF
    assert not (tmp_path / "data" / "generate" / "job-3" / "tree").exists()  # the PR checkout is cleaned up


def test_invalid_changed_leaf_is_refused_with_its_findings(taxonomy, capsys, tmp_path):
    _, make_pr = taxonomy
    sha = make_pr({NEW_LEAF: b"version: 2\ncreated_by: x\nseed_examples: not a list\n"})
    code, result = run_step(capsys, sha)
    assert code == 1 and result.conclusion == "failure"
    assert "invalid" in result.title and NEW_LEAF in result.summary
    assert not (tmp_path / "data" / "generate" / "job-3" / "out").exists()


def test_pr_without_leaf_changes_has_nothing_to_generate(taxonomy, capsys):
    _, make_pr = taxonomy
    sha = make_pr({"docs/notes.md": b"just docs\n"})
    code, result = run_step(capsys, sha)
    assert code == 0 and result.title == "no changed leaves"


def test_unknown_commit_fails_with_a_readable_reason(taxonomy, capsys):
    code, result = run_step(capsys, "0" * 40)
    assert code == 1 and result.title == "could not read the pull request"


def test_leaf_arguments_narrow_to_changed_leaves_only():
    changed = ["compositional_skills/a/qna.yaml", "compositional_skills/b/c/qna.yaml"]
    assert pick_leaves([], changed) == changed
    assert pick_leaves(["compositional_skills/b"], changed) == ["compositional_skills/b/c/qna.yaml"]
    assert pick_leaves(["compositional_skills/a/qna.yaml", "knowledge/x"], changed) == changed[:1]


def test_a_pr_never_reads_local_documents_even_when_the_runner_allows_them(taxonomy, capsys, tmp_path, monkeypatch):
    from tests.lab.generate.conftest import make_doc_repo
    from tests.lab.taxonomy.conftest import EXAMPLES, KNOWLEDGE_PATH

    secret_repo, commit_sha = make_doc_repo(tmp_path / "runner-secrets")
    monkeypatch.setenv("ARBORIST_ALLOW_LOCAL_DOCS", "1")  # the operator's opt-in for their own `lab` runs
    leaf = (EXAMPLES / KNOWLEDGE_PATH).read_text().replace(
        "https://github.com/arborist-examples/astronomy-notes", str(secret_repo))
    leaf = leaf.replace("8f14e45fceea167a5a36dedd4bea2543f1a0c1b2", commit_sha)
    _, make_pr = taxonomy
    sha = make_pr({KNOWLEDGE_PATH: leaf.encode(),
                   KNOWLEDGE_PATH.replace("qna.yaml", "attribution.txt"): ATTRIBUTION})
    code, result = run_step(capsys, sha)
    assert code == 1 and "invalid" in result.title and "document-repo" in result.summary
    assert "Mars" not in result.summary and not (tmp_path / "data" / "generate" / "job-3" / "out").exists()


def test_the_base_branch_config_severities_apply_to_the_pr_leaves(taxonomy, capsys, tmp_path):
    repo, make_pr = taxonomy
    commit(repo, {".github/arborist.yml": CONFIG + b"validation:\n  severity:\n    attribution-missing: 'off'\n"},
           "maintainers relax a rule")
    sha = make_pr({NEW_LEAF: LEAF})  # no attribution.txt: an error by default, off in this repository
    code, result = run_step(capsys, sha)
    assert code == 0 and result.conclusion == "success", result.summary
