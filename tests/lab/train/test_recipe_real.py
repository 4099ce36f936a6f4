"""The default recipe on the real 135M student: a knowledge leaf's facts are learned, general answers kept.

Trains SmolLM2-135M-Instruct with `lab train`'s defaults on six facts of the benchmark's invented island
(four phrasings each, written as `lab generate` writes a knowledge leaf), then asks the facts in phrasings
never trained on and general questions; benchmarks/train_recipe.py runs the same on all 20 facts.
"""

from __future__ import annotations

import pytest

from benchmarks.train_recipe import run

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]  # minutes on idle cores; far longer on busy shared ones
FACTS, GENERAL = 6, 12


def test_defaults_teach_a_knowledge_leaf_and_keep_general_answers(real_student, tmp_path):
    lines: list[str] = []
    result = run(str(real_student), FACTS, {"cpu_threads": 2}, tmp_path, log=lines.append, n_general=GENERAL)
    printed = "\n".join(lines)
    for key in ("method", "lr", "max_tokens_per_micro_batch", "epochs", "self_replay", "heldout_share"):
        assert f"recipe: {key} = " in printed  # every default is printed with its reason
    assert result["phases"]["phase1"]["counts"]["self_replay"] > 0
    assert result["base"]["recall"] <= 0.1  # an invented island: the base cannot know it
    assert result["trained"]["recall"] >= 0.5, result["answers"]
    assert result["base"]["general"] >= 6  # the questions are ones the base model answers
    assert result["retention"] >= 0.8, result["answers"]
