"""The `/precheck` report: per leaf, question / seed answer / model answer side by side, scored, and a verdict.

Every quoted text is a stranger's (the PR's questions and answers) or a model's output, so each is
shown as one bounded, inert code span (`schemas.quoting.code_span`, as refusals quote a
command): no @mention notifies anyone, no link, image, HTML or emphasis renders. Pipes are escaped
so a cell cannot break its table; line breaks become spaces. Pure functions of plain data.
"""

from __future__ import annotations

from collections.abc import Sequence

from lab.evaluate.precheck import WELL_ANSWERED, Answered, by_leaf, verdict
from schemas.quoting import code_span

CELL_CHARS = 240  # characters of one question or answer shown in a cell
LEAF_CHARS = 200  # characters of a leaf path shown
JUDGE_REASON_CHARS = 160  # characters of the judge's reason shown
KIND_WORDS = {"knowledge": "knowledge, asked closed-book (no document)",
              "grounded_skill": "grounded skill, asked with the leaf's context",
              "freeform_skill": "freeform skill"}


def cell(text: str, limit: int = CELL_CHARS) -> str:
    """`text` as an inert, bounded code span that is safe inside a Markdown table cell."""
    return code_span(" ".join(text.split()), limit).replace("|", "\\|")


def judged(row: Answered) -> str:
    """The judge's cell: "7/10" and its reason (a model's words, so inert), or a dash when it gave none."""
    if row.judge_score is None:
        return "–"
    return f"{row.judge_score}/10 {cell(row.judge_reason, JUDGE_REASON_CHARS)}" if row.judge_reason else \
        f"{row.judge_score}/10"


def leaf_table(leaf: str, rows: Sequence[Answered], threshold: float = WELL_ANSWERED, judge: bool = False) -> list[str]:
    """One leaf: its verdict, then a row per seed question (with the judge's column when one scored)."""
    kind = KIND_WORDS.get(rows[0].kind, rows[0].kind) if rows else ""
    extra = (" judge (1-10) |", " --- |") if judge else ("", "")
    lines = [f"#### {code_span(leaf, LEAF_CHARS)}", "",
             f"{kind}: {verdict(rows, threshold).line()}.", "",
             f"| # | question | seed answer | model answer | ROUGE-L |{extra[0]} |",
             f"| ---: | --- | --- | --- | ---: |{extra[1]} --- |"]
    for number, row in enumerate(rows, 1):
        mark = "known" if row.known(threshold) else "new"
        judge_cell = f" {judged(row)} |" if judge else ""
        lines.append(f"| {number} | {cell(row.question)} | {cell(row.reference)} | {cell(row.answer)} | "
                     f"{row.score:.2f} |{judge_cell} {mark} |")
    return lines + [""]


def render_precheck(answered: Sequence[Answered], model: str, not_asked: int = 0,
                    threshold: float = WELL_ANSWERED, judge_name: str = "") -> str:
    """The report the status comment shows under the job's line."""
    overall = verdict(answered, threshold)
    lines = [f"**Verdict:** {overall.line()}.", "",
             f"Model: {code_span(model, LEAF_CHARS)}. A question counts as *known* when the model's answer scores "
             f"ROUGE-L {threshold:.1f} or more against the seed answer (0: no words in common, 1: the same words "
             "in the same order). ROUGE-L counts shared words, not meaning: read the answers.", ""]
    if not_asked:
        lines += [f"{not_asked} more seed question{'s were' if not_asked != 1 else ' was'} not asked "
                  "(`precheck.max_questions` in `.github/arborist.yml`).", ""]
    judge = any(a.judge_score is not None for a in answered)
    if judge:
        lines += [f"A judge model ({code_span(judge_name, LEAF_CHARS)}) also scored each answer 1-10 for meaning "
                  "against the seed answer, with its reason; a dash is a reply it could not score.", ""]
    for leaf, rows in by_leaf(answered).items():
        lines += leaf_table(leaf, rows, threshold, judge)
    return "\n".join(lines).rstrip() + "\n"


def title(answered: Sequence[Answered], threshold: float = WELL_ANSWERED) -> str:
    """The check run's title: the counts, short."""
    overall = verdict(answered, threshold)
    return f"{overall.known} of {overall.total} seed questions already answered well"
