"""The release comment on a merged PR says what that PR's own leaves did, measured, in honest words."""

from __future__ import annotations

from ci.announce import comment_body, prs_of
from lab.publish import LeafChange, ReleaseInfo, ReleaseResult
from tests.lab.evaluate.test_impact import _report

REPO = "acme/taxonomy"
RESULT = ReleaseResult("v1", "https://hub.test/acme/model/tree/v1", "f" * 40, skipped=False)
A, B, C = "knowledge/a/qna.yaml", "knowledge/b/qna.yaml", "compositional_skills/c/qna.yaml"


def _info(evaluation: dict) -> ReleaseInfo:
    return ReleaseInfo(taxonomy_repo=REPO, taxonomy_sha="9" * 40, evaluation=evaluation, leaves=[
        LeafChange(A, "added", 41), LeafChange(B, "modified", 41), LeafChange(C, "added", 57),
        LeafChange("knowledge/gone/qna.yaml", "removed", 57)])


def _bodies(info: ReleaseInfo) -> dict[int, str]:
    return {number: comment_body(info, RESULT, number, leaves) for number, leaves in prs_of(info).items()}


def test_each_pr_hears_its_leaves_figures_and_a_leaf_that_did_nothing_says_so():
    evaluation = _report({A: [0.8, 0.9, 0.7, 0.8, 0.85], B: [0.4] * 5, C: [0.1] * 5},
                         {A: [0.2, 0.25, 0.1, 0.3, 0.2], B: [0.4] * 5, C: [0.6] * 5})
    bodies = _bodies(_info(evaluation))
    [entry] = [e for e in evaluation["leaves"] if e["leaf"] == A]
    low, high = entry["delta"]["rouge_l"]["ci"]
    assert f"- `{A}`: 0.21 → 0.81 on its 5 questions, 95% CI {low:+.2f}..{high:+.2f}: improved" in bodies[41]
    assert f"- `{B}`: 0.40 → 0.40 on its 5 questions, 95% CI +0.00..+0.00: no measurable change" in bodies[41]
    assert "compositional_skills" not in bodies[41] and "before = the base model" in bodies[41]
    assert f"- `{C}`: 0.60 → 0.10" in bodies[57] and bodies[57].count(": regressed") == 1
    assert "`knowledge/gone/qna.yaml`: not evaluated" in bodies[57]  # a removed leaf gets no invented figure


def test_without_an_evaluation_the_comment_lists_the_leaves_and_claims_nothing():
    bodies = _bodies(_info({}))
    assert f"- `{A}`\n" in bodies[41] and "95% CI" not in bodies[41] and "improved" not in bodies[41]
