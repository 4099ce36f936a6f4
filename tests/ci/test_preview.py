"""`python -m ci.preview` against a local taxonomy repository, the scripted teacher and the tiny model:
generate (cached), split before training, train a LoRA adapter, ask both models, report, keep the adapter."""

from __future__ import annotations

import json
import re

import pytest

from ci.generate import main as generate_main
from ci.preview import bounds_from, main
from schemas.steplines import Result
from tests.ci.test_generate import ATTRIBUTION, CONFIG, NEW_LEAF, run_pr_step, taxonomy  # noqa: F401 - the shared repository fixture
from tests.ci.test_precheck import HOSTILE
from tests.gitrepo import commit

WORK = ("data", "preview", "job-5")


@pytest.fixture
def base_model(tiny_llama_dir, monkeypatch, tmp_path):
    """The tiny model as the base; the runner's training overrides keep the run to two steps and no replay."""
    overrides = tmp_path / "train.yaml"
    overrides.write_text("max_steps: 2\nself_replay: 0\n")
    monkeypatch.setenv("ARBORIST_BASE_MODEL", str(tiny_llama_dir))
    monkeypatch.setenv("ARBORIST_TRAIN_CONFIG", str(overrides))
    monkeypatch.delenv("ARBORIST_RELEASE_DIR", raising=False)
    return tiny_llama_dir


def run_step(capsys, sha: str, *extra: str) -> tuple[int, Result, str]:
    return run_pr_step(main, capsys, 5, sha, *extra)


@pytest.fixture
def previews(taxonomy):  # noqa: F811
    """The shared repository, its default branch bounding previews to four general questions; returns make_pr."""
    repo, make_pr = taxonomy
    commit(repo, {".github/arborist.yml": CONFIG + b"preview:\n  general_questions: 4\n"}, "bound previews")
    return make_pr


def leaf_pr(make_pr, content: bytes = HOSTILE) -> str:
    return make_pr({NEW_LEAF: content, NEW_LEAF.replace("qna.yaml", "attribution.txt"): ATTRIBUTION})


def test_preview_trains_an_adapter_on_all_but_the_held_out_rows_and_compares_both_models(previews, base_model,
                                                                                          capsys, tmp_path):
    code, result, out = run_step(capsys, leaf_pr(previews), "--samples", "4")
    assert code == 0 and result.conclusion == "success", result.summary
    assert re.fullmatch(r"preview of 1 leaf: \d improved, \d no change, \d regressed", result.title)
    summary = result.summary
    work = tmp_path.joinpath(*WORK)
    trained = (work / "data" / "skills_train_msgs.jsonl").read_text().splitlines()
    held = (work / "data" / "heldout_questions.jsonl").read_text().splitlines()
    assert len(trained) >= 2 and len(held) == 1 and not set(held) & set(trained)  # a quarter of 3-4 rows, at least one
    assert "A LoRA adapter trained for 2 steps" in summary and f"{len(trained)} generated rows of 1 changed leaf" in summary
    assert "1 more row held out, never trained on" in summary
    assert f"| `{NEW_LEAF}` | seed questions | 5 |" in summary and "| ″ | held-out questions | 1 |" in summary
    assert "**General retention** (fixed general questions, never trained on): " in summary
    assert re.search(r"\d of 4 general questions answered right \(base \d\)", summary)
    assert "95% CI" in summary and "--adapter ADAPTER_FOLDER" in summary
    assert (work / "adapter" / "adapter_config.json").is_file() and str(work / "adapter") in summary
    report = json.loads((work / "report.json").read_text())
    assert [s["source"] for s in report["leaves"][0]["sets"]] == ["seed", "held-out"]
    assert report["retention"]["n"] == 4 and len(report["leaves"][0]["answers"]) == 6
    assert not (work / "tree").exists() and not (work / "train").exists()  # PR files and the merged model are gone
    assert "answered 20 of 20 questions (base, then preview)" in out  # (5 seed + 1 held-out + 4 general) x 2
    (hostile,) = [line for line in summary.splitlines() if "@victim" in line]
    assert "`@victim \\| ![x](https://evil.example/x.png) happy?`" in hostile


def test_preview_reuses_the_data_a_generate_of_the_same_leaf_made(previews, base_model, capsys, tmp_path):
    sha = leaf_pr(previews)
    assert generate_main(["--repo", "acme/taxonomy", "--pr", "7", "--sha", sha, "--job-id", "3", "--samples", "4"]) == 0
    capsys.readouterr()
    code, result, _ = run_step(capsys, sha, "--samples", "4")
    assert code == 0, result.summary
    manifest = json.loads(tmp_path.joinpath(*WORK, "generated", "manifest.json").read_text())
    assert [leaf["status"] for leaf in manifest["leaves"]] == ["cached"]


def test_an_invalid_leaf_is_refused_with_its_findings_and_nothing_is_trained(taxonomy, capsys, tmp_path):  # noqa: F811
    _, make_pr = taxonomy
    code, result, _ = run_step(capsys, leaf_pr(make_pr, b"version: 2\ncreated_by: x\nseed_examples: not a list\n"))
    assert code == 1 and "invalid" in result.title and NEW_LEAF in result.summary
    assert not tmp_path.joinpath(*WORK, "adapter").exists()


def test_no_model_to_train_over_fails_with_what_to_set(taxonomy, capsys, monkeypatch):  # noqa: F811
    monkeypatch.delenv("ARBORIST_BASE_MODEL", raising=False)
    monkeypatch.delenv("ARBORIST_RELEASE_DIR", raising=False)
    _, make_pr = taxonomy
    code, result, _ = run_step(capsys, leaf_pr(make_pr), "--samples", "2")
    assert code == 1 and result.title == "no model to train over" and "ARBORIST_BASE_MODEL" in result.summary


def test_a_pr_without_leaf_changes_has_nothing_to_preview(taxonomy, capsys):  # noqa: F811
    _, make_pr = taxonomy
    code, result, _ = run_step(capsys, make_pr({"docs/notes.md": b"just docs\n"}))
    assert code == 0 and result.title == "no changed leaves"


def test_the_bounds_come_from_the_preview_section_and_samples_fall_back_to_generate_samples():
    from schemas.repo_config import RepoConfig

    config = RepoConfig.from_mapping({"generate": {"samples": 7}, "preview": {"max_steps": 5, "max_minutes": 3,
                                                                              "general_questions": 4}})
    bounds = bounds_from(config)
    assert (bounds.samples, bounds.max_steps, bounds.max_minutes, bounds.general_questions) == (7, 5, 3.0, 4)
    assert bounds_from(config, samples=3).samples == 3  # an explicit --samples wins
    assert bounds_from(RepoConfig.from_mapping({"preview": {"samples": 9}})).samples == 9
