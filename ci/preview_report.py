"""The `/preview` report: per leaf, base vs preview on seed and held-out questions, general retention, the adapter.

Pure functions of plain data. Every quoted text (the PR's questions and answers, the teacher's, the
models') is an inert, bounded code span (`ci.precheck_report.cell`): no mention, link, image or HTML
renders. Leaf paths are code spans too. The words are the release gate's (`lab.evaluate.compare`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from ci.precheck_report import KIND_WORDS, LEAF_CHARS, cell
from lab.evaluate.general import Retention
from lab.evaluate.preview import HELDOUT, LeafResult, Scored, SetResult
from schemas.quoting import code_span

ROWS_PER_LEAF = 8  # answers shown per leaf and question set
LEAVES_WITH_ANSWERS = 5  # leaves whose answers are shown (the verdict table lists every leaf)
ANSWER_CHARS = 160
SET_WORDS = {"seed": "seed questions", HELDOUT: "held-out questions"}


@dataclass(frozen=True)
class PreviewRun:
    model: str  # what the adapter was trained over, in words ("base model ...", "release v...")
    adapter: str  # where the adapter folder is on the runner
    link: str  # where a reviewer finds it (an Actions run, the bot's artefact URL, or a path)
    chat_model: str  # what `lab chat` is given as the model
    train_rows: int
    held_rows: int
    steps: int
    seconds: float
    min_effect: float
    timed_out: bool = False  # `preview.max_minutes` ended the training


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def _change(result: SetResult) -> str:
    d = result.delta
    return f"{d.mean:+.2f} ({d.ci[0]:+.2f}..{d.ci[1]:+.2f})"


def verdict_table(leaves: Sequence[LeafResult]) -> list[str]:
    """One row per leaf and question set: n, base, preview, the change with its 95% interval, the word."""
    lines = ["| leaf | questions | n | base | preview | change (95% CI) | verdict |",
             "| --- | --- | ---: | ---: | ---: | --- | --- |"]
    for leaf in leaves:
        for number, result in enumerate(leaf.sets):
            name = code_span(leaf.leaf, LEAF_CHARS) if number == 0 else "″"
            lines.append(f"| {name} | {SET_WORDS.get(result.source, result.source)} | {result.n} | {result.base:.2f} | "
                         f"{result.preview:.2f} | {_change(result)} | **{result.delta.verdict}** |")
        if not leaf.sets:
            lines.append(f"| {code_span(leaf.leaf, LEAF_CHARS)} | none | 0 | | | | no questions |")
    return lines + [""]


def answers_block(leaf: LeafResult) -> list[str]:
    """A collapsed table of the leaf's questions with both answers and both scores (the first few of each set)."""
    kind = KIND_WORDS.get(leaf.kind, leaf.kind)
    lines = ["<details><summary>Answers: " + " ".join(leaf.leaf.split())[:LEAF_CHARS].replace("<", "&lt;") +
             "</summary>", "", f"{kind}.", "",
             "| set | question | reference | base answer | preview answer | base | preview |",
             "| --- | --- | --- | --- | --- | ---: | ---: |"]
    for source in ("seed", HELDOUT):
        rows: list[Scored] = [r for r in leaf.rows if r.source == source]
        for row in rows[:ROWS_PER_LEAF]:
            lines.append(f"| {source} | {cell(row.item.question, ANSWER_CHARS)} | {cell(row.item.reference, ANSWER_CHARS)} | "
                         f"{cell(row.base_answer, ANSWER_CHARS)} | {cell(row.preview_answer, ANSWER_CHARS)} | "
                         f"{row.base:.2f} | {row.preview:.2f} |")
        if len(rows) > ROWS_PER_LEAF:
            lines.append(f"| {source} | {len(rows) - ROWS_PER_LEAF} more in the job's report | | | | | |")
    return lines + ["", "</details>", ""]


def how_to_read(run: PreviewRun) -> str:
    return ("Each score is ROUGE-L (0 to 1) of an answer against the reference: the seed answer the contributor "
            "wrote, or for a held-out question the teacher's answer. *Change* is the preview's score minus the base "
            "model's, question by question, averaged, with a 95% bootstrap interval. As in the release gate, a set "
            f"**improved** only when the whole interval is above zero and the change is at least {run.min_effect:g} "
            "(**regressed**: below zero by as much); anything else, and any set of fewer than 3 questions, is "
            "**no change**. Held-out questions were generated from the leaf but never trained on, so they show "
            "whether the leaf teaches beyond its own examples; seed questions only show that it was learned. "
            "ROUGE-L counts shared words, not meaning: read the answers.")


def render_preview(leaves: Sequence[LeafResult], kept: Retention, run: PreviewRun) -> str:
    """The report the status comment shows under the job's line."""
    stopped = " (stopped by `preview.max_minutes`)" if run.timed_out else ""
    lines = [f"A LoRA adapter trained for {_count(run.steps, 'step')} ({run.seconds:.0f} s){stopped} on "
             f"{_count(run.train_rows, 'generated row')} of {_count(len(leaves), 'changed leaf', 'changed leaves')}, "
             f"over {code_span(run.model, LEAF_CHARS)}; {_count(run.held_rows, 'more row')} held out, never trained "
             "on, became the held-out questions.", "",
             *verdict_table(leaves),
             f"**General retention** (fixed general questions, never trained on): {kept.line()} "
             f"(change {kept.delta.mean:+.2f}, 95% CI {kept.delta.ci[0]:+.2f}..{kept.delta.ci[1]:+.2f}).", "",
             how_to_read(run), "",
             f"**Try it:** the adapter is kept at {run.link}. "
             f"{code_span(f'lab chat {run.chat_model} --adapter ADAPTER_FOLDER', 300)} loads it over the same model.", ""]
    for leaf in leaves[:LEAVES_WITH_ANSWERS]:
        lines += answers_block(leaf)
    if len(leaves) > LEAVES_WITH_ANSWERS:
        lines.append(f"The answers of {_count(len(leaves) - LEAVES_WITH_ANSWERS, 'more leaf', 'more leaves')} are in the "
                     "job's report.json, beside the adapter.")
    return "\n".join(lines).rstrip() + "\n"


def report_data(leaves: Sequence[LeafResult], kept: Retention, run: PreviewRun) -> dict[str, Any]:
    """The figures of the comment as plain data (the job keeps them as report.json beside the adapter)."""
    return {"run": asdict(run),
            "leaves": [{"leaf": leaf.leaf, "kind": leaf.kind, "verdict": leaf.verdict(),
                        "sets": [{"source": s.source, "n": s.n, "base": s.base, "preview": s.preview,
                                  "delta": s.delta.to_dict()} for s in leaf.sets],
                        "answers": [{"source": r.source, "question": r.item.question, "reference": r.item.reference,
                                     "base_answer": r.base_answer, "preview_answer": r.preview_answer,
                                     "base": r.base, "preview": r.preview} for r in leaf.rows]} for leaf in leaves],
            "retention": {"n": kept.n, "base_right": kept.base_right, "preview_right": kept.preview_right,
                          "kept": kept.kept, "delta": kept.delta.to_dict(), "line": kept.line()}}
