"""`lab generate` validates as `lab validate` does: the taxonomy's config severities, one local-documents opt-in."""

from __future__ import annotations

import json

import pytest

from lab.cli import main
from tests.lab.taxonomy.conftest import EXAMPLES, KNOWLEDGE_PATH

from .conftest import FREEFORM, make_doc_repo

SKILL = "compositional_skills/linguistics/synonyms/qna.yaml"


def _run(root, tmp_path, *extra: str) -> int:
    return main(["generate", "--taxonomy", str(root), "--teacher", "scripted", "--samples", "2", "--quiet",
                 "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache"), *extra])


def _skill_without_attribution(root):
    (root / SKILL).parent.mkdir(parents=True)
    (root / SKILL).write_bytes(FREEFORM)  # version 3 and no attribution.txt: attribution-missing, an error
    return root


def test_the_taxonomys_config_severities_apply_as_in_lab_validate(tmp_path, capsys):
    root = _skill_without_attribution(tmp_path / "tax")
    assert _run(root, tmp_path) == 2
    assert "attribution-missing" in capsys.readouterr().err
    (root / ".github").mkdir()
    (root / ".github" / "arborist.yml").write_text("validation:\n  severity:\n    attribution-missing: 'off'\n")
    assert main(["validate", "--taxonomy", str(root)]) == 0
    assert _run(root, tmp_path) == 0


def test_a_hostile_config_warns_and_generation_goes_on_with_the_defaults(tmp_path, capsys):
    root = _skill_without_attribution(tmp_path / "tax")
    (root / SKILL).with_name("attribution.txt").write_bytes(b"Title of work: x\nLink to work: https://e.org\n"
                                                            b"License of the work: MIT\nCreator names: y\n")
    (root / ".github").mkdir()
    (root / ".github" / "arborist.yml").write_text("validation:\n" + " [\n" * 5_000 + " ]\n" * 5_000)
    assert _run(root, tmp_path) == 0
    err = capsys.readouterr().err
    assert "lab generate: warning: " in err and "nested" in err and "Traceback" not in err


@pytest.fixture
def local_docs_leaf(tmp_path):
    repo, commit = make_doc_repo(tmp_path / "docs")
    text = (EXAMPLES / KNOWLEDGE_PATH).read_text()
    text = text.replace("https://github.com/arborist-examples/astronomy-notes", str(repo))
    text = text.replace("8f14e45fceea167a5a36dedd4bea2543f1a0c1b2", commit).replace("- moon/phases.md", "- mars.md")
    leaf = tmp_path / "tax" / KNOWLEDGE_PATH
    leaf.parent.mkdir(parents=True)
    leaf.write_text(text)
    leaf.with_name("attribution.txt").write_bytes((EXAMPLES / KNOWLEDGE_PATH).with_name("attribution.txt").read_bytes())
    return tmp_path / "tax"


def test_local_documents_need_the_one_opt_in_the_same_as_lab_validate(local_docs_leaf, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("ARBORIST_ALLOW_LOCAL_DOCS", raising=False)
    assert _run(local_docs_leaf, tmp_path) == 2
    assert "document-repo" in capsys.readouterr().err
    assert main(["validate", "--taxonomy", str(local_docs_leaf), "--allow-local-docs"]) == 0
    assert _run(local_docs_leaf, tmp_path, "--allow-local-docs") == 0
    [result] = json.loads((tmp_path / "out" / "manifest.json").read_text())["leaves"]
    assert result["status"] in ("ok", "short") and result["rows"] > 0


def test_the_setting_is_the_same_opt_in(local_docs_leaf, tmp_path, monkeypatch):
    monkeypatch.setenv("ARBORIST_ALLOW_LOCAL_DOCS", "1")
    assert main(["validate", "--taxonomy", str(local_docs_leaf)]) == 0
    assert _run(local_docs_leaf, tmp_path) == 0


def test_no_validate_still_reads_a_hostile_leaf_bounded(tmp_path, capsys):
    levels = "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(6))
    bomb = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + levels  # 9**7 values when expanded
    leaf = tmp_path / "tax" / SKILL
    leaf.parent.mkdir(parents=True)
    leaf.write_text(bomb + "version: 3\ntask_description: x\ncreated_by: y\nseed_examples:\n  - question: *g\n"
                    "    answer: z\n")
    assert _run(tmp_path / "tax", tmp_path, "--no-validate") == 2
    err = capsys.readouterr().err
    assert "more than 100,000 values" in err and len(err) < 1_000
