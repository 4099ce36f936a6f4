"""/precheck end to end with the real SmolLM2-135M-Instruct: the stand-in GitHub, the bot, a real worker and
`ci.precheck` asking the packaged model (by its reference, resolved from the model cache) the PR's seed questions."""

from __future__ import annotations

import re

import pytest

from tests.bot.jobs.test_end_to_end_precheck import LEAF, repo_config, run_precheck, world  # noqa: F401 - the shared world
from tests.realmodel import REAL_MODEL, REAL_MODEL_CACHE

pytestmark = pytest.mark.slow


@pytest.fixture
def model_env(real_student) -> dict[str, str]:
    """The worker asks the packaged model by reference; the model cache already holds its converted folder.
    One torch thread: on a busy shared CPU two threads spin on each other (minutes instead of ~30 s)."""
    return {"ARBORIST_BASE_MODEL": REAL_MODEL, "ARBORIST_CACHE_DIR": str(REAL_MODEL_CACHE.parent),
            "OMP_NUM_THREADS": "1"}


def test_precheck_asks_the_real_model_and_shows_its_answers_beside_the_seed_answers(world):  # noqa: F811
    report, job = run_precheck(world)
    assert re.fullmatch(r"[0-4] of 4 seed questions already answered well", job.result_title)
    assert f"`base model {REAL_MODEL}`" in report and f"`{LEAF}`" in report
    rows = [line for line in report.splitlines() if re.match(r"\| \d+ \| ", line)]
    assert len(rows) == 4
    for row in rows:
        model_answer = row.split(" | ")[3].strip("`")
        assert len(re.findall(r"[A-Za-z]{2,}", model_answer)) >= 1, row  # words, not the tiny model's noise
