"""Teacher backend: a GGUF file run by llama-cpp-python (CPU, or GPU where llama.cpp was built for it).

Output is constrained by a grammar compiled from the stage's JSON Schema, so even a weak teacher
returns parseable JSON. llama-cpp-python's high-level API decodes one sequence at a time in one
context, so prompts of a batch run back to back; for many prompts in flight, serve the same GGUF
with llama.cpp's OpenAI-compatible server (`--parallel N`) and use the HTTP backend.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lab.generate.backends.base import BackendError, Completion, Prompt, as_messages

DEFAULT_N_CTX = 4096  # tokens; capped by what the model was trained for


class LlamaCppBackend:
    OPTIONS = ("n_ctx", "n_gpu_layers", "n_threads", "chat_format")

    def __init__(self, model_path: str | Path, *, teacher_id: str | None = None, n_ctx: int = DEFAULT_N_CTX,
                 n_gpu_layers: int = -1, n_threads: int | None = None, chat_format: str | None = None) -> None:
        try:
            from llama_cpp import Llama
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise BackendError("llama-cpp-python is not installed: pip install 'arborist[generate]'") from exc
        path = Path(model_path)
        if not path.is_file():
            raise BackendError(f"GGUF file not found: {path}")
        trained = _trained_context(path)
        n_ctx = min(n_ctx, trained) if trained else n_ctx
        try:
            self.llm = Llama(model_path=str(path), n_ctx=n_ctx, n_gpu_layers=n_gpu_layers, n_threads=n_threads,
                             chat_format=chat_format, verbose=False)
        except (ValueError, RuntimeError) as exc:
            raise BackendError(f"llama.cpp could not load {path.name}: {exc}") from exc
        self.context_length = self.llm.n_ctx()
        self.teacher_id = teacher_id or f"gguf:{path.name}"
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
        out = []
        for i, prompt in enumerate(prompts):
            try:
                messages: Any = as_messages(prompt)
                reply: Any = self.llm.create_chat_completion(
                    messages=messages, max_tokens=max_new_tokens, temperature=temperature, seed=seed + i,
                    grammar=grammar,
                )
            except ValueError as exc:  # e.g. the prompt does not fit the context window
                out.append(Completion("", finish_reason="error", error=str(exc)[:200]))
                continue
            choice = reply["choices"][0]
            usage = reply.get("usage") or {}
            out.append(Completion(choice["message"].get("content") or "",
                                  prompt_tokens=int(usage.get("prompt_tokens", 0)),
                                  completion_tokens=int(usage.get("completion_tokens", 0)),
                                  finish_reason=choice.get("finish_reason") or "stop"))
        return out

    def close(self) -> None:
        close = getattr(self.llm, "close", None)
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
