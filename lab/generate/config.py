"""Generation parameters: one model, a commented default per field, validated like every Arborist config.

`GenerateParams().with_overrides({...})` (schemas.config_model) refuses unknown keys, wrong types and
values no run could use, in one line naming the key.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from schemas.config_model import ConfigModel

SPEED_ONLY = frozenset({"batch_size"})
AtLeastOne = Annotated[int, Field(ge=1)]


class GenerateParams(ConfigModel):
    samples: AtLeastOne = 20  # rows wanted per leaf
    seed: int = 0  # base sampling seed; request i of a leaf uses seed + i
    temperature: float = 0.7
    # the answer stage's own temperature (None: `temperature`): low, so answers are the teacher's likeliest and the
    # variety comes from the questions (the 135M teacher's answers at 0.7 were junk for 8 of 40 questions, at 0.2 for 5)
    answer_temperature: float | None = 0.2
    # freeform skills: an answer to "How do you X?" is made to start "To X," (prompts.how_to_opening); the 135M
    # teacher otherwise described X ("A well-crafted climax is a powerful tool ..."): junk in 27% of its kept how-to
    # rows without the opening, 18% with it (docs/benchmarks.md, round 6)
    how_to_openings: bool = True
    max_new_tokens: AtLeastOne = 256  # per request (tokens)
    batch_size: AtLeastOne = 8  # prompts sent to the backend per call
    max_attempts_factor: float = 3.0  # give up on a leaf after samples * factor first-stage requests
    seeds_per_prompt: int = 3  # seed examples shown in each prompt
    min_question_words: int = 3
    max_question_chars: int = 600
    min_answer_words: int = 2  # "True" or "adjective" teaches nothing; lowered to 1 when a seed answers in one word
    max_answer_chars: int = 2000
    min_context_words: int = 8  # grounded skills: generated input texts shorter than this are dropped
    dedupe_threshold: Annotated[float, Field(gt=0, le=1)] = 0.7  # ROUGE-L F1 at or above which a text is a near-duplicate
    judge: bool = False  # ask the teacher to accept or reject each row (more requests)
    collapse_keep_rate: float = 0.05  # stop a leaf whose keep rate falls below this ...
    collapse_min_attempts: int = 16  # ... once this many first-stage requests have been made
    chunk_answer_tokens: int = 256  # knowledge: tokens reserved for the answer in the chunk budget
    chunk_max_tokens: int = 1024  # knowledge: a chunk is at most this long even with a large window
    # "extract": a sentence of the chunk, the teacher asks; "write": it writes both; "cloze": the sentence's beginning,
    # no teacher; "auto": cloze for a teacher under 1B parameters (its questions were mostly junk), else extract
    knowledge_answers: Literal["auto", "extract", "write", "cloze"] = "auto"
    knowledge_document_share: Annotated[float, Field(ge=0, le=1)] = 0.5  # knowledge rows whose user turn carries their document chunk
    docs_fallback_to_seed_contexts: bool = False  # knowledge: use seed contexts if documents cannot be fetched
    extra: dict[str, Any] = {}  # free-form notes recorded in the manifest

    def check(self) -> None:
        """Validate again (a GenerateParams is checked when built; this keeps callers' explicit checks cheap and true)."""
        self.with_overrides({})

    def cache_fields(self) -> dict[str, Any]:
        """The parameters that shape the data (everything but speed knobs)."""
        return {k: v for k, v in self.model_dump().items() if k not in SPEED_ONLY}
