"""Answer scores: normalised exact match and ROUGE-L (F-measure on word LCS), as plain functions."""

from __future__ import annotations

import re
import string
import unicodedata

_PUNCT = str.maketrans({c: " " for c in string.punctuation})
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Case-, punctuation- and whitespace-insensitive form used by both scores."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_PUNCT)
    return _SPACES.sub(" ", text).strip()


def exact_match(prediction: str, reference: str) -> float:
    return 1.0 if normalise(prediction) == normalise(reference) else 0.0


def _lcs_length(a: list[str], b: list[str]) -> int:
    if not a or not b:
        return 0
    previous = [0] * (len(b) + 1)
    for token in a:
        current = [0]
        for j, other in enumerate(b, start=1):
            current.append(previous[j - 1] + 1 if token == other else max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F1 over normalised words; 1.0 when both are empty, 0.0 when only one is."""
    pred, ref = normalise(prediction).split(), normalise(reference).split()
    if not pred and not ref:
        return 1.0
    lcs = _lcs_length(pred, ref)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(pred), lcs / len(ref)
    return 2 * precision * recall / (precision + recall)
