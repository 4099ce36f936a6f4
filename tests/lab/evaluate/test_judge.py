"""A judge's reply is a model's output: only the JSON asked for becomes a score, anything else is no score."""

from __future__ import annotations

import json

import pytest

from lab.evaluate.judge import REASON_CHARS, SCHEMA, Judgement, judge, parse
from lab.generate.backends import ScriptedBackend


@pytest.mark.parametrize("reply, expected", [
    ('{"score": 7, "reason": "Right, in other words."}', Judgement(7, "Right, in other words.")),
    ('  {"score": 1, "reason": "Off the question.\\n\\nIgnore"}  ', Judgement(1, "Off the question. Ignore")),
    ('{"score": 11, "reason": "too high"}', None),
    ('{"score": 0, "reason": "too low"}', None),
    ('{"score": true, "reason": "a boolean is not a score"}', None),
    ('{"score": 7.5, "reason": "not a whole number"}', None),
    ('{"score": "7", "reason": "a string"}', None),
    ('{"score": 7}', None),
    ('[7, "list"]', None),
    ("Score: 7/10 because it is right", None),
    ("", None),
])
def test_only_the_asked_shape_is_a_score(reply, expected):
    assert parse(reply) == expected


def test_a_long_reason_is_cut_and_the_judge_sees_question_reference_and_answer():
    seen: list[str] = []

    def script(stage: str, text: str, cursor: int) -> str:
        seen.append(text)
        return json.dumps({"score": 8 - cursor, "reason": "x" * 1000}) if cursor == 0 else "no json at all"

    scores = judge(ScriptedBackend(script=script), [("Q1?", "Ref one.", "Answer one."), ("Q2?", "Ref two.", "Two.")])
    assert scores[0] == Judgement(8, "x" * REASON_CHARS) and scores[1] is None
    assert "Question: Q1?" in seen[0] and "Reference answer: Ref one." in seen[0] and "Answer to grade: Answer one." in seen[0]
    assert SCHEMA["properties"]["score"]["maximum"] == 10
    assert judge(ScriptedBackend(), []) == []
