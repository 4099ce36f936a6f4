"""The retrain's words: the job's summary (gate, score, release, PRs) and the note each merged PR gets,
which adds what that PR's own leaves did. Pure text from the typed results; posting is the runner's job.
"""

from __future__ import annotations

from collections.abc import Sequence

from lab.pipeline.impact import impact_section
from lab.pipeline.results import RetrainResult

NOTE_MARKER = "<!-- arborist:retrain-note -->"


def render_summary(result: RetrainResult) -> str:
    """Gate, overall ROUGE-L with its interval and change, the release, and the PRs in the run."""
    report = result.report
    gate, rouge = report.gate_dict, report.rouge
    lines = [f"**Gate: {gate['decision'].upper()}** — {gate['reason']}", "",
             f"ROUGE-L on {rouge['n']} seed questions: **{rouge['value']:.3f}** "
             f"(95% CI {rouge['ci'][0]:.3f}..{rouge['ci'][1]:.3f}); baseline ({report.baseline_kind}): "
             f"{rouge.get('baseline', 0):.3f}."]
    if "delta" in rouge:
        d = rouge["delta"]
        lines.append(f"Change: {d['mean']:+.3f} (95% CI {d['ci'][0]:+.3f}..{d['ci'][1]:+.3f}) → {d['verdict']}.")
    release = result.release
    if release:
        lines.append(f"Release: [{release.tag}]({release.url})" + (" (already released)" if release.result.skipped else ""))
    prs = result.prs
    lines.append("PRs in this run: " + (", ".join(f"#{n}" for n in prs) if prs else "none found in the history"))
    return "\n".join(lines)


def note_for(note: str, result: RetrainResult, leaves: Sequence[str]) -> str:
    """The run's note with what this PR's leaves did appended (the note alone when it changed none)."""
    section = impact_section(result.report.to_dict(), list(leaves))
    return f"{note}\n\n{section}" if section else note


def pr_leaves(by_leaf: dict[str, int], number: int) -> list[str]:
    """The leaves whose last change in the run came from PR `number`, sorted."""
    return sorted(path for path, pr in by_leaf.items() if pr == number)
