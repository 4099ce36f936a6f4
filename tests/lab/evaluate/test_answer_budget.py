"""The answer budget: long enough for a few times the reference answer, never past the cap."""

from __future__ import annotations

import pytest

from lab.evaluate.model import MIN_ANSWER_TOKENS, REFERENCE_FACTOR, answer_budget


@pytest.fixture(scope="module")
def tokenizer(tiny_llama_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_llama_dir)


def test_short_references_get_the_floor_not_the_full_cap(tokenizer):
    assert answer_budget(tokenizer, ["Green.", "Eight."], cap=128) == MIN_ANSWER_TOKENS


def test_the_budget_grows_with_the_longest_reference(tokenizer):
    long = " ".join(["the roots spread wide under the soil"] * 6)
    tokens = len(tokenizer(long, add_special_tokens=False)["input_ids"])
    assert REFERENCE_FACTOR * tokens > MIN_ANSWER_TOKENS  # the case is one the floor does not decide
    assert answer_budget(tokenizer, ["Short.", long], cap=1000) == REFERENCE_FACTOR * tokens


def test_the_cap_wins_over_long_references_and_no_references_get_the_floor(tokenizer):
    long = " ".join(["the roots spread wide under the soil"] * 40)
    assert answer_budget(tokenizer, [long], cap=96) == 96
    assert answer_budget(tokenizer, [], cap=96) == MIN_ANSWER_TOKENS
    assert answer_budget(tokenizer, [], cap=16) == 16  # a cap below the floor is still a cap
