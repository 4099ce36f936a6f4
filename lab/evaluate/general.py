"""General retention: does a fine-tuned model still answer the plain questions its base model answered?

A fixed set of general questions with key answers (general_questions.json, none of them among the
self-replay prompts, so training never saw them) is asked of both models. An answer is right when
one of its keys occurs as whole words. The paired comparison of right (1) / wrong (0) per question
uses the release gate's statistics (`lab.evaluate.compare`), so "regressed" means the same here as
there: the interval lies below zero and the drop is at least the minimum effect.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lab.evaluate.compare import Delta, paired_delta

GENERAL_FILE = Path(__file__).with_name("general_questions.json")
MAX_NEW_TOKENS = 48  # the key fact comes early in a short answer


@dataclass(frozen=True)
class GeneralQuestion:
    question: str
    keys: tuple[str, ...]  # any of these, as whole words, makes an answer right


@dataclass(frozen=True)
class Retention:
    n: int  # questions asked
    base_right: int
    preview_right: int
    kept: int  # right for the base and still right for the preview
    delta: Delta  # paired change of the share answered right (preview - base)

    def line(self) -> str:
        """One sentence for a reviewer."""
        if self.n == 0:
            return "no general questions were asked"
        lost = self.base_right - self.kept
        kept = f"it keeps {self.kept} of the {self.base_right} the base model answers right" if self.base_right \
            else "the base model answers none of them right"
        return (f"{self.preview_right} of {self.n} general questions answered right (base {self.base_right}); "
                f"{kept}" + (f", loses {lost}" if lost else "") + f": {self.delta.verdict}")


def load_general(count: int | None = None, path: Path = GENERAL_FILE) -> list[GeneralQuestion]:
    """The first `count` questions of the fixed set (all of them when None)."""
    data = json.loads(path.read_text(encoding="utf-8"))["questions"]
    questions = [GeneralQuestion(str(d["q"]), tuple(str(k) for k in d["keys"])) for d in data]
    return questions[:count] if count is not None else questions


def has_key(answer: str, keys: Sequence[str]) -> bool:
    """True when one of the keys occurs in the answer as whole words (case-insensitive)."""
    return any(re.search(rf"(?<!\w){re.escape(key)}(?!\w)", answer, re.IGNORECASE) for key in keys)


def retention(questions: Sequence[GeneralQuestion], base_answers: Sequence[str], preview_answers: Sequence[str],
              min_effect: float, seed: int) -> Retention:
    """Score both models' answers and compare them question by question."""
    if not len(questions) == len(base_answers) == len(preview_answers):
        raise ValueError("each general question needs one answer from each model")
    base = [1.0 if has_key(a, q.keys) else 0.0 for q, a in zip(questions, base_answers, strict=True)]
    preview = [1.0 if has_key(a, q.keys) else 0.0 for q, a in zip(questions, preview_answers, strict=True)]
    kept = sum(1 for b, p in zip(base, preview, strict=True) if b and p)
    return Retention(len(questions), int(sum(base)), int(sum(preview)), kept,
                     paired_delta(preview, base, min_effect, seed))
