"""The teacher seam: one protocol every backend implements, and the plain data it returns.

Pipelines only ever call `complete`, `count_tokens` and read `context_length`, so a GGUF file,
a transformers model directory, an OpenAI-compatible server and the scripted fake are interchangeable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

Message = dict[str, str]  # {"role": "system"|"user"|"assistant", "content": ...}
Prompt = str | list[Message]

DEFAULT_CONTEXT_LENGTH = 4096  # tokens, when a backend cannot tell


class BackendError(RuntimeError):
    """A teacher failed in a way the caller should hear about (load failure, bad configuration)."""


@dataclass(frozen=True)
class Completion:
    """One generated text with its token counts; `error` is set when this one request failed."""

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str = "stop"  # "stop" | "length" | "error"
    error: str | None = None


@runtime_checkable
class Backend(Protocol):
    """What a pipeline needs from a teacher model."""

    teacher_id: str  # stable identity of the weights: part of the cache key
    context_length: int  # tokens the teacher can attend to (prompt + answer)
    # A backend that knows its model's size also has `parameters: int` (read with getattr: optional), which
    # `knowledge_answers: auto` uses (lab.generate.cloze).

    def count_tokens(self, text: str) -> int:
        """Tokens `text` takes with the teacher's own tokenizer (or a safe over-estimate)."""
        ...

    def complete(
        self,
        prompts: Sequence[Prompt],
        *,
        max_new_tokens: int,
        temperature: float,
        seed: int,
        schema: dict[str, Any] | None = None,
    ) -> list[Completion]:
        """One completion per prompt, in order. Prompt `i` is sampled with seed `seed + i`;
        `schema` (a JSON Schema) constrains the output where the backend can."""
        ...


def as_messages(prompt: Prompt) -> list[Message]:
    """A bare string prompt is a single user turn."""
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    return list(prompt)


def flatten(prompt: Prompt) -> str:
    """Plain text of a prompt, for backends without a chat template and for token estimates."""
    if isinstance(prompt, str):
        return prompt
    return "\n\n".join(f"{m['role']}: {m['content']}" for m in prompt)


def close_backend(backend: object) -> None:
    """Release a backend's resources if it holds any (model memory, HTTP pools)."""
    close = getattr(backend, "close", None)
    if callable(close):
        close()
