"""A judge model's 1-10 score, with its reason, for a model answer against the seed answer (`/precheck`).

ROUGE-L counts shared words; a judge reads for meaning. The judge is any teacher-like backend (an
OpenAI-compatible server, a GGUF, a Hub model) asked for JSON `{"score": 1..10, "reason": "..."}`
under a schema. Its reply is a model's output: anything else than that shape is no score, never a guess,
and the reason is cut to REASON_CHARS.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

MAX_NEW_TOKENS = 160
REASON_CHARS = 200
SCHEMA: dict[str, Any] = {
    "title": "judge_score", "type": "object", "additionalProperties": False, "required": ["score", "reason"],
    "properties": {"score": {"type": "integer", "minimum": 1, "maximum": 10},
                   "reason": {"type": "string", "maxLength": REASON_CHARS}},
}
INSTRUCTIONS = ("You grade an answer against a reference answer written by an expert. Score 1 to 10: 10 when the "
                "answer says what the reference says (other words are fine), 5 when it is partly right, 1 when it is "
                "wrong, empty or off the question. Reply with JSON only: {\"score\": <1-10>, \"reason\": \"<one short "
                "sentence>\"}.")


@dataclass(frozen=True)
class Judgement:
    score: int  # 1..10
    reason: str


def prompt(question: str, reference: str, answer: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": INSTRUCTIONS},
            {"role": "user", "content": f"Question: {question}\n\nReference answer: {reference}\n\nAnswer to grade: "
                                        f"{answer}"}]


def parse(text: str) -> Judgement | None:
    """The judge's reply as a Judgement, or None when it is not the JSON asked for."""
    try:
        data = json.loads(text.strip())
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    score, reason = data.get("score"), data.get("reason")
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 10 or not isinstance(reason, str):
        return None
    return Judgement(score, " ".join(reason.split())[:REASON_CHARS])


def judge(backend: Any, triples: Sequence[tuple[str, str, str]]) -> list[Judgement | None]:
    """Score each (question, reference, answer) with `backend` (greedy, one batch); None where it gave no score."""
    if not triples:
        return []
    replies = backend.complete([prompt(q, r, a) for q, r, a in triples], max_new_tokens=MAX_NEW_TOKENS,
                               temperature=0.0, seed=0, schema=SCHEMA)
    return [parse(reply.text) if not reply.error else None for reply in replies]
