"""A deterministic teacher for tests and the demo: answers are built from the prompt's own words.

No model runs: each stage (named by the schema's title) gets a well-formed JSON reply made from
words of the prompt, picked with a random generator seeded by (seed + index, prompt), so the data
is meaningful enough to read and identical between runs. A `script` replaces the replies, to drive
the pipeline through parse failures, empty outputs and collapse.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Callable, Sequence
from typing import Any

from lab.generate.backends.base import Completion, Prompt, flatten

WORD = re.compile(r"[A-Za-z][A-Za-z'-]{3,}")
STOPWORDS = frozenset(
    "that this with from have what which when where will would about their there these those reply "
    "write instruction instructions example examples question questions answer answers task context "
    "document domain same different kind using only json careful teacher training data smaller model "
    "object exactly requested shape input text texts subject well good facts".split()
)
EXAMPLE_QUESTION = re.compile(r'\{"question": ("(?:[^"\\\\]|\\\\.)*")\}')  # an example reply in the prompt
Script = Callable[[str, str, int], str] | Sequence[str]


class ScriptedBackend:
    """The fake teacher. `calls` and `prompts_seen` let tests prove whether any model work happened."""

    def __init__(self, script: Script | None = None, *, context_length: int = 4096,
                 teacher_id: str = "scripted:v1") -> None:
        self.script = script
        self.context_length = context_length
        self.teacher_id = teacher_id
        self.calls = 0
        self.prompts_seen = 0
        self._cursor = 0

    def count_tokens(self, text: str) -> int:
        return len(text.split())  # one token per word: easy to reason about in tests

    def complete(self, prompts: Sequence[Prompt], *, max_new_tokens: int, temperature: float, seed: int,
                 schema: dict[str, Any] | None = None) -> list[Completion]:
        self.calls += 1
        stage = (schema or {}).get("title", "text")
        out = []
        for i, prompt in enumerate(prompts):
            self.prompts_seen += 1
            text = flatten(prompt)
            reply = self._scripted(stage, text) if self.script is not None else _reply(stage, text, seed + i)
            words = reply.split()[:max_new_tokens]
            out.append(Completion(" ".join(words) if len(reply.split()) > max_new_tokens else reply,
                                  prompt_tokens=self.count_tokens(text), completion_tokens=len(words),
                                  finish_reason="length" if len(reply.split()) > max_new_tokens else "stop"))
        return out

    def _scripted(self, stage: str, text: str) -> str:
        script = self.script
        if callable(script):
            reply = script(stage, text, self._cursor)
        else:
            assert script is not None
            reply = script[self._cursor % len(script)]
        self._cursor += 1
        return reply


def _words(text: str) -> list[str]:
    seen: dict[str, None] = {}
    for word in WORD.findall(text):
        low = word.lower()
        if low not in STOPWORDS:
            seen.setdefault(low, None)
    return list(seen) or ["something"]


def _section(text: str, header: str) -> str:
    """The text after the last `header` (earlier ones are few-shot examples) up to the next blank line."""
    start = text.rfind(header)
    if start < 0:
        return text
    rest = text[start + len(header):]
    end = rest.find("\n\n", 1)
    return rest if end < 0 else rest[:end]


def _reply(stage: str, text: str, seed: int) -> str:
    rng = random.Random(int(hashlib.sha256(f"{seed}\0{text}".encode()).hexdigest()[:16], 16))
    if stage == "judge":
        return json.dumps({"verdict": "yes", "reason": "consistent with the given text"})
    source = _section(text, "Document:\n") if "Document:\n" in text else text
    words = _words(source)
    pick = lambda n: rng.sample(words, min(n, len(words)))  # noqa: E731
    if stage == "question" and "\nAnswer: " in text:  # knowledge, extractive: ask about the given answer
        said = _words(_section(text, "\nAnswer: "))
        return json.dumps({"question": f"Explain {' '.join(rng.sample(said, min(3, len(said))))}?"})
    a, b = pick(3), pick(3)
    shown = [q for q in map(json.loads, EXAMPLE_QUESTION.findall(text)) if q != "..."]
    if stage == "question" and shown and "\nContext:" not in text:
        # a freeform skill: keep the form of the last example instruction, as a real teacher is asked to
        a, b = pick(5), pick(5)  # enough new words that two such questions are no near-duplicates
        return json.dumps({"question": f"{shown[-1]} Explain {' '.join(a)} versus {' '.join(b)}?"})
    if stage == "question":
        return json.dumps({"question": f"Explain {' '.join(a)} versus {' '.join(b)}?"})
    if stage == "context":
        sentence = " ".join(pick(14))
        return json.dumps({"context": f"{sentence[:1].upper()}{sentence[1:]}."})
    if stage == "answer":
        instruction = _section(text, "Instruction: ").split("\n")[0]
        focus = " ".join(_words(instruction)[:4])
        return json.dumps({"answer": f"In short, {focus} connects to {' '.join(pick(6))}."})
    if stage == "qa":
        sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", source) if len(s.split()) >= 4]
        fact = rng.choice(sentences) if sentences else " ".join(pick(8))
        topic = " ".join(rng.sample(_words(fact), min(5, len(_words(fact)))))
        return json.dumps({"question": f"What about {topic}?", "answer": fact})
    return " ".join(pick(10))
