"""Per-leaf generation: freeform skills, grounded skills and knowledge, with filters at each stage.

A `LeafPipeline` asks the teacher in batches until the leaf has `samples` rows, runs out of
attempts, or its keep rate collapses. It yields rows one at a time (the caller streams them to
disk) and keeps only counters and the near-duplicate index, so memory does not grow with the data.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lab.evaluate.scoring import lcs_f1
from lab.generate import prompts as P
from lab.generate.answer_shape import COUNTS, ListShape, off_shape
from lab.generate.backends.base import Backend, Prompt
from lab.generate.cloze import cloze_prompt, knowledge_mode
from lab.generate.config import GenerateParams
from lab.generate.consistency import TaskShape, distinctive, key_words, off_task, unanswered
from lab.generate.filters import FilterCounts, judge_ok, length_ok
from lab.generate.grounding import unsupported
from lab.generate.output import make_row
from lab.generate.parse import parse_reply
from lab.generate.rouge import NearDuplicates, tokens
from lab.generate.safety import unsafe_rule
from lab.generate.shape import (
    answer_sentences,
    content_words,
    normalised,
    not_echo,
    on_topic,
    repetitive,
    sentences,
    unfinished,
    words,
)
from lab.taxonomy.leaf import Leaf, SeedExample

# Name the answer's key words to the teacher and force one into its question (`key_words`)? Measured with the
# 135M teacher on the chickadee leaf (docs/benchmarks.md): no better rows (82% junk vs 78%), and fewer per
# request (25 of 114 requests kept vs 68 of 448 without, per teacher second) as forced questions run on. Off.
FORCE_KEY_WORDS = False
COPY_MIN_WORDS = 4  # answers this long that are near-duplicates of a seed's answer were copied, not written
QUESTION_TOKENS = 64  # a new instruction longer than this (or 4 tokens per word of the longest seed's) ran away
Candidate = tuple[str, str, str | None, dict[str, Any]]  # question, answer, context, extra metadata


@dataclass
class LeafStats:
    attempted: int = 0  # first-stage requests made
    passed: int = 0  # candidates that passed every filter (kept, plus any beyond `samples`)
    kept: int = 0  # rows written
    requests: int = 0  # all requests, every stage
    prompt_tokens: int = 0
    completion_tokens: int = 0
    backend_errors: int = 0
    error_examples: list[str] = field(default_factory=list)  # the first few distinct backend errors
    filters: FilterCounts = field(default_factory=FilterCounts)
    stopped: str | None = None  # why the leaf stopped early, if it did

    @property
    def keep_rate(self) -> float:
        return self.passed / self.attempted if self.attempted else 0.0


@dataclass(frozen=True)
class SeedRules:
    """What the leaf's own seed examples allow: one-word answers, and the exact ways their text looks cut.

    The InstructLab synonyms leaf answers "Synonym for Attend is take part in": its answers may end
    on "in" (and "at"), but that does not excuse "The answer to this question is"."""

    min_answer_words: int
    excused: dict[str, frozenset[str]]  # shape check -> the `unfinished` reasons the seeds themselves have
    answers_name_the_question: bool  # every seed answer says a word its question names ("Characters are ...")

    @classmethod
    def of(cls, leaf: Leaf, params: GenerateParams) -> SeedRules:
        shortest = min(len(words(s.answer)) for s in leaf.seeds)
        excused = {name: frozenset().union(*(unfinished(t, answer=name == "incomplete:answer") for t in texts))
                   for name, texts in (("incomplete:question", [s.question for s in leaf.seeds]),
                                       ("incomplete:answer", [s.answer for s in leaf.seeds]))}
        named = all(content_words(s.question) & content_words(s.answer) for s in leaf.seeds)
        return cls(max(1, min(params.min_answer_words, shortest)), excused, named)


class LeafPipeline:
    def __init__(self, leaf: Leaf, backend: Backend, params: GenerateParams,
                 chunks: list[tuple[str, str]] | None = None,
                 on_drop: Callable[[str, dict[str, str | None]], None] | None = None) -> None:
        if not leaf.seeds:
            raise ValueError(f"{leaf.path}: no seed examples to learn from")
        if leaf.kind == "knowledge" and not chunks:
            raise ValueError(f"{leaf.path}: a knowledge leaf needs document chunks")
        self.leaf, self.backend, self.params = leaf, backend, params
        self.chunks = chunks or []
        self.stats = LeafStats()
        self.stats.filters.sink = on_drop  # (filter, the dropped row's texts)
        self.rng = random.Random(f"{params.seed}:{leaf.content_hash}")
        # its own stream: which rows carry their document must not change which prompts come next
        self._doc_rng = random.Random(f"{params.seed}:{leaf.content_hash}:document")
        self._next_seed = params.seed
        self.task = TaskShape.of([s.question for s in leaf.seeds], leaf.description)
        self.list_shape = ListShape.of([(s.question, s.answer) for s in leaf.seeds]) \
            if leaf.kind == "freeform_skill" else None
        initial = [s.context or "" for s in leaf.seeds] if leaf.kind == "grounded_skill" else \
            [self._dedupe_key(s.question) for s in leaf.seeds]
        self.dedupe = NearDuplicates(params.dedupe_threshold, initial)
        self.rules = SeedRules.of(leaf, params)
        self._seed_sentences = {normalised(s) for seed in leaf.seeds for s in sentences(seed.answer)}
        self._unasked: dict[str, list[str]] = {}  # knowledge, extractive: chunk -> its sentences not yet asked about
        # knowledge rows as sentence completions, not teacher-written questions (`knowledge_answers`, lab.generate.cloze)
        self.knowledge_mode = knowledge_mode(params.knowledge_answers, getattr(backend, "parameters", None))
        self.cloze = leaf.kind == "knowledge" and self.knowledge_mode == "cloze"
        self.subject = leaf.path.rsplit("/", 2)[-2].replace("_", " ") if "/" in leaf.path else leaf.description
        self.opening = leaf.seeds[0].question.split()[0] if self.task.opening else None  # as the seeds spell it
        longest = max(len(s.question.split()) for s in leaf.seeds)
        self.question_tokens = min(params.max_new_tokens, max(QUESTION_TOKENS, 4 * longest))
        self._batch: Callable[[int], list[Candidate]] = {
            "freeform_skill": self._freeform,
            "grounded_skill": self._grounded,
            "knowledge": self._knowledge,
        }[leaf.kind]

    # -- the loop -------------------------------------------------------------------------------
    def run(self) -> Iterator[dict[str, Any]]:
        """Rows, as they pass every filter. Stops at `samples`, the attempt cap, or a collapse."""
        p, s = self.params, self.stats
        cap = max(p.samples, math.ceil(p.samples * p.max_attempts_factor))
        while s.kept < p.samples and s.attempted < cap:
            n = min(p.batch_size, cap - s.attempted)
            if s.passed:  # ask for about what is still missing, at the keep rate seen so far
                n = min(n, max(1, math.ceil((p.samples - s.kept) / s.keep_rate * 1.2)))
            s.attempted += n
            for question, answer, context, extra in self._judge(self._batch(n)):
                s.passed += 1
                if s.kept >= p.samples:
                    continue
                s.kept += 1
                yield make_row(self.leaf, question, answer, context, extra, self._document(context))
            if s.attempted >= p.collapse_min_attempts and s.keep_rate < p.collapse_keep_rate:
                s.stopped = (f"stopped after {s.attempted} requests: keep rate {s.keep_rate:.0%} is below "
                             f"{p.collapse_keep_rate:.0%}; {s.filters.explain()}")
                return

    def _document(self, chunk: str | None) -> str | None:
        """A knowledge row carries its chunk in this share of rows (InstructLab's knowledge data does, in
        the RAFT style); the others are closed-book, so the student learns the fact, not to read it."""
        if self.leaf.kind != "knowledge" or not chunk or self.cloze:  # shown the document, a completion is a copy
            return None
        return chunk if self._doc_rng.random() < self.params.knowledge_document_share else None

    # -- one batch per leaf kind ---------------------------------------------------------------
    def _examples(self) -> list[SeedExample]:
        """One pick of seed examples for a whole batch of one stage: the prompts then share their first turns,
        which llama.cpp (and servers with prefix caching) evaluate once; batches differ in their pick."""
        return P.pick_seeds(self.leaf.seeds, self.params.seeds_per_prompt, self.rng)

    def _freeform(self, n: int) -> list[Candidate]:
        examples = self._examples()
        if self.opening:  # a template task ("List ... synonyms for the word ..."): a topic fills its slot
            topics = [self.rng.choice(P.TOPICS) for _ in range(n)]
            asked = [self._ask([P.question_prompt(self.leaf, examples, topic)], P.question_schema(self.opening, topic),
                               max_tokens=self.question_tokens)[0] for topic in topics]  # one grammar per topic
        else:  # an open task: a forced everyday topic made it another task ("Why is family the most important ...")
            asked = self._ask([P.question_prompt(self.leaf, examples) for _ in range(n)], P.QUESTION_SCHEMA,
                              max_tokens=self.question_tokens)
        questions = [f["question"] for f in asked if f and self._question_ok(f["question"], dedupe=True)]
        return self._answers([(q, None, {}) for q in questions])

    def _on_task(self, question: str) -> bool:
        """A freeform skill's new instruction uses the words that make the seeds' instructions this task."""
        why = off_task(question, self.task)
        return self._check("off-task", why is None, {"question": question, "why": why})

    def _grounded(self, n: int) -> list[Candidate]:
        examples = self._examples()
        asked = self._ask([P.context_prompt(self.leaf, examples) for _ in range(n)], P.CONTEXT_SCHEMA)
        contexts = [f["context"] for f in asked if f and self._check(
            "length:context", length_ok(f["context"], self.params.min_context_words, P.MAX_CONTEXT_CHARS))
            and self._check("dedupe", self.dedupe.admit(f["context"]))]
        asked = self._ask([P.grounded_question_prompt(self.leaf, examples, c) for c in contexts],
                          P.QUESTION_SCHEMA)
        pending: list[tuple[str, str | None, dict[str, Any]]] = [
            (f["question"], c, {}) for f, c in zip(asked, contexts, strict=True)
                   if f and self._question_ok(f["question"], dedupe=False)]
        return self._answers(pending)

    def _knowledge(self, n: int) -> list[Candidate]:
        start = self.stats.attempted - n
        picked = [self.chunks[(start + i) % len(self.chunks)] for i in range(n)]
        if self.cloze:
            return self._completions(picked)
        if self.knowledge_mode == "extract":
            return self._extracted(picked)
        examples = self._examples()
        asked = self._ask([P.knowledge_prompt(self.leaf, examples, text) for _, text in picked], P.QA_SCHEMA)
        out: list[Candidate] = []
        for f, (source, text) in zip(asked, picked, strict=True):
            if (f and self._question_ok(f["question"], dedupe=False) and self._answer_ok(f["question"], f["answer"], text)
                    and self._check("dedupe", self.dedupe.admit(f["question"]))):
                out.append((f["question"], f["answer"], text, {"source": source}))
        return out

    def _extracted(self, picked: list[tuple[str, str]]) -> list[Candidate]:
        """Knowledge answers that are sentences of the chunk; the teacher writes the question each answers
        (with FORCE_KEY_WORDS, using one of the answer's distinctive words, forced by the grammar)."""
        answers = [self._next_sentence(text) for _, text in picked]
        keys = [key_words(answer, text) if FORCE_KEY_WORDS else []
                for (_, text), answer in zip(picked, answers, strict=True)]
        examples = self._examples()
        prompts = [P.knowledge_question_prompt(self.leaf, examples, text, answer, words)
                   for (_, text), answer, words in zip(picked, answers, keys, strict=True)]
        if FORCE_KEY_WORDS:  # one grammar per answer (its own words), so one request each
            asked = [self._ask([prompt], P.knowledge_question_schema(words), max_tokens=self.question_tokens)[0]
                     for prompt, words in zip(prompts, keys, strict=True)]
        else:  # a question longer than the seeds' allow ran away
            asked = self._ask(prompts, P.QUESTION_SCHEMA, max_tokens=self.question_tokens)
        out: list[Candidate] = []
        for f, (source, text), answer in zip(asked, picked, answers, strict=True):
            if (f and self._question_ok(f["question"], dedupe=False) and self._answer_ok(f["question"], answer, text)
                    and self._check("dedupe", self.dedupe.admit(f["question"]))):
                out.append((f["question"], answer, text, {"source": source}))
        return out

    def _completions(self, picked: list[tuple[str, str]]) -> list[Candidate]:
        """Knowledge rows with no teacher request: a sentence's beginning to finish, the sentence as the answer."""
        out: list[Candidate] = []
        for source, text in picked:
            answer = self._next_sentence(text)
            prompt = cloze_prompt(answer, self.subject)
            if prompt is None:
                self._check("length:answer", False, {"answer": answer, "why": "too short to split"})
            elif self._check("dedupe", self.dedupe.admit(prompt), {"question": prompt}):
                out.append((prompt, answer, text, {"source": source, "form": "completion"}))
        return out

    def _next_sentence(self, chunk: str) -> str:
        """Each sentence of a chunk once, in a seeded order, before any is asked about again."""
        if not self._unasked.get(chunk):
            pool = answer_sentences(chunk) or [chunk]
            self._unasked[chunk] = self.rng.sample(pool, len(pool))
        return self._unasked[chunk].pop()

    # -- shared stages -------------------------------------------------------------------------
    def _answers(self, pending: list[tuple[str, str | None, dict[str, Any]]]) -> list[Candidate]:
        examples = self._examples()
        prompts = [P.answer_prompt(self.leaf, examples, q, c) for q, c, _ in pending]
        asked = self._ask_opened(prompts, [self._opening(q) for q, _, _ in pending])
        return [(q, f["answer"], c, extra) for f, (q, c, extra) in zip(asked, pending, strict=True)
                if f and self._answer_ok(q, f["answer"], None if c is None else f"{c}\n{q}")]

    def _opening(self, question: str) -> str | None:
        """How a freeform answer must start, if the question asks how to do something (`how_to_openings`)."""
        if self.leaf.kind != "freeform_skill" or not self.params.how_to_openings:
            return None
        return P.how_to_opening(question)

    def _judge(self, candidates: list[Candidate]) -> list[Candidate]:
        """The safety rules always; then, when asked for, the teacher's verdict on each row."""
        safe = [c for c in candidates if self._check("safety", (rule := unsafe_rule(c[0], c[1], c[2])) is None,
                                                     {"question": c[0], "answer": c[1], "source": c[2], "why": rule})]
        if not self.params.judge or not safe:
            return safe
        prompts = [P.judge_prompt(self.leaf.kind, q, a, c) for q, a, c, _ in safe]
        verdicts = self._ask(prompts, P.JUDGE_SCHEMA)
        return [c for c, v in zip(safe, verdicts, strict=True)
                if self._check("judge", judge_ok(v), {"question": c[0], "answer": c[1], "why": (v or {}).get("reason")})]

    def _question_ok(self, question: str, *, dedupe: bool) -> bool:
        p, shown = self.params, {"question": question}
        if not (self._check("length:question", length_ok(question, p.min_question_words, p.max_question_chars), shown)
                and self._shape("incomplete:question", question, shown)
                and (self.leaf.kind != "freeform_skill" or self._on_task(question))):
            return False
        return not dedupe or self._check("dedupe", self.dedupe.admit(self._dedupe_key(question)), shown)

    def _dedupe_key(self, question: str) -> str:
        """A freeform instruction is compared on the words that are not its task's (see `distinctive`)."""
        return distinctive(question, self.task) if self.leaf.kind == "freeform_skill" else question

    def _answer_ok(self, question: str, answer: str, source: str | None) -> bool:
        """Long enough, not the question again, not cut off or looping, an answer to this question, and
        (given a source) no facts it lacks."""
        p, shown = self.params, {"question": question, "answer": answer, "source": source}
        if not (self._check("length:answer", length_ok(answer, self.rules.min_answer_words, p.max_answer_chars), shown)
                and self._check("echo", not_echo(answer, question), shown)
                and self._shape("incomplete:answer", answer, shown)
                and self._check("repetitive", not repetitive(answer), shown)
                and (self.leaf.kind != "freeform_skill" or self._check("copies-seed", not self._copies_seed(answer), shown))
                and self._list_shape_ok(question, answer, shown)
                and (self.leaf.kind != "knowledge" or self._answers_question(question, answer, source or ""))
                and (self.leaf.kind != "freeform_skill" or self._answers_instruction(question, answer))):
            return False
        if source is None:
            return True
        missing = unsupported(answer, source)
        return self._check("grounding", not missing,
                           {**shown, "why": "not in the source: " + ", ".join(missing)})

    def _copies_seed(self, answer: str) -> bool:
        """A new instruction answered with (nearly) a seed's answer: "Syntax for brave is take part in", or with
        a seed answer's sentence word for word ("The plot is the sequence of events that make up the story ...").
        A one- to three-word answer ("Joyful.") may rightly be a seed's again."""
        mine = tokens(answer)
        if any(normalised(s) in self._seed_sentences for s in sentences(answer)):
            return True
        return len(mine) >= COPY_MIN_WORDS and any(lcs_f1(mine, tokens(s.answer)) >= self.params.dedupe_threshold for s in self.leaf.seeds)

    def _list_shape_ok(self, question: str, answer: str, shown: Mapping[str, str | None]) -> bool:
        """A skill whose seeds answer "List N ..." with N lines: N lines (plus the seeds' heading), none of
        them the instruction's own word, none twice (see `answer_shape`)."""
        if self.list_shape is None:
            return True
        own = set(distinctive(question, self.task).split()) - set(COUNTS)
        why = off_shape(question, answer, self.list_shape, own)
        return self._check("list-shape", why is None, {**shown, "why": why})

    def _answers_question(self, question: str, answer: str, source: str) -> bool:
        """Knowledge: an extracted sentence must be the one the question asks about; a written answer
        must at least share the question's topic."""
        if self.knowledge_mode == "extract":
            why = unanswered(question, answer, source)
        else:
            why = None if on_topic(question, answer, source) else "shares too few of the question's words"
        return self._check("off-topic", why is None, {"question": question, "answer": answer, "source": source,
                                                     "why": why})

    def _answers_instruction(self, question: str, answer: str) -> bool:
        """Where every seed answer says a word its question names ("How important are characters?" ->
        "Characters are crucial ..."), so must a new one: "What is storytelling exactly?" -> "Sketching is the
        practice of ..." answers another question. Seeds that do not ("Write a haiku about rain" -> the haiku)
        leave the check off."""
        if not self.rules.answers_name_the_question:
            return True
        ok = bool(content_words(question) & content_words(answer))
        return self._check("off-topic", ok, {"question": question, "answer": answer,
                                             "why": None if ok else "says nothing its question names"})

    def _shape(self, name: str, text: str, example: Mapping[str, str | None]) -> bool:
        """Cut-off text is dropped, unless it looks cut in exactly a way the leaf's own seeds do."""
        reasons = unfinished(text, answer=name == "incomplete:answer") - self.rules.excused[name]
        return self._check(name, not reasons, {**example, "why": ", ".join(sorted(reasons))})

    def _check(self, name: str, ok: bool, example: Mapping[str, str | None] | None = None) -> bool:
        return self.stats.filters.record(name, ok, None if example is None else dict(example))

    def _ask_opened(self, prompts: Sequence[Prompt], openings: Sequence[str | None]) -> list[dict[str, str] | None]:
        """Answers that must start with their prompt's opening: one request batch per opening, replies in order."""
        groups: dict[str | None, list[int]] = {}
        for i, opening in enumerate(openings):
            groups.setdefault(opening, []).append(i)
        replies: list[dict[str, str] | None] = [None] * len(prompts)
        for opening, picked in groups.items():
            for i, reply in zip(picked, self._ask([prompts[i] for i in picked], P.answer_schema(opening)), strict=True):
                replies[i] = reply
        return replies

    def _ask(self, prompts: Sequence[Prompt], schema: dict[str, Any],
             max_tokens: int | None = None) -> list[dict[str, str] | None]:
        """Ask the teacher, count tokens, and parse every reply; failures are counted by reason."""
        if not prompts:
            return []
        p, s = self.params, self.stats
        stage = schema["title"]
        temperature = p.answer_temperature if stage == "answer" and p.answer_temperature is not None else p.temperature
        replies = self.backend.complete(prompts, max_new_tokens=max_tokens or p.max_new_tokens, temperature=temperature,
                                        seed=self._next_seed, schema=schema)
        self._next_seed += len(prompts)
        s.requests += len(prompts)
        parsed: list[dict[str, str] | None] = []
        for reply in replies:
            s.prompt_tokens += reply.prompt_tokens
            s.completion_tokens += reply.completion_tokens
            if not self._check(f"truncated:{stage}", reply.finish_reason != "length", {"reply": reply.text}):
                parsed.append(None)  # cut at max_new_tokens: counted here, not as unparseable
                continue
            if reply.error:
                s.backend_errors += 1
                if len(s.error_examples) < 3 and reply.error not in s.error_examples:
                    s.error_examples.append(reply.error)
                result = None
                reason = "backend error"
            else:
                got = parse_reply(reply.text, schema)
                result, reason = got.fields, got.reason
            if result is None:
                s.filters.parse_failures[f"{stage}: {reason}"] += 1
            self._check(f"parse:{stage}", result is not None, {"reply": reply.text, "why": reason})
            parsed.append(result)
        return parsed
