"""What a reviewer learns from `/preview`: does training on a PR's data teach the model its leaves?

Plain functions on plain data. Each leaf's generated rows are split before training (`split_rows`):
the held-out share is never trained on and becomes questions whose references are the teacher's
answers (`heldout_items`; knowledge is asked closed-book, as `/precheck` asks). The base model and
the preview (base + the LoRA adapter trained on the rest) answer the leaf's seed questions and its
held-out questions; per leaf and per set, the mean ROUGE-L of each and the paired change with its
95% interval and the release gate's word (`lab.evaluate.compare`: improved / no change / regressed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import fmean
from typing import Any

from lab.evaluate.compare import IMPROVED, REGRESSED, Delta, paired_delta
from lab.evaluate.items import EvalItem
from lab.evaluate.scoring import rouge_l

SEED, HELDOUT = "seed", "held-out"  # the two question sets of a leaf
SPLIT_SEED = 17  # the split is the same for the same rows, whatever else changes


@dataclass(frozen=True)
class Scored:
    item: EvalItem
    source: str  # SEED | HELDOUT
    base_answer: str
    preview_answer: str
    base: float  # ROUGE-L against the reference, 0..1
    preview: float


@dataclass(frozen=True)
class SetResult:
    source: str
    n: int
    base: float  # mean ROUGE-L of the base model's answers
    preview: float
    delta: Delta  # paired (preview - base): mean, 95% interval, verdict


@dataclass(frozen=True)
class LeafResult:
    leaf: str
    kind: str
    sets: tuple[SetResult, ...]  # seed first, then held-out (a set with no question is left out)
    rows: tuple[Scored, ...]

    def verdict(self) -> str:
        """The held-out verdict when there is one (the questions it never saw), else the seed one."""
        by_source = {s.source: s.delta.verdict for s in self.sets}
        return by_source.get(HELDOUT) or by_source.get(SEED) or "no questions"


def _leaf_of(row: Mapping[str, Any]) -> str:
    return str((row.get("metadata") or {}).get("leaf", ""))


def split_rows(rows: Sequence[dict[str, Any]], share: float, seed: int = SPLIT_SEED) -> tuple[list, list]:
    """(training rows, held-out rows): `share` of each leaf's rows kept out, seeded per leaf; a leaf keeps at
    least one row for training, and gives one to the held-out set only when it has two or more."""
    from lab.train.data import split_heldout

    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(_leaf_of(row), []).append(row)
    train: list[dict[str, Any]] = []
    held: list[dict[str, Any]] = []
    for number, leaf in enumerate(sorted(groups)):
        kept, out = split_heldout(groups[leaf], share, seed + number)
        train += kept
        held += out
    return train, held


def _prompt(row: Mapping[str, Any]) -> tuple[dict[str, str], ...]:
    """The row's prompt turns; a knowledge question trained with its document is asked without it."""
    messages = list(row["messages"][:-1])
    meta = row.get("metadata") or {}
    if meta.get("document_in_prompt") and meta.get("question"):
        messages[-1] = {"role": "user", "content": str(meta["question"])}
    return tuple(messages)


def heldout_items(rows: Sequence[dict[str, Any]]) -> list[EvalItem]:
    """Held-out generated rows as questions: the prompt as training formats it, the teacher's answer as reference."""
    items = []
    for row in rows:
        messages = row.get("messages") or []
        if len(messages) < 2 or messages[-1].get("role") != "assistant":
            continue
        meta = row.get("metadata") or {}
        prompt = _prompt(row)
        items.append(EvalItem(_leaf_of(row), str(meta.get("domain", "")), str(meta.get("kind", "")),
                              str(prompt[-1]["content"]), str(messages[-1]["content"]), prompt))
    return items


def score_pairs(items: Sequence[EvalItem], sources: Sequence[str], base_answers: Sequence[str],
                preview_answers: Sequence[str]) -> list[Scored]:
    """Each question with both models' answers and their ROUGE-L against its reference."""
    if not len(items) == len(sources) == len(base_answers) == len(preview_answers):
        raise ValueError("each question needs a source and one answer from each model")
    return [Scored(i, s, b, p, round(rouge_l(b, i.reference), 4), round(rouge_l(p, i.reference), 4))
            for i, s, b, p in zip(items, sources, base_answers, preview_answers, strict=True)]


def _set_result(source: str, rows: list[Scored], min_effect: float, seed: int) -> SetResult:
    base, preview = [r.base for r in rows], [r.preview for r in rows]
    return SetResult(source, len(rows), round(fmean(base), 4), round(fmean(preview), 4),
                     paired_delta(preview, base, min_effect, seed))


def by_leaf(scored: Sequence[Scored], min_effect: float, seed: int = 0) -> list[LeafResult]:
    """Per leaf (in order of first appearance), each question set compared; fewer than three questions in a
    set is always "no change" (too little evidence), as in the release gate."""
    groups: dict[str, list[Scored]] = {}
    for row in scored:
        groups.setdefault(row.item.leaf, []).append(row)
    results = []
    for leaf, rows in groups.items():
        sets = tuple(_set_result(source, [r for r in rows if r.source == source], min_effect, seed)
                     for source in (SEED, HELDOUT) if any(r.source == source for r in rows))
        results.append(LeafResult(leaf, rows[0].item.kind, sets, tuple(rows)))
    return results


def summary_line(leaves: Sequence[LeafResult]) -> str:
    """The check run's title: how many leaves the preview improved, left unchanged or made worse."""
    words = [leaf.verdict() for leaf in leaves]
    improved, regressed = words.count(IMPROVED), words.count(REGRESSED)
    unchanged = len(words) - improved - regressed
    total = f"{len(words)} leaf" if len(words) == 1 else f"{len(words)} leaves"
    return f"preview of {total}: {improved} improved, {unchanged} no change, {regressed} regressed"
