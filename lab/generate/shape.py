"""Shape checks that catch a weak teacher's junk: echoed questions, non-answers and text cut mid-phrase.

Each check is a pure function of the strings and says True when the text is fine. The kinds come
from a real 135M teacher: an answer that repeats its question ("The answer is" / "The answer is"),
a one-word reply ("True", "adjective") and text that stops mid-phrase ("... can be rewritten as").
"""

from __future__ import annotations

import re
from collections import Counter

WORD = re.compile(r"[\w']+")
# A sentence does not end on these: text that does was cut off (or the teacher lost its thread).
DANGLING = frozenset(
    "a an the and or but nor of to in on at by for from with into onto about as than that which who whose "
    "whom is are was were be been being has have had do does did can could will would shall should may "
    "might must not no such this these those their its his her our your my if because while when where "
    "whether like including following follows between among per via".split()
)
# ... and even with a full stop or question mark after them these never end a sentence ("made of?" may).
NEVER_LAST = frozenset("a an the and or but nor than as whose my your our their its such".split())
# An instruction that ends pointing at its argument lost the argument: "... synonyms for the word".
MISSING_ARGUMENT = re.compile(r"\b(?:the|this|a|an|following) (?:word|words|sentence|phrase|text|term|passage|list)"
                              r"\s*:?$|\bthe following\s*:?$", re.I)
OPEN_CLOSE = (("(", ")"), ("[", "]"), ("{", "}"), ("“", "”"))
ECHO_SHARE = 0.5  # an answer inside its question that is at least this share of the question's words echoes it
ECHO_MIN_WORDS = 6  # an answer that says a question this long all over again echoes it ("... What makes a beginning effective? The key is")


def words(text: str) -> list[str]:
    return WORD.findall(text.lower())


def normalised(text: str) -> str:
    """Lower case, punctuation and spacing dropped: 'The answer is.' == 'the answer is'."""
    return " ".join(words(text))


def not_echo(answer: str, question: str) -> bool:
    """False when the answer repeats the question, is a large piece of it, or says all of it again.

    A short span of the question is a fair answer to a choice ("Sun or Moon?" -> "the Sun"), so
    containment counts only when the answer is at least half as long as the question."""
    a, q = normalised(answer), normalised(question)
    if not a or a == q:
        return False
    if len(q.split()) >= ECHO_MIN_WORDS and f" {q} " in f" {a} ":  # the whole question said again, then an answer
        return False
    return not (f" {a} " in f" {q} " and len(a.split()) >= ECHO_SHARE * len(q.split()))


def enough_words(text: str, minimum: int) -> bool:
    """'True', 'adjective' and '' teach nothing when the leaf's own answers are sentences."""
    return len(words(text)) >= minimum


def looks_finished(text: str) -> bool:
    """False for text that stops mid-phrase: on a dangling word, a comma or colon, or an open bracket.

    'What is the' and 'The sentence can be rewritten as' end on words no sentence ends on; a
    list that ends on '1.' or '-' was cut too. Closing punctuation after the word does not save
    it ('... rewritten as:')."""
    return not unfinished(text)


def unfinished(text: str, *, answer: bool = False) -> set[str]:
    """Why `text` looks cut off, as named reasons ('ends on: is', 'ends on: ,', 'open (', ...); empty
    when it looks finished. A leaf whose own seeds end on 'at' excuses exactly that reason, not all.
    An `answer` of one line must also end on a stop (an instruction need not: "Give a synonym for bright")."""
    stripped = text.strip()
    if not stripped:
        return {"empty"}
    reasons = set()
    if stripped[-1] in ",:;-–—(/\\":
        reasons.add(f"ends on: {stripped[-1]}")
    if re.search(r"(^|\n)\s*(\d+[.)]|[-*•])$", stripped):
        reasons.add("ends on a list marker")
    reasons |= {f"open {opening}" for opening, closing in OPEN_CLOSE if stripped.count(opening) > stripped.count(closing)}
    if stripped.count('"') % 2:
        reasons.add('open "')
    if re.search(r"(?:\.\.\.|…)\s*[?!]?$", stripped):  # "The avian keratin disorder is...?" too
        reasons.add("trails off: ...")
    if MISSING_ARGUMENT.search(stripped):
        reasons.add("missing argument")
    tail = words(stripped.rstrip(".!?…\"'”)] "))
    ended = stripped.rstrip("\"'”)] ")[-1:] in (".", "!", "?", "…")
    if not tail:
        reasons.add("no words")
    elif tail[-1] in (NEVER_LAST if ended else DANGLING):
        reasons.add(f"ends on: {tail[-1]}")
    if answer and "\n" not in stripped and stripped[-1].isalnum():  # prose cut mid-sentence ("... There is no one");
        reasons.add("no final stop")  # lists and verse are not judged, and a seed that ends so excuses it
    return reasons


