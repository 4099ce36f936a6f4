"""`lab validate` as users run it: exit codes, formats, start-up cost."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from lab.cli import main

from .conftest import EXAMPLES, SKILL

HEAVY = ("torch", "transformers", "peft", "llama_cpp")


def _broken_tree(tmp_path):
    leaf = tmp_path / "compositional_skills" / "riddles"
    leaf.mkdir(parents=True)
    (leaf / "qna.yaml").write_text(SKILL.replace("answer: A zebra.", "answer: yes"))
    return tmp_path


def test_clean_taxonomy_exits_0(capsys):
    assert main(["validate", "--taxonomy", str(EXAMPLES)]) == 0
    assert "3 file(s) checked: 3 valid" in capsys.readouterr().out


def test_errors_exit_1_and_print_path_line_col_severity_rule(tmp_path, capsys):
    root = _broken_tree(tmp_path)
    assert main(["validate", "--taxonomy", str(root)]) == 1
    out = capsys.readouterr().out
    assert "compositional_skills/riddles/qna.yaml:8:13: error yaml-implicit-type" in out
    assert "compositional_skills/riddles/qna.yaml:1:1: error attribution-missing" in out


def test_json_format_is_machine_readable(tmp_path, capsys):
    root = _broken_tree(tmp_path)
    assert main(["validate", "--taxonomy", str(root), "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["summary"]["invalid"] == 1
    assert {f["rule"] for f in data["files"][0]["findings"]} == {"yaml-implicit-type", "attribution-missing"}


def test_github_and_sarif_formats(tmp_path, capsys):
    root = _broken_tree(tmp_path)
    main(["validate", "--taxonomy", str(root), "--format", "github"])
    assert capsys.readouterr().out.startswith("::error file=compositional_skills/riddles/qna.yaml,line=1,")
    main(["validate", "--taxonomy", str(root), "--format", "sarif"])
    assert json.loads(capsys.readouterr().out)["version"] == "2.1.0"


def test_config_file_changes_severity(tmp_path, capsys):
    root = _broken_tree(tmp_path)
    config = tmp_path / "arborist.yml"
    config.write_text("validation:\n  severity:\n    attribution-missing: 'off'\n    yaml-implicit-type: warning\n")
    assert main(["validate", "--taxonomy", str(root), "--config", str(config)]) == 0


def test_usage_errors_exit_2(tmp_path, capsys):
    assert main(["validate", "--taxonomy", str(tmp_path / "missing")]) == 2
    bad = tmp_path / "bad.yml"
    bad.write_text("validation:\n  severity:\n    nope: error\n")
    assert main(["validate", "--config", str(bad), str(tmp_path)]) == 2
    assert "nope" in capsys.readouterr().err
    bad.write_text("validation: [unclosed\n")
    assert main(["validate", "--config", str(bad), str(tmp_path)]) == 2
    broken_tokenizer = tmp_path / "tokenizer.json"
    broken_tokenizer.write_text("{not json")
    assert main(["validate", "--tokenizer", str(broken_tokenizer), str(tmp_path)]) == 2
    assert "cannot load tokenizer" in capsys.readouterr().err
    result = subprocess.run([sys.executable, "-m", "lab.cli", "validate", "--format", "xml"], capture_output=True)
    assert result.returncode == 2


def test_validate_starts_fast_and_imports_no_ml_library():
    code = ("import sys, time; t = time.perf_counter(); from lab.cli import main; "
            f"rc = main(['validate', '--taxonomy', {str(EXAMPLES)!r}]); "
            f"print('HEAVY', [m for m in {HEAVY!r} if m in sys.modules], rc)")
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    assert "HEAVY [] 0" in result.stdout, result.stderr
    assert elapsed < 5.0  # generous for 2 busy cores; the benchmark records the real figure (~0.3 s)


def test_without_arguments_a_taxonomy_checkout_is_validated_as_a_whole(tmp_path, monkeypatch, capsys):
    import shutil

    shutil.copytree(EXAMPLES, tmp_path / "tax")
    monkeypatch.chdir(tmp_path / "tax")
    assert main(["validate", "--format", "json"]) == 0
    paths = [f["path"] for f in json.loads(capsys.readouterr().out)["files"]]
    assert paths == sorted(paths) and len(paths) == 3 and all(not p.startswith("/") for p in paths)


def test_the_repositorys_own_arborist_yml_is_used_by_default(tmp_path, capsys):
    root = _broken_tree(tmp_path)
    (root / ".github").mkdir()
    (root / ".github" / "arborist.yml").write_text(
        "generate: {samples: 3}\nvalidation:\n  severity: {attribution-missing: 'off', yaml-implicit-type: warning}\n")
    assert main(["validate", "--taxonomy", str(root)]) == 0
    assert "warning yaml-implicit-type" in capsys.readouterr().out


# A 342-byte alias bomb (10**9 values when expanded) and 5,000 nested brackets: hostile repository configs.
CONFIG_BOMB = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))
CONFIG_DEEP = "validation:\n" + " [\n" * 5_000 + " ]\n" * 5_000


def _with_repo_config(tmp_path, text: str):
    root = _broken_tree(tmp_path)
    (root / ".github").mkdir()
    (root / ".github" / "arborist.yml").write_text(text)
    return root


def test_hostile_repo_config_is_a_warning_and_the_defaults_apply(tmp_path, capsys):
    for n, (text, words) in enumerate(((CONFIG_DEEP, "nested"), (CONFIG_BOMB, "values"))):
        root = _with_repo_config(tmp_path / str(n), text)
        assert main(["validate", "--taxonomy", str(root)]) == 1  # default severities: the broken leaf fails
        captured = capsys.readouterr()
        assert "error yaml-implicit-type" in captured.out
        warnings = captured.err.splitlines()
        assert any(".github/arborist.yml" in w and words in w for w in warnings), warnings
        assert warnings[-1].endswith("using defaults") and all(len(w) < 400 for w in warnings)


def test_hostile_config_named_on_the_command_line_is_a_usage_error_in_one_line(tmp_path, capsys):
    bad = tmp_path / "deep.yml"
    bad.write_text(CONFIG_DEEP)
    assert main(["validate", "--config", str(bad), str(tmp_path)]) == 2
    assert "nested" in capsys.readouterr().err


def _local_docs_tree(tmp_path):
    from .conftest import KNOWLEDGE_PATH, knowledge_text

    leaf = tmp_path / KNOWLEDGE_PATH
    leaf.parent.mkdir(parents=True)
    leaf.write_text(knowledge_text().replace("https://github.com/arborist-examples/astronomy-notes",
                                             (tmp_path / "docs").as_uri()))
    (leaf.parent / "attribution.txt").write_bytes((EXAMPLES / KNOWLEDGE_PATH).with_name("attribution.txt").read_bytes())
    return tmp_path


def test_local_documents_pass_with_the_flag_or_the_setting_and_fail_without(tmp_path, monkeypatch, capsys):
    root = _local_docs_tree(tmp_path)
    monkeypatch.delenv("ARBORIST_ALLOW_LOCAL_DOCS", raising=False)
    assert main(["validate", "--taxonomy", str(root)]) == 1
    assert "error document-repo" in capsys.readouterr().out
    assert main(["validate", "--taxonomy", str(root), "--allow-local-docs"]) == 0
    monkeypatch.setenv("ARBORIST_ALLOW_LOCAL_DOCS", "1")
    assert main(["validate", "--taxonomy", str(root)]) == 0


def test_a_repository_config_cannot_allow_local_documents(tmp_path, monkeypatch, capsys):
    root = _local_docs_tree(tmp_path)
    monkeypatch.delenv("ARBORIST_ALLOW_LOCAL_DOCS", raising=False)
    (root / ".github").mkdir()
    (root / ".github" / "arborist.yml").write_text("validation:\n  allow_local_docs: true\n")
    assert main(["validate", "--taxonomy", str(root)]) == 1
    assert "unknown key" in capsys.readouterr().err
