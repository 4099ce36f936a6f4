"""What a contributor's leaf did in a release, in words: its score before and after on its own seed
questions, with the paired 95% interval, and the gate's verdict ("improved", "no measurable change",
"regressed"). Pure functions over the evaluation report, shared by the retrain's notes and ci.announce.
"""

from __future__ import annotations

from typing import Any

from lab.pipeline.results import EvalReport, LeafImpact

SCORE_NAME = "ROUGE-L against the seed answers"
MAX_LEAF_CHARS = 200  # a leaf path longer than this is cut in a note


def _leaf(path: str) -> str:
    text = path.replace("`", "")
    return text if len(text) <= MAX_LEAF_CHARS else text[:MAX_LEAF_CHARS] + "…"


def impact_sentence(impact: LeafImpact) -> str:
    """"0.21 → 0.78 on its 5 questions, 95% CI +0.44..+0.70: improved" (or the honest words for no change)."""
    questions = f"its {impact.n} question{'s' if impact.n != 1 else ''}"
    if not impact.measured or impact.before is None or impact.ci is None:
        return f"{impact.after:.2f} on {questions}; {impact.words()}"
    low, high = impact.ci
    return (f"{impact.before:.2f} → {impact.after:.2f} on {questions}, 95% CI {low:+.2f}..{high:+.2f}: "
            f"{impact.words()}")


def leaf_impact_lines(report: EvalReport | dict[str, Any] | None, leaves: list[str]) -> list[str]:
    """One bullet per leaf: what it did, or why there is no figure (removed, not evaluated)."""
    if isinstance(report, dict):
        report = EvalReport.from_dict(report) if report.get("gate") else None
    lines = []
    for path in leaves:
        impact = report.impact_of(path) if report is not None else None
        if impact is None:
            lines.append(f"- `{_leaf(path)}`: not evaluated (removed, or no seed question to ask)")
        else:
            lines.append(f"- `{_leaf(path)}`: {impact_sentence(impact)}")
    return lines


def impact_legend(report: EvalReport | dict[str, Any] | None) -> str:
    """What the figures are: the score, and which model "before" is."""
    raw = report.to_dict() if isinstance(report, EvalReport) else report or {}
    before = raw.get("baseline_kind") or "the base model"
    return f"Scores: {SCORE_NAME} (0..1), before = {before}, after = this model; the interval is paired over the questions."


def impact_section(report: EvalReport | dict[str, Any] | None, leaves: list[str]) -> str:
    """The paragraph a PR's note carries about that PR's leaves (empty when it changed none)."""
    if not leaves:
        return ""
    head = "What your leaf did" if len(leaves) == 1 else "What your leaves did"
    return "\n".join([f"**{head}**", "", *leaf_impact_lines(report, leaves), "", impact_legend(report)])
