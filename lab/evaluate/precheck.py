"""What a reviewer learns from `/precheck`: which seed questions the current model already answers well.

Plain functions on plain data. A question counts as answered well when the model's answer has a
ROUGE-L of at least `WELL_ANSWERED` against the seed answer (the project's one ROUGE-L, from
`lab.evaluate.scoring`): about half of the words the same, in the same order. The verdict line
counts those; the rest are what the leaf can teach the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from lab.evaluate.items import EvalItem
from lab.evaluate.judge import Judgement
from lab.evaluate.scoring import rouge_l

WELL_ANSWERED = 0.5  # ROUGE-L (0..1) at or above which the model "already answers" a seed question


@dataclass(frozen=True)
class Answered:
    leaf: str
    kind: str  # knowledge | grounded_skill | freeform_skill
    question: str
    reference: str  # the seed answer the contributor wrote
    answer: str  # the model's answer
    score: float  # ROUGE-L of answer against reference, 0..1
    judge_score: int | None = None  # a judge model's 1..10, when one is configured and gave a usable score
    judge_reason: str = ""

    def known(self, threshold: float = WELL_ANSWERED) -> bool:
        return self.score >= threshold


@dataclass(frozen=True)
class Verdict:
    known: int  # questions answered well already
    total: int
    threshold: float = WELL_ANSWERED

    @property
    def new(self) -> int:
        return self.total - self.known

    def line(self) -> str:
        """One sentence: "the model already answers 4 of 15 well; the other 11 are new to it"."""
        if self.total == 0:
            return "there were no seed questions to ask"
        if self.known == 0:
            everything = "it is new to it" if self.total == 1 else f"all {self.total} are new to it"
            return f"the model answers none of the {_questions(self.total)} well; {everything}"
        if self.known == self.total:
            return f"the model already answers {'the one question' if self.total == 1 else f'all {self.total}'} " \
                   "well; none is new to it"
        rest = "the other one is" if self.new == 1 else f"the other {self.new} are"
        return f"the model already answers {self.known} of {self.total} well; {rest} new to it"


def _questions(n: int) -> str:
    return "one question" if n == 1 else f"{n} questions"


def score_answers(items: Sequence[EvalItem], answers: Sequence[str]) -> list[Answered]:
    """Pair each seed question with the model's answer and its ROUGE-L against the seed answer."""
    if len(items) != len(answers):
        raise ValueError(f"{len(answers)} answers for {len(items)} questions")
    return [Answered(item.leaf, item.kind, item.question, item.reference, answer, round(rouge_l(answer, item.reference), 4))
            for item, answer in zip(items, answers, strict=True)]


def with_judgements(answered: Sequence[Answered], judgements: Sequence[Judgement | None]) -> list[Answered]:
    """The answers with the judge's score and reason beside ROUGE-L (None: the judge gave no usable score)."""
    return [replace(a, judge_score=j.score, judge_reason=j.reason) if j is not None else a
            for a, j in zip(answered, judgements, strict=True)]


def verdict(answered: Sequence[Answered], threshold: float = WELL_ANSWERED) -> Verdict:
    return Verdict(sum(a.known(threshold) for a in answered), len(answered), threshold)


def by_leaf(answered: Sequence[Answered]) -> dict[str, list[Answered]]:
    """The answers grouped by leaf, leaves in the order they first appear."""
    groups: dict[str, list[Answered]] = {}
    for entry in answered:
        groups.setdefault(entry.leaf, []).append(entry)
    return groups


def first_questions(items: Sequence[EvalItem], limit: int) -> tuple[list[EvalItem], int]:
    """At most `limit` questions, taken round-robin over leaves (every leaf gets asked); and how many were left."""
    queues: dict[str, list[EvalItem]] = {}
    for item in items:
        queues.setdefault(item.leaf, []).append(item)
    chosen: list[EvalItem] = []
    depth = 0
    while len(chosen) < limit and any(depth < len(q) for q in queues.values()):
        for queue in queues.values():
            if depth < len(queue) and len(chosen) < limit:
                chosen.append(queue[depth])
        depth += 1
    order = {id(item): i for i, item in enumerate(items)}
    chosen.sort(key=lambda item: order[id(item)])
    return chosen, len(items) - len(chosen)
