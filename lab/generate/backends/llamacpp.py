"""Teacher backend: a GGUF file run by llama-cpp-python (CPU, or GPU where llama.cpp was built for it).

Output is constrained by a grammar compiled from the stage's JSON Schema, so even a weak teacher
returns parseable JSON. llama-cpp-python's high-level API decodes one sequence at a time in one
context; `parallel=N` opens N contexts on the same memory-mapped weights (the file's pages are
shared, each context adds only its KV cache) and keeps N prompts in flight on a thread pool, which
pays off on a many-core CPU. On a GPU each context would upload the weights again: there, serve the
GGUF with llama.cpp's OpenAI-compatible server (`--parallel N`) and use the HTTP backend.
"""

from __future__ import annotations

import json
import os
import queue
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from lab.generate.backends.base import BackendError, Completion, Prompt, as_messages
from lab.llamacpp import plain_buffers

DEFAULT_N_CTX = 4096  # tokens; capped by what the model was trained for


class LlamaCppBackend:
    OPTIONS = ("n_ctx", "n_gpu_layers", "n_threads", "chat_format", "parallel")

    def __init__(self, model_path: str | Path, *, teacher_id: str | None = None, n_ctx: int = DEFAULT_N_CTX,
                 n_gpu_layers: int = -1, n_threads: int | None = None, chat_format: str | None = None,
                 parallel: int = 1) -> None:
        try:
            from llama_cpp import Llama
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise BackendError("llama-cpp-python is not installed: pip install 'arborist[generate]'") from exc
        path = Path(model_path)
        if not path.is_file():
            raise BackendError(f"GGUF file not found: {path}")
        trained = _trained_context(path)
        n_ctx = min(n_ctx, trained) if trained else n_ctx
        parallel = max(1, parallel)
        if n_threads is None and parallel > 1:
            n_threads = max(1, (os.cpu_count() or 1) // parallel)
        try:
            with plain_buffers():  # repacked CPU buffers crash on this project's CPUs (lab.llamacpp)
                contexts = [Llama(model_path=str(path), n_ctx=n_ctx, n_gpu_layers=n_gpu_layers, n_threads=n_threads,
                                  chat_format=chat_format, verbose=False) for _ in range(parallel)]
        except (ValueError, RuntimeError) as exc:
            raise BackendError(f"llama.cpp could not load {path.name}: {exc}") from exc
        self.llm = contexts[0]
        self._idle: queue.Queue = queue.Queue()
        for context in contexts:
            self._idle.put(context)
        self._pool = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="llama") if parallel > 1 else None
        self.context_length = self.llm.n_ctx()
        self.teacher_id = teacher_id or f"gguf:{path.name}"
        self.parameters = gguf_parameters(path)  # the teacher's size: a small one does not write knowledge questions
        self._grammars: dict[str, Any] = {}

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def _grammar(self, schema: dict[str, Any] | None):
        if schema is None:
            return None
        key = json.dumps(_without_max_length(schema), sort_keys=True)
        if key not in self._grammars:  # compiling a grammar costs more than a short completion
            from llama_cpp import LlamaGrammar

            self._grammars[key] = LlamaGrammar.from_json_schema(key, verbose=False)
        return self._grammars[key]

    def complete(self, prompts: Sequence[Prompt], *, max_new_tokens: int, temperature: float, seed: int,
                 schema: dict[str, Any] | None = None) -> list[Completion]:
        grammar = self._grammar(schema)

        def one(i: int) -> Completion:
            return self._one(prompts[i], max_new_tokens, temperature, seed + i, grammar)

        if self._pool is None:
            return [one(i) for i in range(len(prompts))]
        return list(self._pool.map(one, range(len(prompts))))

    def _one(self, prompt: Prompt, max_new_tokens: int, temperature: float, seed: int, grammar: Any) -> Completion:
        llm = self._idle.get()  # a context of our own while this prompt decodes
        try:
            messages: Any = as_messages(prompt)
            reply: Any = llm.create_chat_completion(messages=messages, max_tokens=max_new_tokens,
                                                    temperature=temperature, seed=seed, grammar=grammar)
        except ValueError as exc:  # e.g. the prompt does not fit the context window
            return Completion("", finish_reason="error", error=str(exc)[:200])
        finally:
            self._idle.put(llm)
        choice = reply["choices"][0]
        usage = reply.get("usage") or {}
        return Completion(choice["message"].get("content") or "", prompt_tokens=int(usage.get("prompt_tokens", 0)),
                          completion_tokens=int(usage.get("completion_tokens", 0)),
                          finish_reason=choice.get("finish_reason") or "stop")

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        while not self._idle.empty():
            close = getattr(self._idle.get(), "close", None)
            if callable(close):
                close()


def _without_max_length(schema: Any) -> Any:
    """llama.cpp unrolls maxLength into nested rules and refuses long ones; max_new_tokens bounds length anyway."""
    if isinstance(schema, dict):
        return {k: _without_max_length(v) for k, v in schema.items() if k != "maxLength"}
    if isinstance(schema, list):
        return [_without_max_length(v) for v in schema]
    return schema


def _trained_context(path: Path) -> int:
    """The context length the model was trained for, read from the GGUF header (0 if absent)."""
    try:
        from gguf import GGUFReader

        reader = GGUFReader(path)
        arch_field = reader.fields.get("general.architecture")
        arch = bytes(arch_field.parts[arch_field.data[0]]).decode() if arch_field else "llama"
        field = reader.fields.get(f"{arch}.context_length")
        return int(field.parts[field.data[0]][0]) if field else 0
    except Exception:  # noqa: BLE001 - a missing or odd header just means "no cap"
        return 0


def gguf_parameters(path: Path) -> int | None:
    """The model's parameter count, summed over the GGUF's tensors (None if the header cannot be read)."""
    try:
        from gguf import GGUFReader

        return sum(int(t.n_elements) for t in GGUFReader(path).tensors) or None
    except Exception:  # noqa: BLE001 - an odd header only means the size is unknown
        return None
