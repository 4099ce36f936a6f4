"""The model card's leaves table says what each leaf did on its own seed questions, measured, honestly."""

from __future__ import annotations

from lab.publish.card import render_card
from lab.publish.release import LeafChange, ReleaseInfo
from tests.lab.evaluate.test_impact import _report

A, B = "knowledge/a/qna.yaml", "knowledge/b|pipe/qna.yaml"


def _card(evaluation: dict) -> str:
    info = ReleaseInfo(taxonomy_repo="acme/taxonomy", taxonomy_sha="9" * 40, evaluation=evaluation, leaves=[
        LeafChange(A, "added", 4, "https://github.com/acme/taxonomy/pull/4"), LeafChange(B, "modified", 5),
        LeafChange("knowledge/gone/qna.yaml", "removed", 6)])
    return render_card(info, "v1", "acme/model", [])


def _row(card: str, leaf: str) -> str:
    return next(line for line in card.splitlines() if line.startswith(f"| `{leaf}")) + "\n"


def test_each_leaf_row_carries_its_before_after_interval_and_verdict():
    evaluation = _report({A: [0.8, 0.9, 0.7, 0.8, 0.85], B: [0.4] * 5}, {A: [0.2, 0.25, 0.1, 0.3, 0.2], B: [0.4] * 5})
    [entry] = [e for e in evaluation["leaves"] if e["leaf"] == A]
    low, high = entry["delta"]["rouge_l"]["ci"]
    card = _card(evaluation)
    assert f"0.21 → 0.81 on its 5 questions, 95% CI {low:+.2f}..{high:+.2f}: improved |" in _row(card, A)
    row_b = _row(card, "knowledge/b\\|pipe")  # a pipe in a path cannot open a new cell
    assert row_b.count(" | ") == 3 and "0.40 → 0.40" in row_b and "no measurable change" in row_b
    assert _row(card, "knowledge/gone").rstrip().endswith("| not evaluated |")


def test_without_an_evaluation_no_leaf_is_said_to_have_changed_anything():
    card = _card({})
    assert "improved" not in card and _row(card, A).rstrip().endswith("| not evaluated |")
