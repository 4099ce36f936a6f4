"""Knowledge rows a small teacher cannot spoil: the beginning of a document's sentence, to be finished.

Asked for the question a sentence answers, the 135M teacher wrote one that the sentence does not
answer, or that makes no sense, for about three kept rows in four, and neither word checks nor its
own likelihoods tell those apart (docs/data-quality.md). A sentence completion needs no teacher: the
prompt is the sentence's first part, the answer the whole sentence, so the row is true to the document
and well formed by construction. The split falls where the sentence's fact starts: before its first
number, or else before the phrase of the first content word past two fifths of it.
"""

from __future__ import annotations

import re

from lab.generate.shape import DANGLING, SENTENCE_END

MIN_SHOWN = 3  # words of the sentence shown at least
MIN_HIDDEN = 3  # words left to recall at least
HIDE_FROM = 0.4  # without a number, the recalled part starts past this share of the sentence
SMALL_TEACHER_PARAMETERS = 1_000_000_000  # below this a teacher's questions are mostly junk (measured at 135M)
NUMBER = re.compile(r"^\(?[~≈]?\d")


def split_point(sentence: str) -> int | None:
    """Index of the first hidden word of `sentence` (split on spaces), or None when it is too short to split."""
    parts = sentence.split()
    last = len(parts) - MIN_HIDDEN
    if last < MIN_SHOWN:
        return None
    for i in range(MIN_SHOWN, last + 1):
        if NUMBER.match(parts[i]):
            return i
    cut = next((i for i in range(max(MIN_SHOWN, round(len(parts) * HIDE_FROM)), last + 1)
                if not _dangling(parts[i])), last)
    while cut > MIN_SHOWN and _dangling(parts[cut - 1]):  # "in late winter" is hidden whole, not after "in"
        cut -= 1
    return cut


def _dangling(word: str) -> bool:
    return word.lower().strip("\"'(,") in DANGLING


def cloze_prompt(sentence: str, subject: str) -> str | None:
    """The instruction for one sentence ("Finish this sentence about tree care: "Prune a young tree …""), or
    None; a sentence joined to the one it leans on ("It is longer than ...") is a passage."""
    cut = split_point(sentence)
    if cut is None:
        return None
    shown = " ".join(sentence.split()[:cut])
    what = "passage" if len(SENTENCE_END.split(sentence)) > 1 else "sentence"
    return f'Finish this {what} about {subject}: "{shown} …"'


def knowledge_mode(mode: str, teacher_parameters: int | None) -> str:
    """The `knowledge_answers` mode a run uses: `auto` is "cloze" when the teacher is known to be small, else
    "extract" (a teacher of unknown size, an HTTP server or a scripted one, is trusted to write questions)."""
    if mode != "auto":
        return mode
    small = teacher_parameters is not None and teacher_parameters < SMALL_TEACHER_PARAMETERS
    return "cloze" if small else "extract"
