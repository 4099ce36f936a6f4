"""ROUGE-L between short texts, for near-duplicate filtering against seeds and within a leaf.

Tokens are lower-cased words; the score is the F-measure of the longest common subsequence
(lab.evaluate.scoring.lcs_f1, the project's one ROUGE-L), as self-instruct and InstructLab use it to
drop generated instructions that copy the seeds.
"""

from __future__ import annotations

import re
import sys

from lab.evaluate.scoring import lcs_f1

TOKEN = re.compile(r"\w+")


def tokens(text: str) -> tuple[str, ...]:
    """Lower-cased word tokens, interned: a leaf's dedupe index shares one copy of each word."""
    return tuple(sys.intern(t) for t in TOKEN.findall(text.lower()))


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
                if lcs_f1(candidate, other) >= self.threshold:
                    return False
        self.seen.append(candidate)
        return True