REPEAT_MIN_WORDS = 4  # a sentence or line this long said twice is a loop, not emphasis
TRIGRAM_FLOOR = (30, 0.6)  # texts of at least 30 words need at least 60% distinct word trigrams
# The Gopher rules (Rae et al. 2021, MassiveText's quality filter): more than this share of a text's characters in
# word n-grams that occur twice or more is repetition ("... a lasting impression on the audience, ... leaving a
# lasting impression on the readers' minds"). Their published limits, not tuned here.
DUPLICATE_NGRAM_LIMITS = {5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10}
DUPLICATE_NGRAM_MIN_WORDS = 20  # the Gopher rules judge documents; below this an answer is judged by the rules above
# A phrase said again right after "and" ("know what to show and what to show", "engaging and engaging"), or a
# word three times running ("pacing, pacing, pacing"); not the idioms "more and more", "again and again", ...
IDIOMS = "more|less|again|over|round|through|little|time|here|there|then"
LOOPED_PHRASE = re.compile(r"\b((?:\w+\W+){1,3}\w+),? and \1\b"  # a phrase
                           rf"|\b(?!(?:{IDIOMS})\b)(\w{{4,}}(?<!er)),? and \2\b"  # a word, not "faster and faster"
                           r"|\b(\w+), \3, \3\b"  # a word thrice
                           r"|\b(\w{3,}), (?:\w+, )+(?:and |or )?\4\b"  # a list naming an item twice ("love, hate, or love")
                           r"|\b(\w{4,}'s|\w{6,}) \5\b", re.I)  # a stutter: "the narrative's narrative's central plot"


def repetitive(text: str) -> bool:
    """True for text that loops: a sentence or line said twice, a phrase said again after "and", too few
    distinct word trigrams, or too much of it in repeated word n-grams.

    A small teacher stuck in a loop repeats "Here is how to list all synonyms for a word." until
    the token budget ends; such text is finished by every other check."""
    parts = [normalised(p) for p in re.split(r"(?<=[.!?])\s+|\n+", text)]
    parts = [p for p in parts if len(p.split()) >= REPEAT_MIN_WORDS]
    if len(parts) != len(set(parts)):
        return True
    if LOOPED_PHRASE.search(text):
        return True
    tokens = words(text)
    grams = [tuple(tokens[i:i + 3]) for i in range(len(tokens) - 2)]
    floor_words, floor_share = TRIGRAM_FLOOR
    if len(tokens) >= floor_words and len(set(grams)) < floor_share * len(grams):
        return True
    # two short parallel sentences ("A lunar eclipse can only happen at full moon. A solar eclipse can ...") are fine
    return len(tokens) >= DUPLICATE_NGRAM_MIN_WORDS and any(
        duplicated_ngram_share(tokens, n) > limit for n, limit in DUPLICATE_NGRAM_LIMITS.items())


def duplicated_ngram_share(tokens: list[str], n: int) -> float:
    """The share of the words' characters that lie in a word n-gram occurring more than once."""
    grams = [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
    counts = Counter(grams)
    covered = [False] * len(tokens)
    for i, gram in enumerate(grams):
        if counts[gram] > 1:
            covered[i:i + n] = [True] * n
    total = sum(len(t) for t in tokens)
    return sum(len(t) for t, c in zip(tokens, covered, strict=True) if c) / total if total else 0.0


FUNCTION_WORDS = DANGLING | frozenset(
    "what why how who when where which does did do is are was were it they them there here one some any all "
    "also very more most much many each other another about write question answer explain describe happen "
    "happens happened mean means called name long difference between".split())
QUANTITY_QUESTION = re.compile(r"\bhow (?:many|much|long|old|far|often|big|large|heavy|tall|deep)\b|"
                               r"\b(?:what|which) year\b", re.I)
QUANTITY = re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
                      r"hundred|thousand|million|dozen|half|quarter|several|few|many|no|none|once|twice|"
                      r"seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?|centur(?:y|ies))\b", re.I)
