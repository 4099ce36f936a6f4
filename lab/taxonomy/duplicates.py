"""Exact and near-duplicate questions, within one leaf and across a taxonomy (an inverted word index)."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

WORD = re.compile(r"\w+")
MIN_NEAR_WORDS = 4  # shorter questions differ by a word too easily to call them near-duplicates
MAX_WORD_POSTINGS = 2_000  # words in more questions than this are too common to find candidates with
MAX_NEAR_QUESTIONS = 1_000  # per file: near-duplicate search is pairwise; real leaves have under 200 questions
MAX_NEAR_QUESTION_WORDS = 200  # longer "questions" are not looked up for near copies (bounded time)


# ASCII text is split with str.translate (fast); anything else with the Unicode-aware regex.
_ASCII_NON_WORD = str.maketrans({c: " " for c in map(chr, range(128)) if not (c.isalnum() or c == "_")})


def words_of(text: str) -> list[str]:
    """Lower-cased words (runs of letters, digits, underscore), as `\\w+` finds them."""
    if text.isascii():
        return text.lower().translate(_ASCII_NON_WORD).split()
    return WORD.findall(text.casefold())


def normalise(text: str) -> str:
    """Case, punctuation and spacing do not make a question different."""
    return " ".join(words_of(text))


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard similarity of two word sets."""
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


@dataclass(frozen=True)
class Question:
    text: str
    line: int
    col: int
    context: str = ""  # a grounded skill's seed context: the question is only a duplicate within it

    @property
    def words(self) -> frozenset[str]:
        return frozenset(WORD.findall(self.text.casefold()))


def within_leaf(questions: list[Question], threshold: float) -> list[tuple[Question, Question, bool]]:
    """(later, earlier, exact) for each question that repeats or nearly repeats an earlier one.

    Jaccard >= t needs the two word-set sizes within a factor t of each other, so earlier questions
    are kept in buckets by size and only the buckets in that window are compared.
    """
    out: list[tuple[Question, Question, bool]] = []
    seen: dict[tuple[str, str], Question] = {}
    by_size: dict[int, list[tuple[int, Question, frozenset[str]]]] = {}
    compared = 0
    for position, question in enumerate(questions):
        words = words_of(question.text)
        if not words:
            continue
        key = (normalise(question.context) if question.context else "", " ".join(words))
        if key in seen:
            out.append((question, seen[key], True))
            continue
        seen[key] = question
        word_set = frozenset(words)
        size = len(word_set)
        if size < MIN_NEAR_WORDS or size > MAX_NEAR_QUESTION_WORDS or compared >= MAX_NEAR_QUESTIONS:
            continue
        compared += 1
        best: tuple[int, Question] | None = None
        for other in range(math.ceil(threshold * size), int(size / threshold) + 1):
            for index, earlier, earlier_words in by_size.get(other, ()):
                if best is not None and index > best[0]:
                    break
                if earlier.context != question.context:
                    continue
                shared = len(word_set & earlier_words)
                if shared >= threshold * (size + other - shared):
                    best = (index, earlier)
                    break
        if best is not None:
            out.append((question, best[1], False))
        by_size.setdefault(size, []).append((position, question, word_set))
    return out


@dataclass
class QuestionIndex:
    """Every question of a taxonomy, for finding copies of a new question in other leaves."""

    threshold: float = 0.9
    _exact: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    _entries: list[tuple[str, str, frozenset[str]]] = field(default_factory=list)
    _postings: dict[str, list[int]] = field(default_factory=dict)

    def add(self, path: str, questions: Iterable[str]) -> None:
        for text in questions:
            key = normalise(text)
            if not key:
                continue
            self._exact.setdefault(key, []).append((path, text))
            words = frozenset(key.split())
            entry = len(self._entries)
            self._entries.append((path, text, words))
            for word in words:
                self._postings.setdefault(word, []).append(entry)

    def __len__(self) -> int:
        return len(self._entries)

    def match(self, path: str, text: str) -> tuple[str, str, bool] | None:
        """(other path, other question, exact) for a copy of `text` in a leaf other than `path`."""
        words_list = words_of(text)
        key = " ".join(words_list)
        for other_path, other_text in self._exact.get(key, ()):
            if other_path != path:
                return other_path, other_text, True
        words = frozenset(words_list)
        if not MIN_NEAR_WORDS <= len(words) <= MAX_NEAR_QUESTION_WORDS:
            return None
        hits: Counter[int] = Counter()
        for word in words:
            postings = self._postings.get(word, ())
            if len(postings) <= MAX_WORD_POSTINGS:
                hits.update(postings)
        needed = self.threshold * len(words) * 0.5
        for entry, shared in hits.most_common():
            if shared < needed:
                break
            other_path, other_text, other_words = self._entries[entry]
            if other_path != path and len(other_words) >= MIN_NEAR_WORDS and \
                    similarity(words, other_words) >= self.threshold:
                return other_path, other_text, False
        return None
