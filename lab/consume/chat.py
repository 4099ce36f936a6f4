"""A small terminal chat for trying a release: llama.cpp for GGUF files, transformers for HF folders.

Both backends format the conversation with the model's own chat template and decode greedily by
default, so the same release answers the same question the same way in either format.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

DEFAULT_MAX_TOKENS = 256
DEFAULT_CONTEXT = 2048  # tokens, llama.cpp context window
QUIT = ("/exit", "/quit")
RESET = "/reset"

Message = dict[str, str]


class ChatBackend(Protocol):
    def reply(self, messages: list[Message]) -> str: ...


class LlamaCppChat:
    """A GGUF model through llama-cpp-python; the template comes from the file's metadata."""

    def __init__(self, gguf_path: Path, max_tokens: int = DEFAULT_MAX_TOKENS, temperature: float = 0.0,
                 n_ctx: int = DEFAULT_CONTEXT):
        from llama_cpp import Llama

        self.llm = Llama(str(gguf_path), n_ctx=min(n_ctx, _trained_context(gguf_path) or n_ctx),
                         verbose=False, seed=0)
        self.max_tokens, self.temperature = max_tokens, temperature

    def reply(self, messages: list[Message]) -> str:
        out: Any = self.llm.create_chat_completion(messages=messages,  # type: ignore[arg-type]
                                                   max_tokens=self.max_tokens, temperature=self.temperature,
                                                   top_k=1 if self.temperature == 0 else 40)
        return str(out["choices"][0]["message"]["content"] or "").strip()


def _trained_context(gguf_path: Path) -> int | None:
    """The context length the model was trained with, from the GGUF metadata."""
    from gguf import GGUFReader

    for name, field in GGUFReader(str(gguf_path)).fields.items():
        if name.endswith(".context_length"):
            return int(field.parts[field.data[0]][0])
    return None


class TransformersChat:
    """A Hugging Face model folder through transformers, with the tokenizer's chat template."""

    def __init__(self, model_dir: Path, max_tokens: int = DEFAULT_MAX_TOKENS, temperature: float = 0.0):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        self.model = AutoModelForCausalLM.from_pretrained(model_dir)
        self.model.eval()
        self.max_tokens, self.temperature = max_tokens, temperature

    def reply(self, messages: list[Message]) -> str:
        import torch

        prompt = str(self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False))
        ids = self.tokenizer(prompt, return_tensors="pt", add_special_tokens=False).input_ids
        sample = self.temperature > 0
        with torch.no_grad():
            out = self.model.generate(ids, max_new_tokens=self.max_tokens, do_sample=sample,
                                      temperature=self.temperature if sample else None,
                                      pad_token_id=self.tokenizer.pad_token_id)
        return str(self.tokenizer.decode(out[0][ids.shape[1]:], skip_special_tokens=True)).strip()


def find_gguf(path: Path, quant: str | None = None) -> Path:
    """The GGUF file to load: `path` itself, or the one in a folder (the requested quant when several)."""
    if path.is_file():
        return path
    files = sorted(path.glob("*.gguf"))
    if quant:
        files = [f for f in files if f.name.endswith(f"-{quant}.gguf")] or files
    if not files:
        raise FileNotFoundError(f"no .gguf file in {path}")
    return files[0]


def open_backend(path: Path, fmt: str, quant: str | None = None, max_tokens: int = DEFAULT_MAX_TOKENS,
                 temperature: float = 0.0) -> ChatBackend:
    if fmt == "gguf":
        return LlamaCppChat(find_gguf(path, quant), max_tokens, temperature)
    return TransformersChat(path, max_tokens, temperature)


def chat_loop(backend: ChatBackend, lines: Iterable[str], write: Callable[[str], None],
              system: str | None = None) -> int:
    """Read user turns from `lines`, write replies; /reset forgets the conversation, /exit ends it."""
    history: list[Message] = [{"role": "system", "content": system}] if system else []
    start = list(history)
    turns = 0
    for raw in lines:
        text = raw.strip()
        if not text:
            continue
        if text in QUIT:
            break
        if text == RESET:
            history = list(start)
            write("(conversation reset)")
            continue
        history.append({"role": "user", "content": text})
        answer = backend.reply(history)
        history.append({"role": "assistant", "content": answer})
        write(answer)
        turns += 1
    return turns
