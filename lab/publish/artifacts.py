"""Gather a release's files in a staging folder: weights (LoRA merged), tokenizer, configs; GGUFs via lab.publish.quants."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lab.publish.quants import GGUFSet

log = logging.getLogger("lab.publish")

# What a consumer needs from a transformers checkpoint folder; training state is left behind.
MODEL_FILES = (
    "config.json", "generation_config.json", "model.safetensors.index.json",
    "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja",
    "tokenizer.model", "added_tokens.json", "vocab.json", "merges.txt",
)
ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")
ADAPTER_DIR = "adapter"


def _is_adapter_only(model_dir: Path) -> bool:
    return (model_dir / "adapter_config.json").is_file() and not list(model_dir.glob("model*.safetensors"))


def _merge_adapter(adapter_dir: Path, out: Path) -> None:
    """Merge a LoRA adapter into its base model and save the full weights (the Hub's usual layout)."""
    from peft import AutoPeftModelForCausalLM
    from transformers import AutoTokenizer

    log.info("merging LoRA adapter %s into its base model", adapter_dir)
    model = AutoPeftModelForCausalLM.from_pretrained(str(adapter_dir))
    merged = model.merge_and_unload()
    merged.save_pretrained(out, safe_serialization=True)
    tokenizer_src = adapter_dir if (adapter_dir / "tokenizer.json").is_file() else \
        json.loads((adapter_dir / "adapter_config.json").read_text())["base_model_name_or_path"]
    AutoTokenizer.from_pretrained(str(tokenizer_src)).save_pretrained(out)


def _write_generation_config(model_dir: Path, out: Path) -> None:
    """Greedy defaults with the model's special tokens, when training did not save one."""
    config = json.loads((model_dir / "config.json").read_text())
    gen = {k: config[k] for k in ("bos_token_id", "eos_token_id", "pad_token_id") if config.get(k) is not None}
    gen["do_sample"] = False
    (out / "generation_config.json").write_text(json.dumps(gen, indent=2) + "\n")


def stage_release(model_dir: str | Path, staging: Path, stem: str, gguf_types: tuple[str, ...] = (),
                  include_adapter: bool = False, prompt: str = "") -> tuple[dict[str, Path], GGUFSet]:
    """Fill `staging` with the release files: {path in repo: local file} for the weights, and the GGUF set."""
    from lab.publish.quants import DEFAULT_CHECK_PROMPT, stage_ggufs

    src = Path(model_dir)
    staging.mkdir(parents=True, exist_ok=True)
    weights = staging / "weights"
    weights.mkdir(exist_ok=True)
    if _is_adapter_only(src):
        _merge_adapter(src, weights)
    else:
        if not (src / "config.json").is_file():
            raise FileNotFoundError(f"{src} holds no model: config.json is missing")
        for name in MODEL_FILES:
            if (src / name).is_file():
                shutil.copy2(src / name, weights / name)
        shards = sorted(src.glob("model*.safetensors"))
        if not shards:
            raise FileNotFoundError(f"{src} holds no safetensors weights")
        for shard in shards:
            shutil.copy2(shard, weights / shard.name)
    if not (weights / "generation_config.json").is_file():
        _write_generation_config(weights, weights)
    files = {p.name: p for p in sorted(weights.iterdir()) if p.is_file()}
    if include_adapter and (src / "adapter_config.json").is_file():
        for name in ADAPTER_FILES:
            if (src / name).is_file():
                files[f"{ADAPTER_DIR}/{name}"] = src / name
    return files, stage_ggufs(weights, staging, stem, gguf_types, prompt or DEFAULT_CHECK_PROMPT)
