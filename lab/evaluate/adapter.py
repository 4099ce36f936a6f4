"""A base model with and without a LoRA adapter, answering the same prompts: `/preview`'s two models from one load.

The adapter is a PEFT folder (adapter_config.json + adapter weights) as `lab train` writes it with
`method: lora`. Loading it wraps the base model in place, so the base answers first, then the preview.
`lab chat --adapter` loads the same folder the same way (`attach_adapter`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ADAPTER_CONFIG = "adapter_config.json"

Prompts = Sequence[Sequence[dict[str, str]]]
Budget = int | Callable[[Any], int]  # max_new_tokens, or a function of the tokenizer that gives it


def check_adapter(folder: str | Path) -> Path:
    """The folder, if it looks like a PEFT adapter; else ValueError naming what is missing."""
    path = Path(folder)
    if not path.is_dir():
        raise ValueError(f"{path}: no such adapter folder")
    if not (path / ADAPTER_CONFIG).is_file():
        raise ValueError(f"{path}: not a LoRA adapter (no {ADAPTER_CONFIG}); pass the folder `/preview` kept")
    if not any(path.glob("adapter_model.*")):
        raise ValueError(f"{path}: the adapter has no weights (adapter_model.safetensors)")
    return path


def attach_adapter(model: Any, folder: str | Path) -> Any:
    """`model` wrapped with the adapter's LoRA layers, in eval mode (the base weights are not changed)."""
    from peft import PeftModel

    return PeftModel.from_pretrained(model, str(check_adapter(folder))).eval()


def answer_with_and_without(base_ref: str, adapter: str | Path, batches: Sequence[tuple[Prompts, Budget]],
                            advance: Callable[[int], None] | None = None) -> tuple[list[list[str]], list[list[str]]]:
    """For each (prompts, max_new_tokens) batch: the base model's greedy answers, then the adapted model's."""
    from lab.evaluate.model import generate_answers, load

    model, tokenizer, device = load(base_ref)
    sized = [(prompts, limit(tokenizer) if callable(limit) else limit) for prompts, limit in batches]
    base = [generate_answers(model, tokenizer, device, prompts, limit, advance=advance) for prompts, limit in sized]
    tuned = attach_adapter(model, adapter)
    preview = [generate_answers(tuned, tokenizer, device, prompts, limit, advance=advance) for prompts, limit in sized]
    return base, preview
