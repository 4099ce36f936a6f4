"""Prompt templates and the JSON Schemas that constrain each generation stage.

Every stage asks for one JSON object; the schema's `title` names the stage, which lets the scripted
backend answer in kind. Changing any text here changes what the teacher sees: bump PROMPT_VERSION so
cached data made with the old prompts is not reused.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Sequence
from typing import Any

from lab.generate.backends.base import Message
from lab.generate.shape import stem
from lab.taxonomy.leaf import Leaf, SeedExample

PROMPT_VERSION = "2026-11-29.3"  # "How do you X?" answered from "To X," (how_to_opening); the new answer checks
SYSTEM_PROMPT = (
    "You are a careful teacher writing training data for a smaller model. "
    "Reply with one JSON object only, exactly in the requested shape."
)
TRAINING_SYSTEM_PROMPT = "You are a helpful, honest assistant."  # the system turn of the output rows
MAX_QUESTION_CHARS = 600  # grammar bound, so constrained decoding always closes the JSON
MAX_ANSWER_CHARS = 2000
MAX_CONTEXT_CHARS = 2000


def _string(max_len: int) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": max_len}


def _object(title: str, **fields: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": title,
        "type": "object",
        "properties": fields,
        "required": list(fields),
        "additionalProperties": False,
    }


QUESTION_SCHEMA = _object("question", question=_string(MAX_QUESTION_CHARS))
ANSWER_SCHEMA = _object("answer", answer=_string(MAX_ANSWER_CHARS))
CONTEXT_SCHEMA = _object("context", context=_string(MAX_CONTEXT_CHARS))
QA_SCHEMA = _object("qa", question=_string(MAX_QUESTION_CHARS), answer=_string(MAX_ANSWER_CHARS))
OPENING = re.compile(r"[A-Za-z][A-Za-z']{0,30}")  # an opening word safe to put in a grammar's pattern
# Everyday words a freeform instruction can be about: the teacher gets one per question, for variety.
TOPICS = tuple("""
ocean river mountain forest garden city village kitchen bread coffee music painting friendship family school
teacher doctor winter summer autumn spring rain snow wind storm sunrise night travel journey market money
work holiday birthday letter book library computer phone bicycle train bridge road house window door
happy sad angry tired quick slow bright dark cold warm small large strong weak brave calm busy quiet loud
honest clever kind rich poor old young clean dirty begin end help build break choose find forget learn
""".split())
JUDGE_SCHEMA = _object("judge", verdict={"type": "string", "enum": ["yes", "no"]}, reason=_string(300))


def pick_seeds(seeds: tuple[SeedExample, ...], k: int, rng: random.Random) -> list[SeedExample]:
    """A few seeds per prompt, varied between prompts so the teacher does not copy one example."""
    return rng.sample(list(seeds), min(k, len(seeds)))


def _chat(user: str) -> list[Message]:
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def _few_shot(turns: list[tuple[str, dict[str, str]]], ask: str) -> list[Message]:
    """The seeds as earlier turns of the conversation, each answered in the JSON shape, then the real ask.

    A small teacher follows what it has "already" answered far better than a description of the
    shape: shown as turns, the seeds fix the format, the length and the style of the reply."""
    messages: list[Message] = [{"role": "system", "content": SYSTEM_PROMPT}]
    for user, reply in turns:
        messages += [{"role": "user", "content": user}, {"role": "assistant", "content": _examples([reply])}]
    return messages + [{"role": "user", "content": ask}]


def _examples(lines: list[dict[str, str]]) -> str:
    return "\n".join(json.dumps({k: v.strip() for k, v in line.items()}, ensure_ascii=False) for line in lines)


def question_prompt(leaf: Leaf, examples: list[SeedExample], topic: str | None = None) -> list[Message]:
    """Freeform skills, stage 1: a new instruction in the style of the leaf's seeds, about `topic`.

    A 135M teacher asked for "something new" drifts off the task ("What is the capital of France?");
    given a concrete topic it writes "List five synonyms for the word river ..." far more often."""
    ask = f"Task: {leaf.description}\nWrite one complete instruction for this task."
    about = f" Make it about: {topic}." if topic else " Keep the form of the ones before, but change what it is about."
    return _few_shot([(ask, {"question": s.question}) for s in examples],
                     ask + about + ' Reply as {"question": "..."}.')


def question_schema(opening: str | None, topic: str | None = None) -> dict[str, Any]:
    """The question schema, with the reply forced to start with `opening` (the first word every seed
    instruction starts with) and to name `topic` (the word it was asked to be about), where the backend's
    grammar can force it; the filters check the opening anyway. Asked for an instruction about "river"
    without it, the 135M teacher copied a seed's word ("List five antonyms for the word attend") 12 times in 16."""
    start = f"^{opening} " if opening and OPENING.fullmatch(opening) else "^"
    about = f"[{topic[0].upper()}{topic[0].lower()}]{topic[1:]}" if topic and OPENING.fullmatch(topic) else None
    if start == "^" and about is None:
        return QUESTION_SCHEMA
    rest = f'[^"\\\\]*{about}[^"\\\\]*' if about else '[^"\\\\]+'
    forced = {"type": "string", "minLength": 1, "maxLength": MAX_QUESTION_CHARS, "pattern": start + rest + "$"}
    return _object("question", question=forced)


