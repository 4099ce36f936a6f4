"""Schema choice and versions as the reference picks them; the compiled fast check agrees with jsonschema."""

from __future__ import annotations

import copy

import pytest
import yaml

from lab.taxonomy.schema import SUPPORTED, fast_check, file_version, schema_kind, validator

from .conftest import KNOWLEDGE_PATH, SKILL, check, knowledge_text, rules_of


@pytest.mark.parametrize("raw, version", [(3, 3), ("3", 3), (3.0, 3), (2.7, 2), ("three", 1), (None, 1),
                                          (True, None), ([3], 1)])
def test_version_is_read_the_way_the_reference_reads_it(raw, version):
    assert file_version({"version": raw}) == version


def test_missing_version_is_version_1():
    assert file_version({}) == 1


@pytest.mark.parametrize("path, data, kind", [
    ("knowledge/a/qna.yaml", {}, "knowledge"),
    ("compositional_skills/a/qna.yaml", {"document": {}}, "compositional_skills"),
    ("foundational_skills/a/qna.yaml", {"document": {}}, "knowledge"),
    ("foundational_skills/a/qna.yaml", {}, "compositional_skills"),
    ("compositional_skills/knowledge/qna.yaml", {}, "knowledge"),  # nearest folder wins, as upstream
])
def test_schema_is_chosen_by_nearest_taxonomy_folder_then_by_document(path, data, kind):
    assert schema_kind(path, data) == kind


def _instances():
    skill = yaml.safe_load(SKILL)
    knowledge = yaml.safe_load(knowledge_text())
    out = [skill, knowledge]
    for base in (skill, knowledge):
        for mutate in (
            lambda d: d.update(version=3.0),
            lambda d: d.update(version=True),
            lambda d: d.update(version="3"),
            lambda d: d.update({True: "x"}),
            lambda d: d.update({1: "x"}),
            lambda d: d.update(extra="x"),
            lambda d: d.pop("created_by"),
            lambda d: d.update(created_by=""),
            lambda d: d["seed_examples"].append(copy.deepcopy(d["seed_examples"][0])),
            lambda d: d["seed_examples"].pop(),
            lambda d: d["seed_examples"][0].update(extra="x"),
            lambda d: d["seed_examples"][0].update(context=None),
            lambda d: d.update(seed_examples={"a": 1}),
        ):
            item = copy.deepcopy(base)
            mutate(item)
            out.append(item)
    pairs = knowledge["seed_examples"][0]["questions_and_answers"]
    extra_key = copy.deepcopy(knowledge)
    extra_key["seed_examples"][0]["questions_and_answers"][0]["note"] = "allowed upstream"
    out.append(extra_key)
    bool_vs_int = copy.deepcopy(knowledge)
    bool_vs_int["document"]["patterns"] = [True, 1]
    out.append(bool_vs_int)
    assert pairs
    return out


@pytest.mark.parametrize("kind, version", sorted(SUPPORTED))
def test_fast_check_gives_jsonschemas_verdict(kind, version):
    instances = _instances()
    verdicts = [fast_check(kind, version)(i) for i in instances]
    assert verdicts == [validator(kind, version).is_valid(i) for i in instances]
    if version == 3:  # the v3 instances include valid and invalid ones
        assert True in verdicts and False in verdicts


def test_schema_messages_point_at_the_offending_key_and_name_what_is_allowed():
    text = SKILL.replace("created_by: tester\n", "created_by: tester\ncreated_bye: typo\n")
    finding = next(f for f in check(text) if f.rule == "schema")
    assert (finding.line, finding.col) == (3, 1)
    assert "`created_bye` is not a field" in finding.message and "`created_by`" in finding.hint


def test_too_few_seed_examples_says_how_many_are_missing():
    text = SKILL.split("  - question: Which bird")[0]
    finding = next(f for f in check(text) if f.rule == "schema")
    assert "has 2 item(s)" in finding.message and "at least 5" in finding.message
    assert finding.hint == "Add 3 more."


def test_empty_answer_is_explained_as_empty():
    finding = next(f for f in check(SKILL.replace("answer: A zebra.", "answer:")) if f.rule == "schema")
    assert finding.message == "`seed_examples[1].answer` is empty." and finding.line == 8


def test_norway_problem_is_explained_in_plain_words():
    finding = next(f for f in check(SKILL.replace("answer: A zebra.", "answer: no")))
    assert finding.rule == "yaml-implicit-type"
    assert "boolean" in finding.message and 'answer: "no"' in finding.hint


def test_knowledge_v1_and_v2_are_unsupported_but_other_checks_still_run():
    text = knowledge_text().replace("version: 3", "version: 2").replace("8f14e45fceea167a5a36dedd4bea2543f1a0c1b2",
                                                                          "8f14e45")
    assert rules_of(check(text, path=KNOWLEDGE_PATH), "error") == {"knowledge-version-unsupported",
                                                                    "document-commit"}