LINK = re.compile(r"\[([^\]]*)\]\((?:[^()]|\([^()]*\))*\)")  # [text](target), one level of parentheses inside
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")
SENTENCE_WORDS = (6, 60)  # an answer sentence: long enough to state a fact, short enough to stay one


def stem(word: str) -> str:
    """'eclipses' ~ 'eclipse', 'lasts' ~ 'last': crude, and enough to compare topics."""
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    return word[:6]


def content_words(text: str) -> set[str]:
    bare = (re.sub(r"['’]s?$", "", w) for w in words(text))  # "Moon's" is "moon"
    return {stem(w) for w in bare if w not in FUNCTION_WORDS and len(w) > 2}


def on_topic(question: str, answer: str, source: str = "") -> bool:
    """False when the answer is a true sentence about something else than its question.

    "How many ...", "how long ..." and the like want a number or a duration in the answer; and at
    least half of the question's content words must occur in it, leaving out words that most
    sentences of the source say (a chunk about the Moon names the Moon everywhere: it does not tell
    which sentence answers)."""
    if QUANTITY_QUESTION.search(question) and not QUANTITY.search(answer):
        return False
    chunks = [content_words(s) for s in SENTENCE_END.split(plain(source))] if source else []
    common = {w for w in set().union(*chunks) if sum(w in c for c in chunks) * 2 >= len(chunks)} if chunks else set()
    asked = content_words(question) - common
    return not asked or 2 * len(asked & content_words(answer)) >= len(asked)


def plain(markdown: str) -> str:
    """Markdown as running text: links to their text, emphasis and heading marks dropped."""
    text = LINK.sub(r"\1", markdown)
    text = re.sub(r"(?m)^\s{0,3}#+\s*", "", text)
    return " ".join(re.sub(r"[*_`]+", "", text).split())


HEADING = re.compile(r"^\s{0,3}#")
BLOCK_BREAK = re.compile(r"\n\s*\n")


def prose_blocks(markdown: str) -> list[str]:
    """The paragraphs of a text as running text, headings left out: a heading has no sentence end, so
    joined to the next paragraph it would open that paragraph's first sentence ("Caring for trees An
    arborist ..."), and a heading alone answers nothing."""
    blocks = []
    for paragraph in BLOCK_BREAK.split(markdown):
        lines = [line for line in paragraph.splitlines() if not HEADING.match(line)]
        text = plain("\n".join(lines))
        if text:
            blocks.append(text)
    return blocks


def sentences(markdown: str) -> list[str]:
    """The finished sentences of a text that could each answer a question on their own."""
    low, high = SENTENCE_WORDS
    return [s for block in prose_blocks(markdown) for s in SENTENCE_END.split(block)
            if low <= len(s.split()) <= high and looks_finished(s)]


ANAPHORA = re.compile(r"^(?:it|its|this|that|these|those|they|their|them|he|she|his|her|such|there|here|then|"
                      r"also|however|but|and|so|thus|therefore|instead|otherwise)\b", re.I)


# ... or says soon after its start what it points back to: "Half of it is ...", "At the quarter phases they ...",
# "In spite of these changes ...".
POINTS_BACK = re.compile(r"^(?:\S+\s+){1,4}(?:it|its|they|their|them|these|those)\b", re.I)


def answer_sentences(markdown: str) -> list[str]:
    """Sentences that can answer a question on their own; one that leans on the one before ("It is
    longer than ...", "Half of it is ...") is joined to it, so the answer still says what "it" is."""
    units: list[str] = []
    for block in prose_blocks(markdown):
        for index, sentence in enumerate(SENTENCE_END.split(block)):
            if index and (ANAPHORA.match(sentence) or POINTS_BACK.match(sentence)):  # in the same paragraph
                units[-1] = f"{units[-1]} {sentence}"
            else:
                units.append(sentence)
    low, high = SENTENCE_WORDS
    return [u for u in units if low <= len(u.split()) <= 2 * high and looks_finished(u)]
