"""`lab evaluate` end to end on a tiny model trained on the taxonomy's own seeds."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from lab.evaluate.runner import EvalOptions, evaluate
from tests.conftest import REPO_ROOT
from tests.lab.evaluate.conftest import EXTRACTION, FACTS

OPTIONS = EvalOptions(max_new_tokens=24, progress=False)


@pytest.mark.slow
def test_trained_model_improves_on_its_base_and_the_gate_passes(trained_dir, tiny_llama_dir, taxonomy_root):
    report = evaluate(str(trained_dir), taxonomy_root, str(tiny_llama_dir), OPTIONS, log=lambda s: None)
    rouge = report["metrics"]["rouge_l"]
    assert rouge["n"] == len(FACTS) + len(EXTRACTION)
    assert rouge["value"] > 0.8 > rouge["baseline"]
    assert rouge["delta"]["verdict"] == "improved" and rouge["delta"]["ci"][0] > 0
    assert report["gate"]["passed"] and report["gate"]["decision"] == "pass"
    leaves = {e["leaf"]: e for e in report["leaves"]}
    assert set(leaves) == {"compositional_skills/trivia/facts/qna.yaml", "compositional_skills/grounded/owners/qna.yaml"}
    assert leaves["compositional_skills/trivia/facts/qna.yaml"]["verdict"] == "improved"
    assert set(report["domains"]) == {"trivia", "grounded"}
    answered = {row["question"]: row["answer"] for row in report["items"]}
    assert answered[FACTS[0][0]] == FACTS[0][1]  # the effect, not only a number


@pytest.mark.slow
def test_a_regressed_model_is_blocked_by_the_gate(trained_dir, tiny_llama_dir, taxonomy_root):
    report = evaluate(str(tiny_llama_dir), taxonomy_root, str(trained_dir), OPTIONS, log=lambda s: None)
    assert report["metrics"]["rouge_l"]["delta"]["verdict"] == "regressed"
    assert not report["gate"]["passed"] and "regressed" in report["gate"]["reason"]


@pytest.mark.slow
def test_lab_evaluate_writes_json_and_markdown_with_heldout_perplexity(trained_dir, tiny_llama_dir, taxonomy_root, tmp_path):
    from tests.lab.evaluate.conftest import seed_training_data

    heldout = seed_training_data(taxonomy_root, tmp_path / "held") / "skills_train_msgs.jsonl"
    out = tmp_path / "report.json"
    result = subprocess.run(
        [sys.executable, "-m", "lab.cli", "evaluate", str(trained_dir), "--baseline", str(tiny_llama_dir),
         "--taxonomy", str(taxonomy_root), "--out", str(out), "--heldout", str(heldout), "--max-new-tokens", "24", "--gate"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "gate: pass" in result.stdout
    report = json.loads(out.read_text())
    perplexity = report["metrics"]["perplexity"]
    assert perplexity["value"] < perplexity["baseline"]  # trained on exactly these answers
    markdown = out.with_suffix(".md").read_text()
    assert "**Gate: PASS**" in markdown and "compositional_skills/trivia/facts/qna.yaml" in markdown


def test_a_taxonomy_without_seed_questions_is_a_clear_error(tiny_llama_dir, tmp_path):
    with pytest.raises(ValueError, match="no leaf with seed questions"):
        evaluate(str(tiny_llama_dir), tmp_path, None, OPTIONS, log=lambda s: None)


@pytest.mark.corpus
def test_real_taxonomy_leaves_become_prompted_items_with_grounded_context(shared_fixtures):
    from lab.evaluate.items import items_from_leaves, load_leaves

    leaves, problems = load_leaves(shared_fixtures / "taxonomy")
    items = items_from_leaves(leaves)
    assert len(leaves) > 10 and len(items) >= len(leaves)
    grounded = [i for i in items if i.kind == "grounded_skill"]
    assert grounded, "the real taxonomy has grounded skills"
    leaf_by_path = {leaf.path: leaf for leaf in leaves}
    sample = grounded[0]
    context = next(s.context for s in leaf_by_path[sample.leaf].seeds if s.question == sample.question)
    assert sample.messages[-1]["role"] == "user" and sample.messages[-1]["content"].startswith(context)
    assert all(i.messages[-1]["content"].endswith(i.question) for i in items)
