"""Generation parameters: one dataclass, a commented default per field, and typed overrides."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

# Fields that change only speed, never the data: left out of the cache key.
SPEED_ONLY = frozenset({"batch_size"})


@dataclass(frozen=True)
class GenerateParams:
    samples: int = 20  # rows wanted per leaf
    seed: int = 0  # base sampling seed; request i of a leaf uses seed + i
    temperature: float = 0.7
    max_new_tokens: int = 256  # per request (tokens)
    batch_size: int = 8  # prompts sent to the backend per call
    max_attempts_factor: float = 3.0  # give up on a leaf after samples * factor first-stage requests
    seeds_per_prompt: int = 3  # seed examples shown in each prompt
    min_question_words: int = 3
    max_question_chars: int = 600
    min_answer_words: int = 2  # "True" or "adjective" teaches nothing; lowered to 1 when a seed answers in one word
    max_answer_chars: int = 2000
    min_context_words: int = 8  # grounded skills: generated input texts shorter than this are dropped
    dedupe_threshold: float = 0.7  # ROUGE-L F1 at or above which a text is a near-duplicate
    judge: bool = False  # ask the teacher to accept or reject each row (more requests)
    collapse_keep_rate: float = 0.05  # stop a leaf whose keep rate falls below this ...
    collapse_min_attempts: int = 16  # ... once this many first-stage requests have been made
    chunk_answer_tokens: int = 256  # knowledge: tokens reserved for the answer in the chunk budget
    chunk_max_tokens: int = 1024  # knowledge: a chunk is at most this long even with a large window
    knowledge_answers: str = "extract"  # "extract": a sentence of the chunk, the teacher asks; "write": it writes both
    knowledge_document_share: float = 0.5  # knowledge rows whose user turn carries their document chunk
    docs_fallback_to_seed_contexts: bool = False  # knowledge: use seed contexts if documents cannot be fetched
    extra: dict[str, Any] = field(default_factory=dict)  # free-form notes recorded in the manifest

    def with_overrides(self, overrides: dict[str, Any]) -> GenerateParams:
        """A copy with `overrides` applied; unknown keys and wrong types are rejected."""
        fields = {f.name: f for f in dataclasses.fields(self)}
        clean: dict[str, Any] = {}
        for key, value in overrides.items():
            if key not in fields:
                raise ValueError(f"unknown generation parameter {key!r}; known: {', '.join(sorted(fields))}")
            expected = type(getattr(self, key))
            if expected is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
                raise ValueError(f"{key} must be {expected.__name__}, got {type(value).__name__}")
            clean[key] = value
        params = dataclasses.replace(self, **clean)
        params.check()
        return params

    def check(self) -> None:
        if self.samples < 1:
            raise ValueError("samples must be at least 1")
        if self.batch_size < 1 or self.max_new_tokens < 1:
            raise ValueError("batch_size and max_new_tokens must be at least 1")
        if not 0 < self.dedupe_threshold <= 1:
            raise ValueError("dedupe_threshold must be in (0, 1]")
        if self.knowledge_answers not in ("extract", "write"):
            raise ValueError("knowledge_answers must be 'extract' or 'write'")
        if not 0 <= self.knowledge_document_share <= 1:
            raise ValueError("knowledge_document_share must be in [0, 1]")

    def cache_fields(self) -> dict[str, Any]:
        """The parameters that shape the data (everything but speed knobs)."""
        return {k: v for k, v in dataclasses.asdict(self).items() if k not in SPEED_ONLY}
