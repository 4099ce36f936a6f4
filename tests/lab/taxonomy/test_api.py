"""The library API the bot calls: same bytes give the same findings from the GitHub API or from disk."""

from __future__ import annotations

import shutil

from lab.taxonomy import validate_files, validate_paths
from lab.taxonomy.discover import find_leaves
from lab.taxonomy.paths import is_taxonomy_file, label_for

from .conftest import EXAMPLES, SKILL


def _copy_examples(tmp_path):
    root = tmp_path / "taxonomy"
    shutil.copytree(EXAMPLES, root)
    return root


def test_bytes_from_an_api_and_files_on_disk_give_identical_findings(tmp_path):
    root = _copy_examples(tmp_path)
    broken = root / "compositional_skills" / "writing" / "freeform" / "haiku" / "qna.yaml"
    broken.write_text(broken.read_text().replace("version: 3", "version: 3\nversion: 3") + "oops: [\n")
    bad_attr = root / "knowledge" / "science" / "astronomy" / "moon_phases" / "attribution.txt"
    bad_attr.write_text("License of the work: CC BY 4.0\n")
    leaves = find_leaves(root)
    blobs = {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    from_api = validate_files(leaves, blobs.get)
    from_disk = validate_paths([root / leaf for leaf in leaves], root=root)
    assert [(r.path, r.findings) for r in from_api] == [(r.path, r.findings) for r in from_disk]
    assert any(not r.valid for r in from_api)
    assert any(f.path.endswith("attribution.txt") for r in from_api for f in r.findings)


def test_walking_a_tree_finds_leaves_and_misnamed_files(tmp_path):
    root = _copy_examples(tmp_path)
    (root / "knowledge" / "science" / "astronomy" / "moon_phases" / "qna.yml").write_text(SKILL)
    (root / "docs").mkdir()
    (root / "docs" / "notes.yaml").write_text("not: taxonomy\n")
    reports = {r.path: r for r in validate_paths([root], root=root)}
    assert set(reports) == {*find_leaves(root), "knowledge/science/astronomy/moon_phases/qna.yml"}
    assert [f.rule for f in reports["knowledge/science/astronomy/moon_phases/qna.yml"].findings] == ["file-name"]
    assert "Rename `qna.yml` to `qna.yaml`" in reports["knowledge/science/astronomy/moon_phases/qna.yml"] \
        .findings[0].hint


def test_find_leaves_lists_every_qna_yaml_under_the_roots():
    assert find_leaves(EXAMPLES) == [
        "compositional_skills/grounded/extraction/meeting_actions/qna.yaml",
        "compositional_skills/writing/freeform/haiku/qna.yaml",
        "knowledge/science/astronomy/moon_phases/qna.yaml",
    ]


def test_taxonomy_root_indexes_questions_across_leaves(tmp_path):
    root = _copy_examples(tmp_path)
    copy = root / "compositional_skills" / "writing" / "copycat"
    copy.mkdir()
    (copy / "qna.yaml").write_text(SKILL.replace("What insect makes honey?", "How long is a synodic month?"))
    (copy / "attribution.txt").write_text((root / "compositional_skills/writing/freeform/haiku/attribution.txt")
                                          .read_text())
    reports = {r.path: r for r in validate_paths([copy / "qna.yaml"], root=root)}
    dupes = [f for f in reports["compositional_skills/writing/copycat/qna.yaml"].findings
             if f.rule == "duplicate-question-taxonomy"]
    assert len(dupes) == 1 and "moon_phases" in dupes[0].message
    without_root = validate_paths([copy / "qna.yaml"])
    assert not any(f.rule == "duplicate-question-taxonomy" for f in without_root[0].findings)


def test_which_changed_files_a_pr_check_validates():
    assert is_taxonomy_file("knowledge/a/b/qna.yaml")
    assert is_taxonomy_file("compositional_skills/a/qna.yml")
    assert is_taxonomy_file("foundational_skills/a/skill.YAML")
    assert not is_taxonomy_file("knowledge/a/attribution.txt")
    assert not is_taxonomy_file("docs/qna.yaml")
    assert not is_taxonomy_file("qna.yaml")
    assert not is_taxonomy_file(".github/workflows/lint.yml")


def test_label_for_maps_roots_to_pr_labels():
    assert label_for("knowledge/x/qna.yaml") == "knowledge"
    assert label_for("compositional_skills/x/qna.yaml") == "skill"
    assert label_for("foundational_skills/x/qna.yaml") == "skill"
    assert label_for("README.md") is None
