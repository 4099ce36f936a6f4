"""Does a skill's answer have the shape its seeds' answers have? A list of N lines when asked for N.

The InstructLab synonyms leaf asks "List five synonyms for the word beautiful and separate with
newline." and answers with a heading line and five words, one a line. A 135M teacher answers such an
instruction with prose ("The answer to the question of how money is made is money, ..."), with the
instruction's own word ("river" for synonyms of river), or with one word said twice. Whether the words
are synonyms needs a reader; whether there are five of them, none is the word asked about and none is
said twice, does not. The shape is learned from the seeds, so a leaf whose instructions name no count
(a haiku, a rewrite) is not checked at all; on a leaf whose seeds do, a new instruction that names none
still wants a list (more than one line).
"""

from __future__ import annotations

from dataclasses import dataclass

from lab.generate.shape import normalised, words

COUNTS = {"a": 1, "an": 1, "one": 1, "single": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
          "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20}
MAX_COUNT = 50  # "List 1000 words" is no list a seed shows


def named_count(instruction: str) -> int | None:
    """The first count an instruction names ("List five ..." -> 5, "List a synonym" -> 1), or None."""
    for word in words(instruction):
        if word.isdigit() and 0 < int(word) <= MAX_COUNT:
            return int(word)
        if word in COUNTS:
            return COUNTS[word]
    return None


def lines(answer: str) -> list[str]:
    return [line.strip() for line in answer.splitlines() if line.strip()]


@dataclass(frozen=True)
class ListShape:
    """How many lines a seed answer has beyond the count its instruction names (a heading line: +1; the
    synonyms leaf's "Synonym for Attend is take part in" for one: +0). Learned only when every seed names
    a count and they name at least two different ones: "Write a haiku about rain" names "a" each time,
    which says nothing about what the count means."""

    extra_lines: frozenset[int]

    @classmethod
    def of(cls, seeds: list[tuple[str, str]]) -> ListShape | None:
        """From (instruction, answer) pairs; a shape only when every seed names a count and answers a list."""
        extras, counts = set(), set()
        for question, answer in seeds:
            count = named_count(question)
            if count is None or len(lines(answer)) < count:
                return None
            extras.add(len(lines(answer)) - count)
            counts.add(count)
        if len(counts) < 2:
            return None
        return cls(frozenset(extras))


def off_shape(instruction: str, answer: str, shape: ListShape | None, own_words: set[str]) -> str | None:
    """Why `answer` does not have the seeds' list shape for `instruction`, or None.

    `own_words` are the instruction's distinctive words (the word asked about): no item may be one."""
    count = named_count(instruction)
    if shape is None:
        return None
    got = lines(answer)
    if count is None:  # "List the synonyms for the word rain" still wants a list, not a paragraph
        return None if len(got) > 1 else "asks for a list like the seeds'; the answer is one line"
    if len(got) - count not in shape.extra_lines:
        wanted = " or ".join(str(count + e) for e in sorted(shape.extra_lines))
        return f"asks for {count}; the answer has {len(got)} lines, the seeds' answers would have {wanted}"
    items = [normalised(line) for line in got[len(got) - count:]] if len(got) > 1 else []
    same = sorted({i for i in items if i in own_words})
    if same:
        return "lists the instruction's own word: " + ", ".join(same)
    if len(set(items)) < len(items):
        return "says an item twice"
    return None

