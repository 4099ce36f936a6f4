"""Every rule has an invalid fixture that triggers it at the right line, and valid files trigger none."""

from __future__ import annotations

import pytest

from lab.taxonomy import RULES, QuestionIndex, ValidationConfig
from lab.taxonomy.config import Limits

from .conftest import KNOWLEDGE_PATH, SKILL, SKILL_PATH, check, knowledge_text

LONG_WORDS = " ".join(["word"] * 400)
SMALL = ValidationConfig(limits=Limits(max_file_bytes=200, max_line_chars=60))


def _swap(old: str, new: str, text: str = SKILL) -> str:
    assert old in text
    return text.replace(old, new, 1)


def _knowledge(old: str, new: str) -> str:
    return _swap(old, new, knowledge_text())


V1_SKILL = "created_by: tester\ntask_description: riddles\nseed_examples:\n  - question: Why?\n    answer: Because.\n"
BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8))

# rule -> (file text or bytes, keyword arguments for check(), expected line of the first finding)
CASES: dict[str, tuple] = {
    "file-name": (SKILL, {"path": "compositional_skills/animals/riddles/qna.yml"}, 1),
    "file-too-large": (SKILL, {"config": SMALL}, 0),
    "binary-file": (b"version: 3\ncreated_by: \x00\x01", {}, 2),
    "encoding": (b"version: 3\ncreated_by: caf\xe9\n", {}, 2),
    "control-character": ("version: 3\ncreated_by: bell\x07\n", {}, 2),
    "line-too-long": ("version: 3\ncreated_by: " + "x" * 80 + "\n", {"config": ValidationConfig(
        limits=Limits(max_line_chars=60))}, 2),
    "yaml-syntax": (_swap("answer: A zebra.", "answer: A zebra: striped."), {}, 8),
    "nesting-depth": ("version: 3\ncreated_by: " + "[" * 40 + "]" * 40 + "\n", {}, 2),
    "too-many-values": (BOMB, {}, 1),  # where the repeated content starts
    "empty-file": ("", {}, 1),
    "too-many-items": (SKILL + "tags: [" + ", ".join(["x"] * 1001) + "]\n", {}, 15),
    "not-a-mapping": ("- version: 3\n- created_by: me\n", {}, 1),
    "duplicate-key": (_swap("answer: A zebra.\n", "answer: A zebra.\n    answer: A horse.\n"), {}, 9),
    "version-missing": (V1_SKILL, {}, 1),
    "version-unsupported": (_swap("version: 3", "version: 4"), {}, 1),
    "knowledge-version-unsupported": (_knowledge("version: 3", "version: 2"), {"path": KNOWLEDGE_PATH}, 1),
    "schema": (_swap("task_description: Answer riddles about animals.\n", ""), {}, 1),
    "yaml-implicit-type": (_swap("answer: An elephant.", "answer: yes"), {}, 6),
    "trailing-spaces": (_swap("created_by: tester", "created_by: tester  "), {}, 2),
    "newline-at-eof": (SKILL.rstrip("\n"), {}, 14),
    "empty-lines": (_swap("seed_examples:\n", "\n\n\n\nseed_examples:\n"), {}, 7),
    "colons": (_swap("created_by: tester", "created_by:  tester"), {}, 2),
    "hyphens": (SKILL + "tags:\n  -  a\n", {}, 16),
    "commas": (SKILL + "tags: [a ,b]\n", {}, 15),
    "brackets": (SKILL + "tags: [  a]\n", {}, 15),
    "braces": (SKILL + "meta: {  a: b}\n", {}, 15),
    "line-endings": (SKILL.replace("\n", "\r\n"), {}, 1),
    "attribution-missing": (SKILL, {"attribution": None}, 1),
    "attribution-empty": (SKILL, {"attribution": b" \n"}, 1),
    "attribution-too-large": (SKILL, {"attribution": b"Title of work: x\n" * 10_000}, 0),
    "format-character": (_swap("answer: An elephant.", "answer: An ele\u202ehpant."), {}, 6),
    "format-character-key": (_swap("    answer: A zebra.", "    answer\u200b: A zebra."), {}, 8),
    "lookalike-key": (_swap("    answer: A zebra.", "    \u0430nswer: A zebra."), {}, 8),
    "attribution-fields": (SKILL, {"attribution": b"Title of work: x\nLicense of the work: MIT\n"}, 1),
    "attribution-license": (SKILL, {"attribution": b"Title of work: x\nLink to work: https://e.org\n"
                                                   b"License of the work: CC BY-SA 4.0\nCreator names: y\n"}, 3),
    "context-too-long": (_knowledge("The Moon does not make its own light.", LONG_WORDS),
                         {"path": KNOWLEDGE_PATH}, 8),
    "question-too-long": (_swap("What insect makes honey?", LONG_WORDS), {}, 13),
    "answer-too-long": (_swap("answer: The honey bee.", f"answer: {LONG_WORDS}"), {}, 14),
    "duplicate-question": (_swap("What insect makes honey?", "Which animal has a trunk and very big ears?"), {}, 13),
    "near-duplicate-question": (_swap("What insect makes honey?", "Which animal has a trunk and very big ears"
                                      " too?"), {}, 13),
    "document-commit": (_knowledge("8f14e45fceea167a5a36dedd4bea2543f1a0c1b2", "8f14e45"), {"path": KNOWLEDGE_PATH},
                        78),
    "document-repo": (_knowledge("https://github.com/arborist-examples/astronomy-notes", "file:///etc"),
                      {"path": KNOWLEDGE_PATH}, 77),
    "document-pattern": (_knowledge("- moon/phases.md", "- ../../secrets.md"), {"path": KNOWLEDGE_PATH}, 80),
}


