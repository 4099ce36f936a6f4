"""Does an answer answer its question, and is a skill's question on the leaf's task? Checked without a model.

A 135M teacher asked for the question a sentence answers often asks about another sentence of the
same document ("How many full moons a year?" for a sentence about tides), or asks for more than the
sentence says ("the difference between lunar and solar eclipses" for a sentence about lunar ones);
asked for a new instruction for a synonyms leaf, it drifts to new-year advice. These checks compare
words: crude, explainable, and each dropped row says why.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from lab.generate.grounding import unsupported
from lab.generate.shape import (
    FUNCTION_WORDS,
    QUANTITY,
    QUANTITY_QUESTION,
    SENTENCE_END,
    content_words,
    plain,
    stem,
    words,
)

# A question that starts like this wants "yes" or "no"; a sentence of the document is no such answer.
YES_NO = re.compile(r"^\s*(?:is|are|was|were|do|does|did|can|could|will|would|should|has|have|had|may|might|must)"
                    r"\b", re.I)
INSTRUCTION = re.compile(r"^\s*(?:name|list|describe|explain|give|state|tell|define|summari[sz]e|compare|identify|"
                         r"say|write|outline)\b", re.I)
QUESTION_WORD = re.compile(r"\b(?:what|how|why|when|where|which|who|whom|whose)\b", re.I)
HOW_LONG = re.compile(r"\bhow long\b|\bhow much time\b", re.I)
DURATION = re.compile(r"\b(?:seconds?|minutes?|hours?|days?|nights?|weeks?|months?|years?|decades?|centur(?:y|ies)|"
                      r"fortnights?|ages?)\b", re.I)
WHY = re.compile(r"^\s*why\b|\bwhat (?:causes|caused|makes)\b|\bfor what reason\b", re.I)
# "when", "if" and "as" give a time or a condition, not a reason ("... happen at new moon, when ..."): not here.
CAUSE = re.compile(r"\b(?:because|since|so|due|cause[sd]?|causing|reason|result|therefore|thus|means|"
                   r"lets?|makes?|made|leads?)\b", re.I)
# Two questions in one ("What is X, and how does Y?"): one sentence of the document rarely answers both.
QUESTION_OPENINGS = frozenset("what how why when where who whom whose which can could is are was were do does did "
                              "should would will has have may might in".split())  # "In what way ...?"
TWO_QUESTIONS = re.compile(r"\band (?:how|what|why|when|where|which|who|is|are|does|do|can)\b|\?.*\?", re.I)
# A question about a time relative to now ("When is the next eclipse?") wants a date a timeless sentence lacks.
NOW_RELATIVE = re.compile(r"\b(?:next|upcoming|today|tonight|tomorrow|yesterday|currently|nowadays|right now|"
                          r"this (?:year|month|week|century)|recent(?:ly)?|latest)\b", re.I)
DATE = re.compile(r"\b(?:1[5-9]|20)\d\d\b|\b(?:january|february|march|april|may|june|july|august|september|"
                  r"october|november|december)\b", re.I)
MIN_SENTENCES_FOR_COMMON = 3  # in a source of one or two sentences no word is "what every sentence says"
MATCH_MARGIN = 2.0  # the answer must match the question this many times better than any other sentence does
TASK_SHARE = 0.5  # of the words most seed questions share, a new instruction must use this share (if every seed does)


def question_kind_problem(question: str, answer: str) -> str | None:
    """What kind of answer the question wants and the answer is not, or None."""
    if not question.rstrip().endswith("?") and not INSTRUCTION.match(question):
        return "not a question: no question mark, and no instruction such as 'Name ...'"
    if not INSTRUCTION.match(question) and not YES_NO.match(question) and not QUESTION_WORD.search(question):
        return "not a question: a statement with a question mark, no question word (what, how, which, ...)"
    if YES_NO.match(question):
        return "a yes/no question"
    if TWO_QUESTIONS.search(question):
        return "asks two things at once"
    if HOW_LONG.search(question) and not DURATION.search(answer):
        return "asks how long; the answer has no duration"
    if QUANTITY_QUESTION.search(question) and not QUANTITY.search(answer):
        return "asks how many/long/much; the answer has no number"
    if WHY.search(question) and not CAUSE.search(answer):
        return "asks why; the answer gives no reason"
    if question.lstrip().lower().startswith("when") and NOW_RELATIVE.search(question) and not DATE.search(answer):
        return "asks when, relative to now (next, today, this year); the answer names no date"
    return None


def _idf(units: list[set[str]]) -> dict[str, float]:
    n = len(units)
    seen = set().union(*units) if units else set()
    return {w: math.log((n + 1) / (0.5 + sum(w in u for u in units))) for w in seen}


def unanswered(question: str, answer: str, source: str) -> str | None:
    """Why `answer` (a sentence of `source`) does not answer `question`, or None when it does.

    The question's kind must fit (yes/no, how many, why, when next); its numbers and names must be
    the source's (a question that brings its own is a false premise); the answer must say something
    the question does not; every content word of the
    question that the source says somewhere but not in most of its sentences must be in the answer
    (a word the whole source repeats, like "Moon" in a text about the Moon, tells nothing), and at
    least one such word must be there, in the answer's lead sentence when it has two (a question
    about the sentence that leans on it asks about the wrong fact); and the round trip must hold: asked
    of the document, the question must find this sentence as the clear best match, `MATCH_MARGIN`
    times better (words weighted by rarity) than any other sentence ("What happens during full
    moon?" fits two sentences; "What is the Sun's phase?" fits the answer only a little better)."""
    kind = question_kind_problem(question, answer)
    if kind:
        return kind
    premise = unsupported(question, source)
    if premise:  # "the weather in late summer 2010 in the state of Maine" of a text without either
        return "the question assumes what the source does not say: " + ", ".join(premise)
    if not content_words(answer) - content_words(question):
        return "the answer only restates the question"
    units = [content_words(s) for s in SENTENCE_END.split(plain(source)) if s.strip()] or [content_words(answer)]
    idf = _idf(units)
    common = {w for w, v in idf.items() if v < math.log((len(units) + 1) / (0.5 + len(units) / 2))} \
        if len(units) >= MIN_SENTENCES_FOR_COMMON else set()
    asked, said = content_words(question), content_words(answer)
    missing = sorted(w for w in asked - said if w in idf and w not in common)
    if missing:
        return "the answer does not say: " + ", ".join(missing)
    if not (asked & said) - common:
        return "too vague for this source: the question names nothing the answer says that not most sentences say"
    lead = SENTENCE_END.split(plain(answer))
    if len(lead) > 1 and not (asked & content_words(lead[0])) - common:
        return "asks only about the answer's second sentence, not what its lead sentence says"
    return _round_trip(asked, said, units, idf)


def _round_trip(asked: set[str], said: set[str], units: list[set[str]], idf: dict[str, float]) -> str | None:
    score = lambda words: sum(idf.get(w, 0.0) for w in asked & words)  # noqa: E731
    best = max((score(u) for u in units if not u <= said), default=0.0)
    if best >= score(said):
        return "another sentence of the source matches the question as well or better"
    if best * MATCH_MARGIN > score(said):
        return (f"another sentence of the source matches the question nearly as well ({best:.1f} vs {score(said):.1f}; "
                f"the answer must match {MATCH_MARGIN:g}x better)")
    return None


KEY_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{3,30}")  # a word safe to put in a grammar's pattern
# Words that are rare in a chunk without naming what a sentence is about: never a key word.
NOT_KEY = frozenset("""through together exactly roughly only always around across during after before over under
against within without further little whole same said seen just even still then than into onto upon toward towards
about above below behind beyond since until while very much more most less least also often never ever almost
every next first last right left away make made""".split())
MAX_KEY_WORDS = 4


def key_words(answer: str, source: str) -> list[str]:
    """The answer's words that tell it apart from the other sentences of `source` best (the rarest there),
    as the answer spells them, in its order: the question written for the answer must use one, so the
    round trip can find the answer ("gravity" for "The Moon's gravity raises tides in the Earth's oceans.")."""
    units = [content_words(s) for s in SENTENCE_END.split(plain(source)) if s.strip()] or [content_words(answer)]
    idf = _idf(units)
    weight = {w: max((idf.get(c, 0.0) for c in content_words(w)), default=0.0)
              for w in dict.fromkeys(re.findall(r"[A-Za-z][A-Za-z'-]*", plain(answer)))
              if KEY_WORD.fullmatch(w) and w.lower() not in NOT_KEY and content_words(w)}
    if not weight:
        return []
    top = max(weight.values())
    return [w for w, v in weight.items() if v >= top][:MAX_KEY_WORDS]


@dataclass(frozen=True)
class TaskShape:
    """What makes an instruction one of this leaf's, as its seeds show it: the words at least half the seed
    questions use (or the task description's, when they share none), how many of them every seed uses
    (at most half of them), and the opening word every seed shares, if they do. Every seed passes."""

    words: frozenset[str]
    needed: int
    opening: str | None
    one_question: bool = False  # every seed instruction is one question, ending in "?"

    @classmethod
    def of(cls, seed_questions: list[str], description: str) -> TaskShape:
        units = [content_words(q) for q in seed_questions]
        shared = {w for w in set().union(*units) if 2 * sum(w in u for u in units) >= len(units)} if units else set()
        shared = shared or content_words(description)
        needed = min([len(u & shared) for u in units] + [math.ceil(TASK_SHARE * len(shared))])
        openings = {first_word(q) for q in seed_questions}
        return cls(frozenset(shared), needed, openings.pop() if len(openings) == 1 else None,
                   bool(seed_questions) and all(one_question(q) for q in seed_questions))


def one_question(text: str) -> bool:
    """One question, opening as questions do, and nothing after it: not "What is a climax? How does it ...?",
    nor a statement, nor "Achieve something in a story?" or "The story of storytelling is a journey ... What
    makes a story's beginning effective?"."""
    return (text.rstrip().endswith("?") and text.count("?") == 1 and not TWO_QUESTIONS.search(text)
            and (first_word(text) or "").split("'")[0] in QUESTION_OPENINGS)  # "What's ...?"


def first_word(text: str) -> str | None:
    found = words(text)
    return found[0] if found else None


def off_task(question: str, task: TaskShape) -> str | None:
    """Why a new instruction is not this leaf's task, or None: it must open as most seeds do and use
    enough of the task's words ("List three synonyms for the word happy." for the synonyms leaf;
    not "What is the name of the largest language model that lists synonyms?")."""
    if task.opening and first_word(question) != task.opening:
        return f"does not open with {task.opening!r} as the seed instructions do"
    if task.one_question and not one_question(question):
        return "not one question ending in '?', as every seed instruction is"
    used = content_words(question) & task.words
    if len(used) < task.needed:
        return "not the leaf's task: uses " + (", ".join(sorted(used)) or "none") + " of " + ", ".join(sorted(task.words))
    return None


def distinctive(question: str, task: TaskShape) -> str:
    """The words of an instruction that make it a new example: less the task's own words and function words.

    Near-duplicates of a template-like leaf are compared on these: "List ten synonyms for the word
    river ..." shares 9 of 10 words with the seed "List five synonyms for the word beautiful ...", yet
    is a new example; "List five antonyms for the word storm" vs "... attend" still differ in one word."""
    kept = [w for w in words(question) if w not in FUNCTION_WORDS and stem(w) not in task.words]
    return " ".join(kept) if kept and task.words else question
