"""What a PR's leaves did, as the paragraph its note carries: one line per leaf (lab.evaluate.impact)
and what the figures mean. Shared by the retrain's notes and ci.announce's release comment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lab.evaluate.impact import leaf_impact_lines

__all__ = ["impact_legend", "impact_section", "leaf_impact_lines"]  # leaf_impact_lines: lab.evaluate.impact

SCORE_NAME = "ROUGE-L against the seed answers"


def impact_legend(report: Mapping[str, Any] | None) -> str:
    """What the figures are: the score, and which model "before" is."""
    before = (report or {}).get("baseline_kind") or "the base model"
    return f"Scores: {SCORE_NAME} (0..1), before = {before}, after = this model; the interval is paired over the questions."


def impact_section(report: Mapping[str, Any] | None, leaves: list[str]) -> str:
    """The paragraph a PR's note carries about that PR's leaves (empty when it changed none)."""
    if not leaves:
        return ""
    head = "What your leaf did" if len(leaves) == 1 else "What your leaves did"
    return "\n".join([f"**{head}**", "", *leaf_impact_lines(report, leaves), "", impact_legend(report)])
