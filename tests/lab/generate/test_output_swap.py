"""`lab generate --out`: a run is written beside the folder and swapped in at the end; a failed run erases nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.cli import main as lab_main
from lab.generate import GenerateParams, generate_leaves
from lab.generate.backends.scripted import ScriptedBackend

from .conftest import FREEFORM
from .hostile_teacher import HostileTeacher, echo_key


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _leaf(tmp_path: Path) -> Path:
    leaf = tmp_path / "tax" / "compositional_skills" / "synonyms" / "qna.yaml"
    leaf.parent.mkdir(parents=True)
    leaf.write_bytes(FREEFORM)
    return leaf


def test_a_failing_lab_generate_run_leaves_the_previous_output_byte_identical(tmp_path, capsys):
    leaf, out = _leaf(tmp_path), tmp_path / "out"
    common = [str(leaf), "--samples", "2", "--no-validate", "--quiet", "--out", str(out),
              "--cache-dir", str(tmp_path / "cache")]
    assert lab_main(["generate", *common, "--teacher", "scripted"]) == 0
    good = _snapshot(out)
    assert "skills_train_msgs.jsonl" in good and good["skills_train_msgs.jsonl"].count(b"\n") == 2
    capsys.readouterr()
    with HostileTeacher(echo_key) as server:  # every request answered 401: every leaf fails
        code = lab_main(["generate", *common, "--teacher", server.url, "--model", "m"])
    said = capsys.readouterr().out
    assert code == 1
    assert _snapshot(out) == good  # byte-identical, nothing truncated
    failed = tmp_path / "out.failed"
    assert (failed / "manifest.json").is_file() and "still holds the previous run" in said
    assert not [p for p in tmp_path.iterdir() if ".staging-" in p.name]


def test_a_run_that_raises_midway_keeps_the_previous_output(tmp_path, freeform_leaf):
    out = tmp_path / "out"
    generate_leaves([freeform_leaf], ScriptedBackend(), out, GenerateParams(samples=2), cache_dir=tmp_path / "c1")
    good = _snapshot(out)

    class Interrupted(ScriptedBackend):
        def complete(self, prompts, **kw):
            raise KeyboardInterrupt  # Ctrl-C, or a worker stopping the step

    with pytest.raises(KeyboardInterrupt):
        generate_leaves([freeform_leaf], Interrupted(), out, GenerateParams(samples=2), cache_dir=tmp_path / "c2")
    assert _snapshot(out) == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c1", "c2", "out"]  # no staging folder left behind


def test_a_good_run_replaces_the_previous_one_whole(tmp_path, freeform_leaf, grounded_leaf):
    out = tmp_path / "out"
    generate_leaves([freeform_leaf, grounded_leaf], ScriptedBackend(), out, GenerateParams(samples=2),
                    cache_dir=tmp_path / "c")
    assert len(list((out / "leaves").iterdir())) == 2
    generate_leaves([freeform_leaf], ScriptedBackend(), out, GenerateParams(samples=2), cache_dir=tmp_path / "c")
    assert len(list((out / "leaves").iterdir())) == 1  # no stale leaf from the run before
    assert (out / "manifest.json").is_file()


def test_an_out_folder_holding_other_files_is_refused_before_any_work(tmp_path, freeform_leaf, capsys):
    home = tmp_path / "home"
    home.mkdir()
    (home / "thesis.tex").write_text("years of work")
    with pytest.raises(ValueError, match="did not write"):
        generate_leaves([freeform_leaf], ScriptedBackend(), home, GenerateParams(samples=2), cache_dir=tmp_path / "c")
    assert (home / "thesis.tex").read_text() == "years of work" and sorted(p.name for p in home.iterdir()) == ["thesis.tex"]
