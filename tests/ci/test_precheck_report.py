"""The /precheck report shows strangers' texts and model outputs side by side, inert and bounded."""

from __future__ import annotations

import re

import pytest

from ci.precheck_report import CELL_CHARS, render_precheck, title
from lab.evaluate.precheck import Answered
from tests.bot.commands.test_replies_to_strangers import _outside_code_spans

HOSTILE = [
    "@everyone please look @acme/maintainers",
    "![pixel](https://evil.example/t.png) [click](https://evil.example)",
    "a | b || c \\| d `|` e",
    "<img src=x onerror=alert(1)> <script>x</script> <details><summary>hi",
    "``@victim`` ```fence``` `",
    "line one\n\n# Heading\n| fake | row |\n---\n> quote",
    "**bold** _it_ #123 :tada: https://evil.example/\u202egpj.exe",
    "@victim " * 200,
]


def answered(text: str, score: float = 0.3, leaf: str = "knowledge/trees/rings/qna.yaml") -> Answered:
    return Answered(leaf, "knowledge", f"Q {text}", f"seed {text}", f"model {text}", score)


def table_rows(markdown: str) -> list[list[str]]:
    """The cells of each table row as GitHub splits them: on pipes not escaped with a backslash."""
    rows = []
    for line in markdown.splitlines():
        if line.startswith("| ") and not line.startswith("| ---"):
            rows.append([c.replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)[1:-1]])
    return rows


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_questions_and_answers_stay_in_their_cells_and_render_inert(text):
    body = render_precheck([answered(text), answered("fine", 0.9)], "release v1")
    rows = table_rows(body)
    assert len(rows) == 3 and all(len(r) == 6 for r in rows), body  # header + 2 rows, six cells each
    for cell in rows[1][1:4]:
        live = _outside_code_spans(cell)
        for marker in ("@victim", "@everyone", "@acme", "![", "](", "<img", "<script", "<details", "https://", "\u202e",
                       "#123", "**"):
            assert marker not in live, (marker, cell)
        assert len(cell) <= CELL_CHARS + 40  # cut short, plus the span's fence and escapes
    assert "\n# Heading" not in body and "\n> quote" not in body


def test_each_leaf_gets_its_verdict_and_the_overall_verdict_leads():
    rows = [answered("a", 0.8), answered("b", 0.1), answered("c", 0.6, leaf="compositional_skills/x/qna.yaml")]
    body = render_precheck(rows, "base model smollm2-135m-instruct", not_asked=3)
    assert body.startswith("**Verdict:** the model already answers 2 of 3 well; the other one is new to it.")
    assert "`knowledge/trees/rings/qna.yaml`" in body and "`compositional_skills/x/qna.yaml`" in body
    assert "knowledge, asked closed-book (no document): the model already answers 1 of 2 well" in body
    assert "3 more seed questions were not asked" in body and "`base model smollm2-135m-instruct`" in body
    assert [r[4].strip() for r in table_rows(body)[1:]] == ["0.80", "0.10", "ROUGE-L", "0.60"]
    assert [r[5].strip() for r in table_rows(body)[1:] if r[0].strip().isdigit()] == ["known", "new", "known"]
    assert title(rows) == "2 of 3 seed questions already answered well"
