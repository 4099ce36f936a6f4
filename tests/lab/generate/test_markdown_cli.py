"""The PR report (hostile text, size limit) and the `lab generate` command end to end."""

from __future__ import annotations

import json
import subprocess

from lab.cli import main
from lab.generate import GenerateParams, ScriptedBackend, generate_leaves
from lab.generate.markdown import render_manifest
from lab.taxonomy.leaf import leaf_from_yaml

from .conftest import FREEFORM

ATTRIBUTION = (b"Title of work: Synonyms\nLink to work: https://example.org/synonyms\n"
               b"License of the work: CC-BY-4.0\nCreator names: tester\n")


def test_report_escapes_hostile_samples_and_stays_under_the_limit(tmp_path):
    def hostile(stage, text, i):
        if stage == "question":
            return json.dumps({"question": f"<script>alert({i})</script> ping @octocat about #{i} it's {'x' * i}"})
        return json.dumps({"answer": "</details> `code` " + "long " * 100})

    leaves = [leaf_from_yaml(f"compositional_skills/s{i}/qna.yaml", FREEFORM) for i in range(40)]
    manifest = generate_leaves(leaves, ScriptedBackend(hostile), tmp_path / "out",
                               GenerateParams(samples=3, dedupe_threshold=1.0), cache_dir=tmp_path / "c")
    body = render_manifest(manifest, tmp_path / "out", "https://example.org/run/1", limit=20_000)
    assert len(body) <= 20_000
    assert "<script>" not in body and "&lt;script&gt;" in body
    assert "@octocat" not in body and "</details> `code`" not in body
    assert "it's" in body  # plain punctuation is left readable, no broken entities
    assert body.count("<details>") == body.count("</details>") > 0
    assert "leaf section(s) left out" in body and body.rstrip().endswith("https://example.org/run/1")
    assert body.count("| `compositional_skills.s") == 40  # every leaf stays in the table


def _taxonomy(root):
    leaf = root / "compositional_skills" / "linguistics" / "synonyms"
    leaf.mkdir(parents=True)
    (leaf / "qna.yaml").write_bytes(FREEFORM)
    (leaf / "attribution.txt").write_bytes(ATTRIBUTION)
    return leaf


def test_lab_generate_writes_data_and_prints_a_summary(tmp_path, capsys):
    _taxonomy(tmp_path / "tax")
    code = main(["generate", "--taxonomy", str(tmp_path / "tax"), "--teacher", "scripted", "--samples", "3",
                 "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache"), "--quiet"])
    assert code == 0
    out = capsys.readouterr().out
    assert "generated 3 rows" in out and "synonyms" in out
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["leaves"][0]["leaf"] == "compositional_skills/linguistics/synonyms/qna.yaml"
    assert len((tmp_path / "out" / "skills_train_msgs.jsonl").read_text().splitlines()) == 3


def test_lab_generate_changed_picks_only_leaves_changed_since_base(tmp_path, capsys):
    root = tmp_path / "tax"
    root.mkdir()
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e",
           "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    (root / "README.md").write_text("x")
    for cmd in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-q", "-m", "base"]):
        subprocess.run(["git", *cmd], cwd=root, check=True, env=env)
    _taxonomy(root)
    for cmd in (["add", "."], ["commit", "-q", "-m", "leaf"]):
        subprocess.run(["git", *cmd], cwd=root, check=True, env=env)
    args = ["generate", "--taxonomy", str(root), "--teacher", "scripted", "--samples", "2",
            "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache"), "--quiet"]
    assert main([*args, "--changed", "HEAD~1"]) == 0
    assert "generated 2 rows" in capsys.readouterr().out
    assert main([*args, "--changed", "HEAD"]) == 0
    assert "no leaves to generate" in capsys.readouterr().err


def test_lab_generate_refuses_bad_input_with_a_reason(tmp_path, capsys):
    assert main(["generate", "--taxonomy", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert "--teacher" in capsys.readouterr().err
    _taxonomy(tmp_path / "tax")
    assert main(["generate", str(tmp_path / "tax"), "--teacher", str(tmp_path / "missing.gguf"), "--quiet",
                 "--out", str(tmp_path / "o")]) == 1
    assert "cannot load the teacher" in capsys.readouterr().err
    assert main(["generate", str(tmp_path / "nope"), "--teacher", "scripted"]) == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_lab_generate_refuses_an_invalid_leaf_with_its_findings(tmp_path, capsys):
    leaf = _taxonomy(tmp_path / "tax")
    (leaf / "qna.yaml").write_bytes(b"version: 2\ncreated_by: x\nseed_examples: not a list\n")
    assert main(["generate", "--taxonomy", str(tmp_path / "tax"), "--teacher", "scripted", "--quiet",
                 "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "fix these leaves first" in err and "compositional_skills/linguistics/synonyms/qna.yaml" in err
    assert not (tmp_path / "o").exists()
