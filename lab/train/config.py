"""The training configuration: one model of commented defaults, typed overrides from YAML, JSON or `--set`.

Unknown keys, wrong types and values no run could use are refused with one line naming the key
(schemas.config_model.ConfigError, a ValueError), so a typo in a config file fails at once rather
than silently training with a default.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Self, get_args

import yaml
from pydantic import Field, model_validator

from schemas.config_model import ConfigError, ConfigModel

Mode = Literal["phased", "stacked"]
Method = Literal["auto", "full", "lora"]
Schedule = Literal["cosine", "linear", "constant"]
Dtype = Literal["auto", "float32", "bfloat16", "float16"]
Boundaries = Literal["auto", "mask4d", "position_ids"]
Distributed = Literal["ddp", "fsdp"]
Checkpointing = Literal["auto", "on", "off"]  # activation checkpointing settings (lab.train.memory decides "auto")
MODES, METHODS, SCHEDULES = get_args(Mode), get_args(Method), get_args(Schedule)
DTYPES, BOUNDARIES, DISTRIBUTED, CHECKPOINTING = get_args(Dtype), get_args(Boundaries), get_args(Distributed), get_args(Checkpointing)
NonNegative = Annotated[int, Field(ge=0)]  # 0 (or None where allowed) means "auto" for most of these
AtLeastOne = Annotated[int, Field(ge=1)]
Share = Annotated[float, Field(ge=0, lt=1)]


class TrainConfig(ConfigModel):
    """Every knob of a run. Units are in the comments; `None`, 0 or "auto" mean "chosen by lab/train/recipe.py
    from the model's and the data's size" (each choice is printed with its reason)."""

    seed: int = 42  # seeds data order, LoRA init and torch RNG
    mode: Mode = "phased"  # "phased": knowledge then skills (+replay); "stacked": one phase with all data
    method: Method = "auto"  # "full" fine-tuning, "lora" (peft), or "auto" (full up to 1.5B parameters)
    replay_share: Annotated[float, Field(ge=0, lt=1)] = 0.2  # fraction of phase-2 samples drawn from phase-1 (knowledge) data, 0..<1
    heldout_share: Share | None = None  # share of each file kept out (early stopping, perplexity); None: auto
    knowledge_epochs: NonNegative = 0  # passes over the phase-1 (or stacked) mix at most; 0: auto (3..8)
    skills_epochs: NonNegative = 0  # passes over the phase-2 mix at most; 0: as many as knowledge_epochs
    self_replay: NonNegative | None = None  # general prompts whose base-model answers are replayed; None: auto, 0: off
    self_replay_max_new_tokens: Annotated[int, Field(ge=8)] = 96  # length bound of a replayed answer (tokens)
    early_stopping_patience: NonNegative | None = None  # epochs without a lower held-out loss before a phase stops; 0: never
    max_steps: int = 0  # optimizer steps per phase at most; 0 = no cap
    max_seq_len: Annotated[int, Field(ge=0)] = 0  # tokens per sample, longer ones are truncated; 0: auto (longest sample, at most 2048)
    max_tokens_per_micro_batch: Annotated[int, Field(ge=0)] = 0  # packing budget of one micro-batch (tokens); 0: auto (from the data size)
    grad_accum: AtLeastOne = 1  # micro-batches per optimizer step
    lr: Annotated[float, Field(gt=0)] | None = None  # peak learning rate; None: auto, from the model's size and the method
    weight_decay: float = 0.0  # AdamW decoupled weight decay
    schedule: Schedule = "cosine"  # "cosine", "linear" (decay to 0 after warm-up) or "constant"
    warmup_ratio: Share = 0.05  # share of a phase's steps spent warming up linearly from 0
    max_grad_norm: float = 1.0  # gradient clipping (L2 norm); 0 disables
    lora_r: AtLeastOne = 8  # LoRA rank
    lora_alpha: int = 16  # LoRA scaling numerator (scale = alpha / r)
    lora_dropout: float = 0.0  # dropout on the LoRA path (0 keeps CPU runs bit-reproducible)
    lora_target_modules: list[str] = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    lora_modules_to_save: list[str] = []  # fully trained too, e.g. ["lm_head"]
    save_every_steps: AtLeastOne = 50  # checkpoint period (optimizer steps); phase ends always checkpoint
    keep_checkpoints: AtLeastOne = 2  # newest checkpoints kept per phase (the phase-end one is always kept)
    log_every_steps: AtLeastOne = 1  # one metrics line per this many optimizer steps
    dtype: Dtype = "auto"  # "auto": bfloat16 on GPU, float32 on CPU
    device: str = "auto"  # "auto", "cpu", "cuda", "cuda:1", ...
    boundaries: Boundaries = "auto"  # packed-sample isolation: "mask4d" (block-diagonal mask) or "position_ids" (varlen)
    distributed: Distributed = "ddp"  # under torchrun: "ddp" (a replica per rank) or "fsdp" (weights sharded, full only)
    cpu_threads: NonNegative = 0  # CPU intra-op threads; 0 = torch's default (1 is fastest for tiny models on busy cores)
    memory_headroom: Annotated[float, Field(gt=0, le=1)] = 0.9  # refuse to start when the estimate exceeds this share of free memory
    activation_checkpointing: Checkpointing = "auto"  # recompute layer activations in backward: "on", "off", "auto" (above 1 GiB)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.max_seq_len and self.max_seq_len < 8:
            raise ValueError("max_seq_len must be >= 8 (0: auto)")
        if self.max_tokens_per_micro_batch and self.max_tokens_per_micro_batch < self.max_seq_len:
            raise ValueError("max_tokens_per_micro_batch must be >= max_seq_len (0: auto)")
        if self.distributed == "fsdp" and self.method == "lora":
            raise ValueError("distributed: fsdp needs method: full")
        return self

    def validate(self) -> Self:  # type: ignore[override]
        """Check the whole config again (e.g. after the recipe filled in its auto values); ConfigError if unusable."""
        return self.with_overrides({})

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def apply_overrides(config: TrainConfig, overrides: Mapping[str, Any]) -> TrainConfig:
    """A copy of `config` with `overrides` applied (a file's keys, `--set key=value`); ConfigError names the key."""
    return config.with_overrides(overrides)


def load_config(path: str | Path | None, base: TrainConfig | None = None) -> TrainConfig:
    """Read overrides from a YAML or JSON file (a mapping; a top-level `train:` key is also accepted)."""
    config = base or TrainConfig()
    if path is None:
        return config.validate()
    text = Path(path).read_text(encoding="utf-8")
    data = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
    data = data or {}
    if isinstance(data, dict) and set(data) == {"train"}:
        data = data["train"] or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a training config must be a mapping of keys to values")
    return apply_overrides(config, data)
