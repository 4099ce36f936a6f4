"""Is an answer supported by its source? The facts that can be checked without a model must appear in it.

A knowledge answer (and a grounded skill's answer) may only state what its document chunk says.
Without a judge model we check what is cheap and exact: every number (digits or a number word),
and every capitalised name that is not the first word of a sentence, must occur in the source.
"29.5 days" against a chunk that says "29.5 days" passes; "27 days" or "Jupiter" against a chunk
about the Moon's phases does not. A judge, when configured, then checks the meaning.
"""

from __future__ import annotations

import re

NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
NUMBER_WORDS = {
    "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
    "ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13", "fourteen": "14", "fifteen": "15",
    "sixteen": "16", "seventeen": "17", "eighteen": "18", "nineteen": "19", "twenty": "20", "thirty": "30",
    "forty": "40", "fifty": "50", "hundred": "100", "thousand": "1000", "million": "1000000",
}
LIST_MARKER = re.compile(r"(?m)^\s*\d+[.)]\s")
TOKEN = re.compile(r"[A-Za-z][\w'’-]*|\d+(?:[.,]\d+)*|[.!?:\n]")
# Capitalised words that are not names: pronouns and words a sentence or list item often starts with.
NOT_NAMES = frozenset("i i'm i've i'd i'll a an the this that these those it its yes no".split())


def numbers(text: str) -> set[str]:
    """Numbers in `text`, digits normalised ("1,000" -> "1000") and number words as digits.
    List markers ("1. ", "2) ") at the start of a line are not facts and are left out."""
    text = LIST_MARKER.sub("", text)
    found = {n.replace(",", "") for n in NUMBER.findall(text)}
    found |= {NUMBER_WORDS[w] for w in re.findall(r"[a-z]+", text.lower()) if w in NUMBER_WORDS}
    return found


def names(text: str) -> set[str]:
    """Capitalised words that do not start a sentence, a line or a list item, lower-cased."""
    found: set[str] = set()
    start = True
    for token in TOKEN.findall(text):
        if token in ".!?:\n":
            start = True
            continue
        if not start and token[0].isupper() and token.lower() not in NOT_NAMES:
            found.add(re.sub(r"['’]s?$", "", token.lower()))
        start = token.isdigit()  # "1. Paris" starts an item
    return found - {""}


def unsupported(answer: str, source: str) -> list[str]:
    """The answer's numbers and names that the source does not contain (empty: supported)."""
    source_numbers = numbers(source)
    source_text = source.lower()
    missing = sorted(n for n in numbers(answer) if n not in source_numbers)
    missing += sorted(n for n in names(answer) if not re.search(r"\b" + re.escape(n), source_text))
    return missing


def supported(answer: str, source: str) -> bool:
    return not unsupported(answer, source)