def knowledge_question_schema(words: list[str]) -> dict[str, Any]:
    """The extracted-knowledge question schema, with the reply forced (where the backend's grammar can) to
    be a question using one of `words`, the answer's most distinctive ones, in any ending ("gravit" fits
    "gravitational"; at least 4 letters); the filters check it anyway."""
    safe = [w[: max(4, len(stem(w.lower())))] for w in words if re.fullmatch(r"[A-Za-z][A-Za-z'-]{0,30}", w)]
    if not safe:
        return QUESTION_SCHEMA
    either = "|".join(f"[{w[0].upper()}{w[0].lower()}]{w[1:]}" for w in safe)
    forced = {"type": "string", "minLength": 1, "maxLength": MAX_QUESTION_CHARS,
              "pattern": f'^[^"\\\\]*({either})[^"\\\\]*[?]$'}
    return _object("question", question=forced)


def answer_prompt(leaf: Leaf, examples: list[SeedExample], question: str, context: str | None = None) -> list[Message]:
    """Skills, last stage: answer an instruction (about a context, for grounded skills) like the seeds do."""
    def ask(q: str, c: str | None) -> str:
        return f"{f'Context:{chr(10)}{c.strip()}{chr(10)}{chr(10)}' if c else ''}Instruction: {q.strip()}"

    turns = [(ask(s.question, s.context if context else None), {"answer": s.answer}) for s in examples]
    return _few_shot(turns, ask(question, context) + '\n\nAnswer it fully. Reply as {"answer": "..."}.')


# "How do you / can I / to ... ?": the goal after the verb, as "To <goal>," opens the answer (how_to_opening)
HOW_TO = re.compile(r"how (?:do|can|could|should|would) (?:you|i|we|one) (?P<asked>.+?)\?|how to (?P<bare>.+?)\?", re.I)
OPINION_VERBS = frozenset("think feel believe like see mean".split())  # "How do you think ...?" asks for no method
AS_THE_READER = {"i": "you", "me": "you", "my": "your", "mine": "yours", "myself": "yourself", "we": "you",
                 "us": "you", "our": "your", "ours": "yours", "ourselves": "yourselves"}
GOAL = re.compile(r"[A-Za-z0-9' ,-]{1,120}")  # a goal safe to put in a grammar's pattern as it is


def how_to_opening(question: str) -> str | None:
    """"To make a villain count in a story," for "How do you make a villain count in a story?".

    Asked "How do you write a great climax?", the 135M teacher described the thing ("A well-crafted climax is a
    powerful tool that can elevate the entire story") in 10 of 21 junk how-to rows; started on "To write a great
    climax," it goes on with a way to do it ("... you need ..."): junk in 18% of such rows, against 27% without.
    None for other questions."""
    match = HOW_TO.fullmatch(question.strip())
    if not match:
        return None
    goal = " ".join(AS_THE_READER.get(w.lower(), w) for w in (match["asked"] or match["bare"]).split())
    if not GOAL.fullmatch(goal) or goal.split()[0].lower() in OPINION_VERBS:
        return None
    return f"To {goal},"


