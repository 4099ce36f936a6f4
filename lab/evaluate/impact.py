"""What one leaf's change is, from an evaluation report: its score before and after on its own seed
questions, the paired 95% interval, and the gate's verdict in honest words ("improved", "no measurable
change", "regressed"). Pure; read by the release comment, the retrain's notes and the model card.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lab.evaluate.compare import IMPROVED, NO_CHANGE, REGRESSED

MAX_LEAF_CHARS = 200  # a leaf path longer than this is cut in a line


@dataclass(frozen=True)
class LeafImpact:
    """One leaf's change on its own seed questions: baseline score -> new score, paired 95% interval."""

    leaf: str
    n: int  # seed questions of the leaf
    after: float  # the new model's mean ROUGE-L on them
    before: float | None  # the baseline's (None: no baseline was compared)
    change: float | None  # mean paired difference
    ci: tuple[float, float] | None  # its 95% bootstrap interval
    verdict: str  # improved | no change | regressed (compare's words); "no change" without a baseline

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any]) -> LeafImpact:
        """From one row of report.json's `leaves`."""
        delta = (entry.get("delta") or {}).get("rouge_l")
        before = (entry.get("baseline") or {}).get("rouge_l")
        ci = (float(delta["ci"][0]), float(delta["ci"][1])) if delta else None
        return cls(leaf=str(entry["leaf"]), n=int(entry["n"]), after=float(entry["rouge_l"]),
                   before=float(before) if before is not None else None,
                   change=float(delta["mean"]) if delta else None, ci=ci,
                   verdict=str(entry.get("verdict") or NO_CHANGE))

    @property
    def measured(self) -> bool:
        return self.before is not None and self.ci is not None

    def words(self) -> str:
        """The verdict as a sentence's end, honest when nothing moved."""
        if not self.measured:
            return "not compared (no earlier model was evaluated)"
        return {IMPROVED: "improved", REGRESSED: "regressed"}.get(self.verdict, "no measurable change")


def leaf_impacts(report: Mapping[str, Any] | None) -> dict[str, LeafImpact]:
    """Leaf path -> its impact, for every leaf the report scored (a row without its figures, as a report
    written by hand or by an older version may have, gives none rather than a made-up one)."""
    out = {}
    for entry in (report or {}).get("leaves") or []:
        try:
            impact = LeafImpact.from_entry(entry)
        except (KeyError, TypeError, ValueError, IndexError):
            continue
        out[impact.leaf] = impact
    return out


def leaf_text(path: str) -> str:
    """A leaf path fit for a code span: no backticks, bounded."""
    text = path.replace("`", "")
    return text if len(text) <= MAX_LEAF_CHARS else text[:MAX_LEAF_CHARS] + "…"


def impact_sentence(impact: LeafImpact) -> str:
    """'0.21 → 0.78 on its 5 questions, 95% CI +0.44..+0.70: improved' (or the honest words for no change)."""
    questions = f"its {impact.n} question{'s' if impact.n != 1 else ''}"
    if not impact.measured or impact.before is None or impact.ci is None:
        return f"{impact.after:.2f} on {questions}; {impact.words()}"
    low, high = impact.ci
    return (f"{impact.before:.2f} → {impact.after:.2f} on {questions}, 95% CI {low:+.2f}..{high:+.2f}: "
            f"{impact.words()}")


def leaf_impact_lines(report: Mapping[str, Any] | None, leaves: list[str]) -> list[str]:
    """One bullet per leaf: what it did, or why there is no figure (removed, not evaluated)."""
    impacts = leaf_impacts(report)
    lines = []
    for path in leaves:
        impact = impacts.get(path)
        if impact is None:
            lines.append(f"- `{leaf_text(path)}`: not evaluated (removed, or no seed question to ask)")
        else:
            lines.append(f"- `{leaf_text(path)}`: {impact_sentence(impact)}")
    return lines
