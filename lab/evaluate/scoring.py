"""Answer scores: normalised exact match and ROUGE-L (F-measure on word LCS), as plain functions.

The LCS and its F-measure live here once: evaluation scores answers with `rouge_l` (normalised
words), and generation's near-duplicate filter (lab.generate.rouge) uses `lcs_f1` on its own tokens.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Sequence

_PUNCT = str.maketrans({c: " " for c in string.punctuation})
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Case-, punctuation- and whitespace-insensitive form used by both scores."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_PUNCT)
    return _SPACES.sub(" ", text).strip()


def exact_match(prediction: str, reference: str) -> float:
    return 1.0 if normalise(prediction) == normalise(reference) else 0.0


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence, in O(len(a) * len(b)) time and O(len(b)) memory."""
    if not a or not b:
        return 0
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def lcs_f1(a: Sequence[str], b: Sequence[str]) -> float:
    """ROUGE-L of two token sequences: F1 of LCS precision and recall; 0 for an empty side."""
    lcs = lcs_length(a, b)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(a), lcs / len(b)
    return 2 * precision * recall / (precision + recall)


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F1 over normalised words; 1.0 when both are empty, 0.0 when only one is."""
    pred, ref = normalise(prediction).split(), normalise(reference).split()
    if not pred and not ref:
        return 1.0
    return lcs_f1(pred, ref)