@pytest.mark.parametrize("rule", sorted(CASES))
def test_each_rule_fires_on_its_fixture_at_the_right_line(rule):
    text, kwargs, line = CASES[rule]
    findings = check(text, **kwargs)
    hits = [f for f in findings if f.rule == rule]
    assert hits, f"{rule} not reported; got {[(f.rule, f.line) for f in findings]}"
    assert hits[0].line == line
    assert hits[0].severity == RULES[rule].severity
    assert hits[0].message and hits[0].hint


def test_every_rule_has_a_fixture_or_a_dedicated_test():
    dedicated = {"not-a-file", "duplicate-question-taxonomy", "internal-error"}
    assert set(RULES) == set(CASES) | dedicated


def test_valid_files_have_no_findings(skill_text):
    assert check(skill_text) == []
    assert check(knowledge_text(), path=KNOWLEDGE_PATH) == []


def test_missing_file_is_reported_not_raised():
    findings = check(None)
    assert [f.rule for f in findings] == ["not-a-file"]


def test_question_copied_from_another_leaf_is_found_through_the_index():
    index = QuestionIndex()
    index.add("compositional_skills/other/qna.yaml", ["What insect makes HONEY?", "Unrelated question here"])
    index.add(SKILL_PATH, ["Which bird cannot fly but swims in icy seas?"])  # the file's own old copy
    findings = [f for f in check(SKILL, index=index) if f.rule == "duplicate-question-taxonomy"]
    assert [(f.line, "compositional_skills/other/qna.yaml" in f.message) for f in findings] == [(13, True)]


def test_near_copy_in_another_leaf_is_found_through_the_index():
    index = QuestionIndex(threshold=0.8)
    index.add("knowledge/x/qna.yaml", ["Which bird cannot fly but swims in icy cold seas?"])
    findings = [f for f in check(SKILL, index=index) if f.rule == "duplicate-question-taxonomy"]
    assert [f.line for f in findings] == [9]
    assert "nearly identical" in findings[0].message


def test_one_failing_file_gives_internal_error_and_others_are_still_checked(monkeypatch):
    import lab.taxonomy.validate as validate

    def explode(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(validate, "check_file", explode)
    reports = validate.validate_files(["a/qna.yaml", "b/qna.yaml"], lambda p: b"x: 1\n")
    assert [[f.rule for f in r.findings] for r in reports] == [["internal-error"], ["internal-error"]]
