"""Hostile files become findings: never a crash, a hang, or unbounded memory."""

from __future__ import annotations

import os
import time
import tracemalloc

import pytest

from lab.taxonomy import ValidationConfig, validate_paths
from lab.taxonomy.config import Limits

from .conftest import ATTRIBUTION, SKILL, check, rules_of

BILLION_LAUGHS = "lol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"lol{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, 10))

HOSTILE = {
    "billion_laughs": BILLION_LAUGHS,
    "recursive_alias": "a: &a [*a]\n",
    "merge_bomb": "a0: &a0 {k: v}\n" + "".join(f"a{i}: &a{i} {{<<: [*a{i - 1}, *a{i - 1}], k{i}: v}}\n"
                                                for i in range(1, 40)),
    "deep_flow": "x: " + "[" * 5000 + "]" * 5000 + "\n",
    "deep_block": "".join(" " * i + f"k{i}:\n" for i in range(2000)),
    "many_documents": "a: 1\n---\nb: 2\n",
    "python_tag": "a: !!python/object/apply:os.system ['echo pwned']\n",
    "unknown_tag": "a: !custom 1\n",
    "unhashable_key": "? [a, b]\n: value\n",
    "null_bytes": b"version: 3\x00\x00\x00",
    "bad_utf8": b"version: 3\ncreated_by: \xc3\x28\n",
    "utf16": "version: 3\n".encode("utf-16"),
    "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "huge_line": "a: " + "x" * 50_000 + "\n",
    "many_items": "seed_examples:\n" + "  - {question: q, answer: a}\n" * 30_000,
    "only_comment": "# nothing here\n",
    "top_level_scalar": "just a sentence\n",
    "tab_indent": "version: 3\nseed_examples:\n\t- question: x\n",
    "set_tag": "a: !!set {x, y}\nb: !!omap [{x: 1}]\n",
    "big_int": "version: " + "9" * 5000 + "\n",
    "nan_version": "version: .nan\n",
    "bool_version": "version: true\n",
    "space_runs": "version: 3\n" + "".join(f"k{i}: x" + " " * 15_000 + "y  \n" for i in range(60)),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_file_gives_findings_quickly_without_raising(name):
    started = time.perf_counter()
    findings = check(HOSTILE[name])
    assert time.perf_counter() - started < 5.0  # a hang guard, generous for 2 busy cores
    assert any(f.severity == "error" for f in findings), findings
    assert all(f.message for f in findings)


def test_python_tags_are_never_executed(tmp_path):
    marker = tmp_path / "pwned"
    findings = check(f"a: !!python/object/apply:os.system ['touch {marker}']\n")
    assert not marker.exists()
    assert rules_of(findings) == {"yaml-syntax"}


def test_billion_laughs_stays_within_a_small_memory_budget():
    tracemalloc.start()
    try:
        findings = check(BILLION_LAUGHS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "too-many-values" in rules_of(findings)
    assert peak < 50_000_000


def test_oversized_file_is_not_parsed():
    config = ValidationConfig(limits=Limits(max_file_bytes=1_000))
    findings = check(SKILL * 100, config=config)
    assert rules_of(findings) == {"file-too-large"}


def test_long_lists_and_too_many_values_overall_are_refused():
    assert rules_of(check(HOSTILE["many_items"])) == {"too-many-items"}
    many_small_lists = "a:\n" + "".join(f"  - [{', '.join(['x'] * 100)}]\n" for _ in range(30))
    config = ValidationConfig(limits=Limits(max_nodes=1_000))
    assert rules_of(check(many_small_lists, config=config)) == {"too-many-values"}


@pytest.fixture
def tree(tmp_path):
    leaf = tmp_path / "compositional_skills" / "ok"
    leaf.mkdir(parents=True)
    (leaf / "qna.yaml").write_text(SKILL)
    (leaf / "attribution.txt").write_bytes(ATTRIBUTION)
    return tmp_path


def test_symlinked_leaf_is_a_finding_and_not_followed(tree, tmp_path_factory):
    secret = tmp_path_factory.mktemp("outside") / "secret.yaml"
    secret.write_text("password: hunter2\n")
    link_dir = tree / "compositional_skills" / "linked"
    link_dir.mkdir()
    (link_dir / "qna.yaml").symlink_to(secret)
    reports = {r.path: r for r in validate_paths([tree], root=tree)}
    linked = reports["compositional_skills/linked/qna.yaml"]
    assert [f.rule for f in linked.findings] == ["not-a-file"]
    assert "hunter2" not in str(linked.findings)
    assert reports["compositional_skills/ok/qna.yaml"].valid


def test_symlinked_folder_is_reported_not_walked(tree, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside2")
    (outside / "qna.yaml").write_text("broken: [\n")
    (tree / "compositional_skills" / "elsewhere").symlink_to(outside, target_is_directory=True)
    reports = {r.path: r for r in validate_paths([tree], root=tree)}
    assert [f.rule for f in reports["compositional_skills/elsewhere"].findings] == ["not-a-file"]
    assert "compositional_skills/elsewhere/qna.yaml" not in reports


def test_directory_named_qna_yaml_is_a_finding(tree):
    (tree / "compositional_skills" / "odd" / "qna.yaml").mkdir(parents=True)
    reports = {r.path: r for r in validate_paths([tree], root=tree)}
    assert [f.rule for f in reports["compositional_skills/odd/qna.yaml"].findings] == ["not-a-file"]
    direct = validate_paths([tree / "compositional_skills" / "odd" / "qna.yaml"], root=tree)
    assert [f.rule for f in direct[0].findings] == ["not-a-file"]


def test_fifo_named_qna_yaml_does_not_hang(tree):
    fifo = tree / "compositional_skills" / "pipe" / "qna.yaml"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    started = time.perf_counter()
    reports = validate_paths([fifo], root=tree)
    assert time.perf_counter() - started < 5.0  # a hang guard, generous for 2 busy cores
    assert [f.rule for f in reports[0].findings] == ["not-a-file"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file")
def test_unreadable_file_is_a_finding(tree):
    leaf = tree / "compositional_skills" / "ok" / "qna.yaml"
    leaf.chmod(0)
    try:
        reports = validate_paths([leaf], root=tree)
    finally:
        leaf.chmod(0o644)
    assert [f.rule for f in reports[0].findings] == ["not-a-file"]


def test_missing_path_is_a_finding(tmp_path):
    reports = validate_paths([tmp_path / "knowledge" / "nope" / "qna.yaml"], root=tmp_path)
    assert [f.rule for f in reports[0].findings] == ["not-a-file"]


def test_many_identical_seed_examples_are_judged_in_linear_time():
    items = "".join(f"  - question: q{i % 2}\n    answer: same\n" for i in range(999))
    text = "version: 3\ncreated_by: x\ntask_description: y\nseed_examples:\n" + items + "  - question: z\n"
    started = time.perf_counter()
    findings = check(text)
    assert time.perf_counter() - started < 5.0
    assert any(f.rule == "schema" and "exact copy" in f.message for f in findings)


@pytest.mark.slow
def test_a_leaf_with_thousands_of_similar_questions_is_checked_in_bounded_time():
    from lab.taxonomy import QuestionIndex

    seeds = "".join(
        "  - context: c\n    questions_and_answers:\n" + "".join(
            f"      - {{question: what is item {i} {j} now, answer: a}}\n" for j in range(800))
        for i in range(20))
    text = "version: 3\ncreated_by: x\ndomain: y\ndocument_outline: z\nseed_examples:\n" + seeds
    index = QuestionIndex()
    index.add("knowledge/other/qna.yaml", [f"what is item {i} now" for i in range(3000)])
    started = time.perf_counter()
    findings = check(text, path="knowledge/big/qna.yaml", index=index)
    assert time.perf_counter() - started < 20.0
    assert "near-duplicate-question" in rules_of(findings)
