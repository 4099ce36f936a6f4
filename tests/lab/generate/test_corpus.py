"""Real taxonomy leaves from the shared corpus through `lab generate` with a local GGUF teacher."""

from __future__ import annotations

import json

import pytest

from lab.cli import main

pytestmark = pytest.mark.corpus


def test_real_skill_leaf_with_gguf_teacher_writes_messages_jsonl_and_keep_rates(shared_fixtures, tiny_gguf,
                                                                               tmp_path, capsys):
    root = shared_fixtures / "taxonomy"
    leaf = root / "compositional_skills" / "linguistics" / "synonyms" / "qna.yaml"
    code = main(["generate", str(leaf), "--taxonomy", str(root), "--teacher", str(tiny_gguf), "--samples", "2",
                 "--max-new-tokens", "48", "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "c"),
                 "--quiet", "--no-validate"])
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    [result] = manifest["leaves"]
    assert result["leaf"] == "compositional_skills/linguistics/synonyms/qna.yaml"
    assert result["filters"]["truncated:question"]["seen"] == result["attempted"] > 0  # every reply is looked at
    assert 0.0 <= result["keep_rate"] <= 1.0 and result["completion_tokens"] > 0
    lines = (tmp_path / "out" / "skills_train_msgs.jsonl").read_text().splitlines()
    assert len(lines) == result["rows"] == manifest["rows"]
    for line in lines:
        assert [m["role"] for m in json.loads(line)["messages"]] == ["system", "user", "assistant"]
    assert code == (0 if result["rows"] else 1)
    assert "keep rate" in capsys.readouterr().out


def test_every_real_leaf_parses_and_generates_with_the_scripted_teacher(shared_fixtures, tmp_path, capsys):
    root = shared_fixtures / "taxonomy"
    code = main(["generate", "--taxonomy", str(root), "--teacher", "scripted", "--samples", "2",
                 "--docs-fallback-seeds", "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "c"), "--quiet"])
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert code == 0 and len(manifest["leaves"]) == len(list(root.rglob("qna.yaml")))
    assert {r["status"] for r in manifest["leaves"]} <= {"ok", "short"}
    assert (tmp_path / "out" / "knowledge_train_msgs.jsonl").read_text().strip()
