"""`python -m ci.precheck` against a local taxonomy repository and the tiny model: checkout as data, ask, report."""

from __future__ import annotations

import pytest

from ci.precheck import main
from schemas.steplines import Result
from tests.ci.test_generate import ATTRIBUTION, NEW_LEAF, run_pr_step, taxonomy  # noqa: F401 - the shared repository fixture
from tests.conftest import REPO_ROOT
from tests.lab.generate.conftest import FREEFORM

GROUNDED_LEAF = "compositional_skills/grounded/extraction/meeting_actions/qna.yaml"
GROUNDED = (REPO_ROOT / "examples" / "taxonomy" / GROUNDED_LEAF).read_bytes()
HOSTILE = FREEFORM.replace(b"What is a synonym for happy?", b"'@victim | ![x](https://evil.example/x.png) happy?'")


@pytest.fixture
def base_model(tiny_llama_dir, monkeypatch):
    monkeypatch.setenv("ARBORIST_BASE_MODEL", str(tiny_llama_dir))
    monkeypatch.delenv("ARBORIST_RELEASE_DIR", raising=False)
    return tiny_llama_dir


def run_step(capsys, sha: str, *extra: str) -> tuple[int, Result, str]:
    return run_pr_step(main, capsys, 4, sha, *extra)


def test_every_seed_question_of_the_changed_leaves_is_asked_scored_and_reported(taxonomy, base_model, capsys, tmp_path):  # noqa: F811
    _, make_pr = taxonomy
    sha = make_pr({NEW_LEAF: HOSTILE, NEW_LEAF.replace("qna.yaml", "attribution.txt"): ATTRIBUTION,
                   GROUNDED_LEAF: GROUNDED, GROUNDED_LEAF.replace("qna.yaml", "attribution.txt"): ATTRIBUTION})
    code, result, out = run_step(capsys, sha)
    assert code == 0 and result.conclusion == "success", result.summary
    assert result.title.endswith("of 10 seed questions already answered well")
    assert result.summary.startswith("**Verdict:** the model")
    assert f"`{NEW_LEAF}`" in result.summary and f"`{GROUNDED_LEAF}`" in result.summary
    assert "grounded skill, asked with the leaf's context" in result.summary
    assert f"`base model {base_model.name}`" in result.summary
    rows = [line for line in result.summary.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert len(rows) == 10 and "`Joyful.`" in result.summary
    (hostile_row,) = [row for row in rows if "@victim" in row]
    assert hostile_row.count("`@victim \\| ![x](https://evil.example/x.png) happy?`") == 1
    assert "answered 10 of 10 seed questions" in out  # progress while the model answers
    assert not (tmp_path / "data" / "precheck" / "job-4" / "tree").exists()  # the PR checkout is cleaned up


def test_the_question_limit_is_reported_as_questions_not_asked(taxonomy, base_model, capsys):  # noqa: F811
    _, make_pr = taxonomy
    sha = make_pr({NEW_LEAF: FREEFORM, NEW_LEAF.replace("qna.yaml", "attribution.txt"): ATTRIBUTION})
    code, result, _ = run_step(capsys, sha, "--max-questions", "2")
    assert code == 0 and result.title.endswith("of 2 seed questions already answered well")
    assert "3 more seed questions were not asked" in result.summary


def test_an_invalid_leaf_is_refused_with_its_findings_and_no_model_is_asked(taxonomy, capsys, monkeypatch):  # noqa: F811
    monkeypatch.setenv("ARBORIST_BASE_MODEL", "/nonexistent/model")
    _, make_pr = taxonomy
    sha = make_pr({NEW_LEAF: b"version: 2\ncreated_by: x\nseed_examples: not a list\n"})
    code, result, _ = run_step(capsys, sha)
    assert code == 1 and "invalid" in result.title and NEW_LEAF in result.summary


def test_no_model_configured_fails_with_what_to_set(taxonomy, capsys, monkeypatch):  # noqa: F811
    monkeypatch.delenv("ARBORIST_BASE_MODEL", raising=False)
    monkeypatch.delenv("ARBORIST_RELEASE_DIR", raising=False)
    _, make_pr = taxonomy
    sha = make_pr({NEW_LEAF: FREEFORM, NEW_LEAF.replace("qna.yaml", "attribution.txt"): ATTRIBUTION})
    code, result, _ = run_step(capsys, sha)
    assert code == 1 and result.title == "no model to ask" and "ARBORIST_BASE_MODEL" in result.summary


def test_a_pr_without_leaf_changes_has_nothing_to_ask(taxonomy, capsys):  # noqa: F811
    _, make_pr = taxonomy
    code, result, _ = run_step(capsys, make_pr({"docs/notes.md": b"just docs\n"}))
    assert code == 0 and result.title == "no changed leaves"


def test_a_configured_judge_scores_each_answer_beside_rouge_and_its_words_stay_inert(taxonomy, base_model, capsys,  # noqa: F811
                                                                                    monkeypatch):
    import json

    from tests.lab.generate.stub_server import StubServer, chat_reply

    def respond(body, index):
        graded = body["messages"][-1]["content"]
        if "Rapid" in graded:
            return 200, chat_reply("this is not the JSON asked for"), {}, 0.0
        reason = "@victim close enough | ![x](https://evil.example/x.png)" if "Joyful" in graded else "Wrong word."
        return 200, chat_reply(json.dumps({"score": 7 if "Joyful" in graded else 2, "reason": reason})), {}, 0.0

    _, make_pr = taxonomy
    sha = make_pr({NEW_LEAF: FREEFORM, NEW_LEAF.replace("qna.yaml", "attribution.txt"): ATTRIBUTION})
    with StubServer(respond) as judge:
        monkeypatch.setenv("ARBORIST_JUDGE", judge.url)
        code, result, _ = run_step(capsys, sha)
        asked = len(judge.requests)
    assert code == 0 and result.conclusion == "success", result.summary
    assert asked == 5 and "judge (1-10)" in result.summary and "A judge model" in result.summary
    rows = [line for line in result.summary.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert len(rows) == 5 and sum("| – |" in row for row in rows) == 1  # the reply that was not a score
    assert any("7/10 `@victim close enough \\| ![x](https://evil.example/x.png)`" in row for row in rows)
    assert sum("2/10 `Wrong word.`" in row for row in rows) == 3
