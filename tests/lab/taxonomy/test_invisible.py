"""Invisible format controls and look-alike keys are found, and every message shows them escaped."""

from __future__ import annotations

import unicodedata

import pytest

from lab.taxonomy.invisible import escape_invisible, lookalike_of

from .conftest import SKILL, check, rules_of

RLO, ZWSP, LRI, WJ = "\u202e", "\u200b", "\u2066", "\u2060"


def _swap(old: str, new: str) -> str:
    assert old in SKILL
    return SKILL.replace(old, new, 1)


def _no_raw_controls(findings) -> bool:
    return not any(unicodedata.category(c) == "Cf" for f in findings for c in f.message + f.hint)


@pytest.mark.parametrize("char", [RLO, ZWSP, LRI, WJ, "\u200e", "\ufeff", "\u00ad"])
def test_format_control_in_an_answer_is_a_warning_naming_the_code_point(char):
    findings = check(_swap("answer: An elephant.", f"answer: An ele{char}phant."))
    hits = [f for f in findings if f.rule == "format-character"]
    assert [(f.severity, f.line) for f in hits] == [("warning", 6)]
    assert f"U+{ord(char):04X}" in hits[0].message
    assert _no_raw_controls(findings)


def test_bidi_override_in_a_question_is_named_and_the_duplicate_message_quoting_it_is_escaped():
    text = _swap("What insect makes honey?", f"Which animal has a trunk and {RLO}very big ears?")
    text = text.replace("Which animal has a trunk and very big ears?", f"Which animal has a trunk and {RLO}very big ears?")
    findings = check(text)
    assert {"format-character", "duplicate-question"} <= rules_of(findings)
    assert any("U+202E RIGHT-TO-LEFT OVERRIDE" in f.message for f in findings)
    assert _no_raw_controls(findings)


def test_zero_width_space_in_a_key_is_an_error_shown_escaped():
    findings = check(_swap("    answer: A zebra.", f"    answer{ZWSP}: A zebra."))
    hits = [f for f in findings if f.rule == "format-character-key"]
    assert [(f.severity, f.line, f.col) for f in hits] == [("error", 8, 5)]
    assert "`answer<U+200B>`" in hits[0].message and "U+200B ZERO WIDTH SPACE" in hits[0].message
    assert _no_raw_controls(findings)


def test_key_with_a_cyrillic_lookalike_letter_is_an_error_with_the_key_escaped():
    findings = check(_swap("    answer: A zebra.", "    \u0430nswer: A zebra."))
    hits = [f for f in findings if f.rule == "lookalike-key"]
    assert [(f.severity, f.line) for f in hits] == [("error", 8)]
    assert "`<U+0430>nswer` looks like `answer`" in hits[0].message
    assert "CYRILLIC SMALL LETTER A" in hits[0].message
    assert not any("\u0430" in f.message for f in findings)


def test_lookalike_detection_needs_a_known_name_and_a_foreign_letter():
    assert lookalike_of("qu\u0435stion", ["question"]) == "question"
    assert lookalike_of("\uff51uestion", ["question"]) == "question"  # fullwidth q
    assert lookalike_of("question", ["question"]) is None
    assert lookalike_of("\u0432\u043e\u043f\u0440\u043e\u0441", ["question"]) is None  # a real Russian word


def test_plain_text_and_ordinary_unicode_pass_untouched():
    assert check(_swap("answer: An elephant.", "answer: Un éléphant, 大象.")) == []
    assert escape_invisible("naïve 大象") == "naïve 大象"
