"""ROUGE-L between short texts, for near-duplicate filtering against seeds and within a leaf.

Tokens are lower-cased words; the score is the F-measure of the longest common subsequence, as
self-instruct and InstructLab use it to drop generated instructions that copy the seeds.
"""

from __future__ import annotations

import re
import sys

TOKEN = re.compile(r"\w+")


def tokens(text: str) -> tuple[str, ...]:
    """Lower-cased word tokens, interned: a leaf's dedupe index shares one copy of each word."""
    return tuple(sys.intern(t) for t in TOKEN.findall(text.lower()))


def lcs_length(a: tuple[str, ...], b: tuple[str, ...]) -> int:
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


def rouge_l(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    """F1 of LCS precision and recall; 0 for an empty side."""
    lcs = lcs_length(a, b)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(a), lcs / len(b)
    return 2 * precision * recall / (precision + recall)


class NearDuplicates:
    """Texts seen so far (the seeds first); `admit` keeps a text only if nothing seen is too close."""

    def __init__(self, threshold: float, initial: list[str] = ()) -> None:  # type: ignore[assignment]
        self.threshold = threshold
        self.seen: list[tuple[str, ...]] = [t for t in (tokens(s) for s in initial) if t]

    def admit(self, text: str) -> bool:
        candidate = tokens(text)
        if not candidate:
            return False
        cset = set(candidate)
        for other in self.seen:
            # Cheap bound first: LCS cannot exceed the shared vocabulary.
            shared = sum(1 for t in other if t in cset)
            if shared and 2 * shared / (len(candidate) + len(other)) >= self.threshold:
                if rouge_l(candidate, other) >= self.threshold:
                    return False
        self.seen.append(candidate)
        return True
