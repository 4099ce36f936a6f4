"""The training configuration: one dataclass of commented defaults, typed overrides from YAML or JSON.

Unknown keys and wrong types are rejected, so a typo in a config file fails at once rather than
silently training with a default.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

import yaml

MODES = ("phased", "stacked")
METHODS = ("auto", "full", "lora")
SCHEDULES = ("cosine", "linear", "constant")
DTYPES = ("auto", "float32", "bfloat16", "float16")
BOUNDARIES = ("auto", "mask4d", "position_ids")
DISTRIBUTED = ("ddp", "fsdp")
CHECKPOINTING = ("auto", "on", "off")  # activation checkpointing settings (lab.train.memory decides "auto")


@dataclass
class TrainConfig:
    """Every knob of a run. Units are in the comments; `None`, 0 or "auto" mean "chosen by lab/train/recipe.py
    from the model's and the data's size" (each choice is printed with its reason)."""

    seed: int = 42  # seeds data order, LoRA init and torch RNG
    mode: str = "phased"  # "phased": knowledge then skills (+replay); "stacked": one phase with all data
    method: str = "auto"  # "full" fine-tuning, "lora" (peft), or "auto" (full up to 1.5B parameters)
    replay_share: float = 0.2  # fraction of phase-2 samples drawn from phase-1 (knowledge) data, 0..<1
    heldout_share: float | None = None  # share of each file kept out (early stopping, perplexity); None: auto
    knowledge_epochs: int = 0  # passes over the phase-1 (or stacked) mix at most; 0: auto (3..8)
    skills_epochs: int = 0  # passes over the phase-2 mix at most; 0: as many as knowledge_epochs
    self_replay: int | None = None  # general prompts whose base-model answers are replayed; None: auto, 0: off
    self_replay_max_new_tokens: int = 96  # length bound of a replayed answer (tokens)
    early_stopping_patience: int | None = None  # epochs without a lower held-out loss before a phase stops; 0: never
    max_steps: int = 0  # optimizer steps per phase at most; 0 = no cap
    max_seq_len: int = 0  # tokens per sample, longer ones are truncated; 0: auto (longest sample, at most 2048)
    max_tokens_per_micro_batch: int = 0  # packing budget of one micro-batch (tokens); 0: auto (from the data size)
    grad_accum: int = 1  # micro-batches per optimizer step
    lr: float | None = None  # peak learning rate; None: auto, from the model's size and the method
    weight_decay: float = 0.0  # AdamW decoupled weight decay
    schedule: str = "cosine"  # "cosine", "linear" (decay to 0 after warm-up) or "constant"
    warmup_ratio: float = 0.05  # share of a phase's steps spent warming up linearly from 0
    max_grad_norm: float = 1.0  # gradient clipping (L2 norm); 0 disables
    lora_r: int = 8  # LoRA rank
    lora_alpha: int = 16  # LoRA scaling numerator (scale = alpha / r)
    lora_dropout: float = 0.0  # dropout on the LoRA path (0 keeps CPU runs bit-reproducible)
    lora_target_modules: list[str] = field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    )
    lora_modules_to_save: list[str] = field(default_factory=list)  # fully trained too, e.g. ["lm_head"]
    save_every_steps: int = 50  # checkpoint period (optimizer steps); phase ends always checkpoint
    keep_checkpoints: int = 2  # newest checkpoints kept per phase (the phase-end one is always kept)
    log_every_steps: int = 1  # one metrics line per this many optimizer steps
    dtype: str = "auto"  # "auto": bfloat16 on GPU, float32 on CPU
    device: str = "auto"  # "auto", "cpu", "cuda", "cuda:1", ...
    boundaries: str = "auto"  # packed-sample isolation: "mask4d" (block-diagonal mask) or "position_ids" (varlen)
    distributed: str = "ddp"  # under torchrun: "ddp" (a replica per rank) or "fsdp" (weights sharded, full only)
    cpu_threads: int = 0  # CPU intra-op threads; 0 = torch's default (1 is fastest for tiny models on busy cores)
    memory_headroom: float = 0.9  # refuse to start when the estimate exceeds this share of free memory
    activation_checkpointing: str = "auto"  # recompute layer activations in backward: "on", "off", "auto" (above 1 GiB)

    def validate(self) -> TrainConfig:
        """Raise ValueError on values no run could use."""
        checks = [
            (self.mode in MODES, f"mode must be one of {MODES}"),
            (self.method in METHODS, f"method must be one of {METHODS}"),
            (self.schedule in SCHEDULES, f"schedule must be one of {SCHEDULES}"),
            (self.dtype in DTYPES, f"dtype must be one of {DTYPES}"),
            (self.boundaries in BOUNDARIES, f"boundaries must be one of {BOUNDARIES}"),
            (0 <= self.replay_share < 1, "replay_share must be in [0, 1)"),
            (self.heldout_share is None or 0 <= self.heldout_share < 1, "heldout_share must be in [0, 1)"),
            (0 <= self.warmup_ratio < 1, "warmup_ratio must be in [0, 1)"),
            (self.knowledge_epochs >= 0 and self.skills_epochs >= 0, "epochs must be >= 0 (0: auto)"),
            (self.max_seq_len == 0 or self.max_seq_len >= 8, "max_seq_len must be >= 8 (0: auto)"),
            (self.max_tokens_per_micro_batch == 0 or self.max_tokens_per_micro_batch >= self.max_seq_len,
             "max_tokens_per_micro_batch must be >= max_seq_len (0: auto)"),
            (self.self_replay is None or self.self_replay >= 0, "self_replay must be >= 0"),
            (self.self_replay_max_new_tokens >= 8, "self_replay_max_new_tokens must be >= 8"),
            (self.early_stopping_patience is None or self.early_stopping_patience >= 0, "early_stopping_patience must be >= 0"),
            (self.grad_accum >= 1, "grad_accum must be >= 1"),
            (self.save_every_steps >= 1 and self.log_every_steps >= 1, "step periods must be >= 1"),
            (self.keep_checkpoints >= 1, "keep_checkpoints must be >= 1"),
            (self.lr is None or self.lr > 0, "lr must be > 0"),
            (self.lora_r >= 1, "lora_r must be >= 1"),
            (0 < self.memory_headroom <= 1, "memory_headroom must be in (0, 1]"),
            (self.activation_checkpointing in CHECKPOINTING, f"activation_checkpointing must be one of {CHECKPOINTING}"),
            (self.cpu_threads >= 0, "cpu_threads must be >= 0"),
            (self.distributed in DISTRIBUTED, f"distributed must be one of {DISTRIBUTED}"),
            (not (self.distributed == "fsdp" and self.method == "lora"), "distributed: fsdp needs method: full"),
        ]
        errors = [message for ok, message in checks if not ok]
        if errors:
            raise ValueError("invalid training config: " + "; ".join(errors))
        return self

    def peak_lr(self, n_params: int) -> float:
        """The learning rate: the configured one, or the recipe's choice for the model's size and the method."""
        if self.lr is not None:
            return self.lr
        from lab.train.recipe import auto_lr

        return auto_lr(n_params, self.method)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _coerce(name: str, hint: Any, value: Any) -> Any:
    """Check `value` against the field's type hint; ints are accepted where floats are expected."""
    origin, args = get_origin(hint), get_args(hint)
    if args and type(None) in args:  # Optional[X]
        if value is None:
            return None
        hint = next(a for a in args if a is not type(None))
        origin, args = get_origin(hint), get_args(hint)
    if origin is list:
        if not isinstance(value, list) or not all(isinstance(v, args[0]) for v in value):
            raise ValueError(f"{name}: expected a list of {args[0].__name__}")
        return list(value)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, bool) and hint is not bool:
        raise ValueError(f"{name}: expected {hint.__name__}, got a boolean")
    if not isinstance(value, hint):
        raise ValueError(f"{name}: expected {hint.__name__}, got {type(value).__name__}")
    return value


def apply_overrides(config: TrainConfig, overrides: dict[str, Any]) -> TrainConfig:
    """Return a copy of `config` with `overrides` applied; unknown keys and wrong types raise ValueError."""
    hints = get_type_hints(TrainConfig)
    unknown = sorted(set(overrides) - set(hints))
    if unknown:
        raise ValueError(f"unknown training config keys: {', '.join(unknown)} (known: {', '.join(sorted(hints))})")
    values = {key: _coerce(key, hints[key], value) for key, value in overrides.items()}
    return dataclasses.replace(config, **values).validate()


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
        raise ValueError(f"{path}: a training config must be a mapping of keys to values")
    return apply_overrides(config, data)
