"""Teacher backend: a local transformers model directory, generating a whole batch at once.

Prompts are rendered with the tokenizer's chat template, left-padded and sampled together (a batch
shares one torch seed: `seed` of the call). transformers has no grammar here, so the schema is only
asked for in the prompt; the pipeline counts what does not parse.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lab.generate.backends.base import BackendError, Completion, Prompt, as_messages, flatten

DEFAULT_BATCH = 8


class TransformersBackend:
    OPTIONS = ("batch_size", "device")

    def __init__(self, model_dir: str | Path, *, teacher_id: str | None = None, batch_size: int = DEFAULT_BATCH,
                 device: str | None = None) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path = Path(model_dir)
        if not (path / "config.json").is_file():
            raise BackendError(f"not a model directory (no config.json): {path}")
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        dtype = torch.bfloat16 if self.device.startswith("cuda") else torch.float32  # a GPU's matrix units want bf16
        model: Any = AutoModelForCausalLM.from_pretrained(path, dtype=dtype)
        self.model = model.to(self.device).eval()
        self.context_length = int(getattr(self.model.config, "max_position_embeddings", 2048))
        self.batch_size = batch_size
        self.teacher_id = teacher_id or f"hf:{path.name}"
        self.parameters = sum(p.numel() for p in self.model.parameters())  # a small teacher writes no knowledge questions
        self._torch = torch

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def _render(self, prompt: Prompt) -> str:
        if self.tokenizer.chat_template:
            return str(self.tokenizer.apply_chat_template(as_messages(prompt), tokenize=False, add_generation_prompt=True))
        return flatten(prompt) + "\n"

    def complete(self, prompts: Sequence[Prompt], *, max_new_tokens: int, temperature: float, seed: int,
                 schema: dict[str, Any] | None = None) -> list[Completion]:
        out: list[Completion] = []
        for start in range(0, len(prompts), self.batch_size):
            out.extend(self._batch(prompts[start:start + self.batch_size], max_new_tokens, temperature, seed + start))
        return out

    def _batch(self, prompts: Sequence[Prompt], max_new_tokens: int, temperature: float, seed: int) -> list[Completion]:
        torch = self._torch
        texts = [self._render(p) for p in prompts]
        enc = self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        width = enc["input_ids"].shape[1]
        if width + max_new_tokens > self.context_length:
            return [Completion("", finish_reason="error",
                               error=f"prompt of {width} tokens does not fit the {self.context_length}-token context")
                    for _ in prompts]
        enc = {k: v.to(self.device) for k, v in enc.items()}
        torch.manual_seed(seed)
        sampling = {"do_sample": True, "temperature": temperature} if temperature > 0 else {"do_sample": False}
        with torch.no_grad():
            generated = self.model.generate(**enc, max_new_tokens=max_new_tokens,
                                            pad_token_id=self.tokenizer.pad_token_id, **sampling)
        new = generated[:, width:]
        eos = self.tokenizer.eos_token_id
        out = []
        for row, mask in zip(new.tolist(), enc["attention_mask"].tolist(), strict=True):
            length = row.index(eos) + 1 if eos in row else len(row)
            while length > 0 and row[length - 1] == self.tokenizer.pad_token_id and row[length - 1] != eos:
                length -= 1
            text = str(self.tokenizer.decode(row[:length], skip_special_tokens=True))
            out.append(Completion(text, prompt_tokens=int(sum(mask)), completion_tokens=length,
                                  finish_reason="stop" if eos in row else "length"))
        return out

    def close(self) -> None:
        self.model = None
