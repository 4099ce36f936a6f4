"""Answer scores."""

from __future__ import annotations

import pytest

from lab.evaluate.scoring import exact_match, normalise, rouge_l


def test_exact_match_ignores_case_punctuation_and_spacing():
    assert exact_match("  Paris, is the CAPITAL! ", "paris is the capital") == 1.0
    assert exact_match("Paris is a capital", "Paris is the capital") == 0.0
    assert normalise("A\tB\n\nC.") == "a b c"


def test_rouge_l_scores_the_longest_common_subsequence():
    assert rouge_l("the cat sat on the mat", "the cat sat on the mat") == 1.0
    assert rouge_l("completely unrelated words", "the cat sat") == 0.0
    # LCS "the cat the mat" = 4 of 6 predicted and 4 of 6 reference words
    assert rouge_l("the cat sat on the mat", "the cat lay under the mat") == pytest.approx(4 / 6)
    assert rouge_l("", "") == 1.0 and rouge_l("", "x") == 0.0