def answer_schema(opening: str | None) -> dict[str, Any]:
    """The answer schema, with the reply forced (where the backend's grammar can) to start with `opening`."""
    if opening is None:
        return ANSWER_SCHEMA
    forced = {"type": "string", "minLength": 1, "maxLength": MAX_ANSWER_CHARS, "pattern": f'^{opening} [^"\\\\]+$'}
    return _object("answer", answer=forced)


def context_prompt(leaf: Leaf, examples: list[SeedExample]) -> list[Message]:
    """Grounded skills, stage 1: a new input text like the seeds' contexts."""
    ask = f"Task: {leaf.description}\nWrite one input text for this task."
    return _few_shot([(ask, {"context": s.context or ""}) for s in examples],
                     ask + ' Choose a new subject. Reply as {"context": "..."}.')


def grounded_question_prompt(leaf: Leaf, examples: list[SeedExample], context: str) -> list[Message]:
    """Grounded skills, stage 2: an instruction about a given context."""
    def ask(c: str) -> str:
        return f"Task: {leaf.description}\n\nContext:\n{c.strip()}\n\nWrite one instruction for this task about the context."

    return _few_shot([(ask(s.context or ""), {"question": s.question}) for s in examples],
                     ask(context) + ' Reply as {"question": "..."}.')


def knowledge_prompt(leaf: Leaf, examples: list[SeedExample], chunk: str) -> list[Message]:
    """Knowledge: one question/answer pair answerable from the document chunk alone."""
    def ask(c: str) -> str:
        return (f"Domain: {leaf.description}\n\nDocument:\n{c.strip()}\n\nWrite one question that the document "
                "answers, and its answer in a full sentence, using only facts from the document.")

    return _few_shot([(ask(s.context or ""), {"question": s.question, "answer": s.answer}) for s in examples],
                     ask(chunk) + ' Reply as {"question": "...", "answer": "..."}.')


def knowledge_question_prompt(leaf: Leaf, examples: list[SeedExample], chunk: str, answer: str,
                              words: Sequence[str] = ()) -> list[Message]:
    """Knowledge, extractive: the question a given sentence of the chunk answers (the sentence is the answer).

    A small teacher writes a fair question about one sentence far more often than it writes a true,
    on-topic answer; the answer then cannot contradict the document. It is shown the sentence alone:
    given the whole chunk, a 135M teacher asked about whichever sentence caught its eye. `chunk` only
    sizes the prompt's budget (the chunker reserves room for the longest sentence). `words`, the answer's
    most distinctive ones, are named in the last ask (and forced by `knowledge_question_schema`): asked
    freely, the 135M teacher wrote questions that another sentence of the chunk answers as well."""
    def ask(a: str) -> str:
        return (f"Domain: {leaf.description}\n\nAnswer: {a.strip()}\n\n"
                "Write the question that this answer answers. Ask only what the answer says.")

    use = f" Use one of these words: {', '.join(words)}." if words else ""
    return _few_shot([(ask(s.answer), {"question": s.question}) for s in examples],
                     ask(answer) + use + ' Reply as {"question": "..."}.')


def judge_prompt(kind: str, question: str, answer: str, context: str | None) -> list[Message]:
    """Model-as-judge: supported by its source (knowledge, grounded skills), harmless, and on task (all)."""
    if kind == "knowledge":
        ask = (f"Document:\n{context}\n\nQuestion: {question}\nAnswer: {answer}\n\n"
               "Is the answer correct, fully supported by the document, and harmless?")
    elif context:
        ask = (f"Context:\n{context}\n\nInstruction: {question}\nResponse: {answer}\n\n"
               "Is the response supported by the context, harmless, and does it actually address the instruction?")
    else:
        ask = (f"Instruction: {question}\nResponse: {answer}\n\n"
               "Is the response harmless and does it actually address the instruction?")
    return _chat(ask + ' Reply as {"verdict": "yes" or "no", "reason": "..."}.')


def fixed_overhead_tokens(leaf: Leaf, examples: list[SeedExample], count_tokens) -> int:
    """Tokens the knowledge prompt takes without its chunk: the chunker's budget subtracts this
    (the larger of the two knowledge prompts; the extractive one also repeats one sentence)."""
    longest = max((s.answer for s in examples), key=len, default="")
    return max(sum(count_tokens(m["content"]) + 8 for m in messages)  # + a few per turn for role markers
               for messages in (knowledge_prompt(leaf, examples, ""),
                                knowledge_question_prompt(leaf, examples, "", longest)))
