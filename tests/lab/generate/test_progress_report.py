"""What a person sees of a run: plain progress lines in a log, token rates, and what each filter dropped."""

from __future__ import annotations

import io
import json
import time

from rich.console import Console

from lab.cli import main
from lab.generate import GenerateParams, ScriptedBackend, generate_leaves
from lab.generate.markdown import render_manifest
from lab.generate.progress import PlainProgress, RichProgress, summary_table
from lab.taxonomy.leaf import leaf_from_yaml

from .conftest import FREEFORM

LONG_LEAF = "compositional_skills/grounded/linguistics/writing/rewriting_formal_letters/qna.yaml"  # a real depth


def junk_then_fine(stage, text, i):
    if stage == "question":
        return json.dumps({"question": f"Give another word for thing number {i}, please?"})
    return json.dumps({"answer": ["Another word for it is", "<b>@octocat</b> Joyful."][i % 2]})


def test_report_shows_two_dropped_rows_per_filter_escaped(tmp_path):
    leaf = leaf_from_yaml("compositional_skills/s/qna.yaml", FREEFORM)
    manifest = generate_leaves([leaf], ScriptedBackend(junk_then_fine), tmp_path / "out",
                               GenerateParams(samples=3, dedupe_threshold=1.0), cache_dir=tmp_path / "c")
    dropped = manifest.leaves[0].filters["incomplete:answer"]["dropped"]
    assert len(dropped) == 2 and dropped[0]["answer"] == "Another word for it is"
    body = render_manifest(manifest, tmp_path / "out")
    assert body.count("dropped by `incomplete:answer`") == 2
    assert "<b>" not in body and "@octocat" not in body


def test_report_and_table_give_completion_and_prompt_token_rates(tmp_path):
    leaf = leaf_from_yaml(LONG_LEAF, FREEFORM)
    manifest = generate_leaves([leaf], ScriptedBackend(), tmp_path / "out", GenerateParams(samples=2),
                               cache_dir=tmp_path / "c")
    result = manifest.leaves[0]
    body = render_manifest(manifest, tmp_path / "out")
    assert "completion tokens/s" in body and "prompt tokens/s" in body
    assert f"{result.prompt_tokens / result.seconds:.1f}" in body
    out = io.StringIO()
    Console(file=out, width=160).print(summary_table(manifest))
    text = out.getvalue()
    assert "completion tok/s" in text and "prompt tok/s" in text
    assert "…" not in text and "rewriting_formal_letters" in text  # the long leaf id wraps whole, nothing is cut


def test_plain_progress_prints_lines_while_a_leaf_runs_without_rows():
    out = io.StringIO()
    with PlainProgress(out, heartbeat_s=0.05) as progress:
        progress.leaf_started("compositional_skills.synonyms", 4)
        time.sleep(0.3)  # a slow teacher: no row yet
        progress.advance()
    lines = out.getvalue().splitlines()
    assert lines[0] == "compositional_skills.synonyms: started, 4 rows wanted"
    assert any(line.startswith("compositional_skills.synonyms: 0/4 rows,") for line in lines[1:])


def test_lab_generate_in_a_log_prints_plain_progress_lines(tmp_path, capsys):
    leaf = tmp_path / "tax" / "compositional_skills" / "synonyms" / "qna.yaml"
    leaf.parent.mkdir(parents=True)
    leaf.write_bytes(FREEFORM)
    code = main(["generate", str(leaf), "--teacher", "scripted", "--samples", "2", "--no-validate",
                 "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "c")])
    err = capsys.readouterr().err
    assert code == 0
    assert "compositional_skills.synonyms: started, 2 rows wanted" in err
    assert "compositional_skills.synonyms: ok, 2 rows, keep rate" in err
    assert "\x1b[" not in err  # no bar redraws in a log


def test_rich_progress_uses_plain_lines_when_not_on_a_terminal():
    out = io.StringIO()
    progress = RichProgress(Console(file=out))
    assert progress.plain is not None


def test_a_knowledge_sample_shows_the_teachers_question_not_the_document_chunk(tmp_path):
    from lab.generate.markdown import leaf_section

    chunk = "Pruning removes dead wood. " * 40
    row = {"messages": [{"role": "user", "content": f"{chunk}\n\nWhy remove dead wood?"},
                        {"role": "assistant", "content": "It keeps the tree healthy."}],
           "metadata": {"question": "Why remove dead wood?"}}
    [result] = generate_leaves([leaf_from_yaml("compositional_skills/s/qna.yaml", FREEFORM)], ScriptedBackend(),
                               tmp_path / "out", GenerateParams(samples=1), cache_dir=tmp_path / "c").leaves
    section = leaf_section(result, [row])
    assert "**Q:** Why remove dead wood? _(asked with its document chunk)_" in section
    assert "Pruning removes dead wood" not in section
