"""A small terminal chat for trying a release: llama.cpp for GGUF files, transformers for HF folders.

Both backends format the conversation with the model's own chat template and decode greedily by
default, so the same release answers the same question the same way in either format. The
conversation opens with the system prompt the training data used (lab.generate.output), as
evaluation does, so a model is asked in the format it was trained in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

from lab.errors import LabError

DEFAULT_MAX_TOKENS = 256
DEFAULT_CONTEXT = 2048  # tokens, llama.cpp context window
QUIT = ("/exit", "/quit")
RESET = "/reset"

Message = dict[str, str]


class ModelLoadError(LabError):
    """A model file is missing, truncated or corrupt; the message names it."""


class ChatBackend(Protocol):
    def reply(self, messages: list[Message]) -> str: ...


class LlamaCppChat:
    """A GGUF model through llama-cpp-python; the template comes from the file's metadata."""

    def __init__(self, gguf_path: Path, max_tokens: int = DEFAULT_MAX_TOKENS, temperature: float = 0.0,
                 n_ctx: int = DEFAULT_CONTEXT):
        from lab.llamacpp import open_llama

        self.llm = open_llama(str(gguf_path), n_ctx=min(n_ctx, _trained_context(gguf_path) or n_ctx),
                              verbose=False, seed=0)  # plain CPU buffers: repacked q8_0 crashes on AMX CPUs
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

    def __init__(self, model_dir: Path, max_tokens: int = DEFAULT_MAX_TOKENS, temperature: float = 0.0,
                 adapter: Path | None = None):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        self.model = AutoModelForCausalLM.from_pretrained(model_dir)
        self.model.eval()
        if adapter is not None:  # a LoRA adapter (PEFT folder), e.g. the one `/preview` keeps
            from lab.evaluate.adapter import attach_adapter

            try:
                self.model = attach_adapter(self.model, adapter)
            except (RuntimeError, ValueError, KeyError, OSError) as exc:
                reason = " ".join(str(exc).split())[:300] or type(exc).__name__
                raise ModelLoadError(f"cannot load the adapter {adapter} over {model_dir}: {reason}") from None
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
    """The GGUF file to load: `path` itself, or the one in a folder (the requested quant, or the only one)."""
    from lab.consume.hub import PullError, choose_gguf

    if path.is_file():
        return path
    try:
        return path / choose_gguf([p.name for p in path.glob("*.gguf")], quant)
    except PullError as exc:
        raise FileNotFoundError(f"{path}: {exc}") from None


def _load_errors() -> tuple[type[BaseException], ...]:
    """What loading a damaged model raises: safetensors' own error, and the readers' OSError/ValueError/…"""
    import safetensors

    return (safetensors.SafetensorError, OSError, ValueError, IndexError, KeyError, EOFError)


def open_backend(path: Path, fmt: str, quant: str | None = None, max_tokens: int = DEFAULT_MAX_TOKENS,
                 temperature: float = 0.0, adapter: Path | None = None) -> ChatBackend:
    """A chat backend for the model at `path` (with a LoRA `adapter` over it: hf only); a file that cannot be
    read is a ModelLoadError naming it."""
    model = find_gguf(path, quant) if fmt == "gguf" else path
    try:
        if fmt == "gguf":
            return LlamaCppChat(model, max_tokens, temperature)
        return TransformersChat(model, max_tokens, temperature, adapter)
    except _load_errors() as exc:
        reason = " ".join(str(exc).split())[:300] or type(exc).__name__
        raise ModelLoadError(f"cannot load {model}: a model file is missing, truncated or corrupt ({reason})") from None


def opening(system: str | None = None) -> list[Message]:
    """The conversation's first turns: the system prompt training used, unless `system` replaces it ("" = none)."""
    if system is None:
        from lab.generate.output import conversation_start

        return conversation_start()
    return [{"role": "system", "content": system}] if system else []


def chat_loop(backend: ChatBackend, lines: Iterable[str], write: Callable[[str], None],
              system: str | None = None) -> int:
    """Read user turns from `lines`, write replies; /reset forgets the conversation, /exit ends it.

    The conversation opens as the training rows do (see `opening`), so the model sees its trained format."""
    history: list[Message] = opening(system)
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
