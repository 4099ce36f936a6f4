"""/preview end to end with the real SmolLM2-135M-Instruct as teacher and base: the stand-in GitHub, the bot, a real
worker and `ci.preview` generating the PR's data, training a LoRA adapter over the packaged model and comparing both.

Bounded to fit a couple of minutes on two idle cores: 4 samples (3 trained on, 1 held out), 4 LoRA steps, 5 general
questions, no self-replay, one torch thread (on a busy shared CPU two threads spin on each other)."""

from __future__ import annotations

import re

import pytest

from tests.bot.jobs.test_end_to_end_precheck import LEAF, run_command, world  # noqa: F401 - the shared world
from tests.bot.jobs.test_end_to_end_preview import adapter_of, verdict_rows
from tests.realmodel import REAL_MODEL, REAL_MODEL_CACHE

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]  # ~2 min idle; 9 min measured at load 16 on 2 cores

REAL_CONFIG = b"preview:\n  samples: 4\n  max_steps: 4\n  max_minutes: 5\n  general_questions: 5\n"


@pytest.fixture
def repo_config() -> bytes:
    return REAL_CONFIG


@pytest.fixture
def model_env(real_student, tmp_path) -> dict[str, str]:
    """Teacher and base by reference, found in the model cache (linked into this test's own cache folder, so the
    generated data stays in the test's folder and every run generates afresh)."""
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "models").symlink_to(REAL_MODEL_CACHE, target_is_directory=True)
    overrides = tmp_path / "train.yaml"
    overrides.write_text("self_replay: 0\n")
    return {"ARBORIST_BASE_MODEL": REAL_MODEL, "ARBORIST_TEACHER": REAL_MODEL, "ARBORIST_CACHE_DIR": str(cache),
            "ARBORIST_TRAIN_CONFIG": str(overrides), "OMP_NUM_THREADS": "1", "ARBORIST_JOB_TIMEOUT_S": "840"}


def test_preview_trains_the_real_model_on_the_prs_data_and_compares_it_with_the_base(world):  # noqa: F811
    report, job = run_command(world, "/preview", "preview", timeout_s=870)
    assert re.fullmatch(r"preview of 1 leaf: \d improved, \d no change, \d regressed", job.result_title)
    assert re.search(r"A LoRA adapter trained for [1-4] steps? \(\d+ s\) on [1-9]\d* generated rows?", report)
    assert f"over `base model {REAL_MODEL}`" in report and f"`{LEAF}`" in report
    rows = verdict_rows(report)
    assert [row.split(" | ")[1] for row in rows] == ["seed questions", "held-out questions"], report[:3000]
    assert rows[0].split(" | ")[2] == "5"  # every seed question of the leaf was asked of both models
    retention = re.search(r"(\d) of 5 general questions answered right \(base (\d)\)", report)
    assert retention and int(retention.group(2)) >= 3  # the real base model knows most of these plain facts
    adapter = adapter_of(report)
    assert (adapter / "adapter_config.json").is_file() and REAL_MODEL in report.split("**Try it:**")[1]
    answers = [line for line in report.splitlines() if line.startswith("| seed | ")]
    assert len(answers) == 5
    for line in answers:  # base and preview answers are words, not noise
        base, preview = line.split(" | ")[3:5]
        assert re.search(r"[A-Za-z]{2,}", base) and re.search(r"[A-Za-z]{2,}", preview), line
