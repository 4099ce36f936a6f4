"""Over real HTTP: a maintainer's /preview -> the Arborist server -> stand-in GitHub -> a real `arborist worker`
running `ci.preview` on the PR head (read as data from a local git remote): generate, train a LoRA adapter, compare."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.bot.jobs.test_end_to_end_precheck import LEAF, run_command, world  # noqa: F401 - the shared world

TINY_CONFIG = b"generate:\n  teacher: scripted\npreview:\n  samples: 4\n  max_steps: 2\n  general_questions: 3\n"


@pytest.fixture
def repo_config() -> bytes:
    return TINY_CONFIG


@pytest.fixture
def model_env(tiny_llama_dir, tmp_path) -> dict[str, str]:
    """The tiny model as the base; no self-replay (nothing to keep in a random model)."""
    overrides = tmp_path / "train.yaml"
    overrides.write_text("self_replay: 0\n")
    return {"ARBORIST_BASE_MODEL": str(tiny_llama_dir), "ARBORIST_TRAIN_CONFIG": str(overrides)}


def adapter_of(report: str) -> Path:
    """The adapter folder the report says the job kept."""
    match = re.search(r"the adapter is kept at `([^`]+)` on the worker", report)
    assert match, report[:2000]
    return Path(match.group(1))


def verdict_rows(report: str) -> list[str]:
    return [line for line in report.splitlines() if line.endswith(("**improved** |", "**no change** |",
                                                                   "**regressed** |"))]


@pytest.mark.slow
def test_preview_on_the_standin_trains_an_adapter_and_reports_base_against_preview(world):  # noqa: F811
    report, job = run_command(world, "/preview", "preview")
    assert re.fullmatch(r"preview of 1 leaf: \d improved, \d no change, \d regressed", job.result_title)
    assert "A LoRA adapter trained for 2 steps" in report and f"`{LEAF}`" in report
    assert [row.split(" | ")[1] for row in verdict_rows(report)] == ["seed questions", "held-out questions"]
    assert re.search(r"\d of 3 general questions answered right \(base \d\)", report)
    assert (adapter_of(report) / "adapter_config.json").is_file()
