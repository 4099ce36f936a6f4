"""Teacher backends: llama-cpp (GGUF), transformers, OpenAI-compatible HTTP, and a scripted fake.

Only `base` and `scripted` are imported here; the heavy backends import their libraries lazily in
`load_backend`, so `import lab.generate` stays cheap.
"""

from __future__ import annotations

from typing import Any

from lab.generate.backends.base import (
    Backend,
    BackendError,
    Completion,
    Message,
    Prompt,
    as_messages,
    close_backend,
    flatten,
)
from lab.generate.backends.scripted import ScriptedBackend

__all__ = [
    "Backend",
    "BackendError",
    "Completion",
    "Message",
    "Prompt",
    "ScriptedBackend",
    "as_messages",
    "close_backend",
    "flatten",
    "load_backend",
]


def load_backend(teacher: str, **options: Any) -> Backend:
    """Build the backend for a teacher spec: a .gguf file, a model directory, an http(s) URL of an
    OpenAI-compatible server, a Hub repo id (fetched into the normal cache), or `scripted`."""
    if teacher == "scripted":
        return ScriptedBackend()
    from lab.models.resolve import resolve_teacher

    resolved = resolve_teacher(teacher, offline=options.pop("offline", None))
    if resolved.kind == "http":
        from lab.generate.backends.openai_http import OpenAIBackend

        return OpenAIBackend(resolved.location, **_pick(options, OpenAIBackend.OPTIONS))
    if resolved.kind == "gguf":
        from lab.generate.backends.llamacpp import LlamaCppBackend

        return LlamaCppBackend(resolved.location, teacher_id=resolved.teacher_id,
                               **_pick(options, LlamaCppBackend.OPTIONS))
    from lab.generate.backends.hf import TransformersBackend

    return TransformersBackend(resolved.location, teacher_id=resolved.teacher_id,
                               **_pick(options, TransformersBackend.OPTIONS))


def _pick(options: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in options.items() if k in allowed and v is not None}
