"""The default recipe: turn the config's "auto" values into numbers chosen from the model's and the data's size.

A run with the defaults must learn new facts without forgetting what the base model could already do
(docs/training.md explains each rule and the measurement behind it). Every choice comes back with a
one-line reason, which `lab train` prints, so a user sees why a run looks the way it does.
Pure functions: no torch here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from lab.train.config import TrainConfig

TINY_MODEL_PARAMS = 50_000_000  # below this: a random test model, fast settings
FULL_TUNING_MAX_PARAMS = 1_500_000_000  # above this, full fine-tuning's optimizer state outgrows common hardware
# (parameters up to, full lr, LoRA lr): smaller models take larger steps
LR_TABLE = ((TINY_MODEL_PARAMS, 3e-3, 3e-3), (600_000_000, 1e-4, 1e-3), (3_000_000_000, 5e-5, 5e-4))
LARGE_LR_FULL, LARGE_LR_LORA = 2e-5, 2e-4
MIN_SAMPLES_PER_STEP, MAX_SAMPLES_PER_STEP = 4, 32  # optimizer batch, in samples
STEPS_PER_EPOCH_TARGET = 20  # small data: small batches, so an epoch is still ~20 updates
MIN_STEPS = 60  # fewer updates than this teach a pretrained model nothing (the 6-step run learned 0 %)
MIN_EPOCHS, MAX_EPOCHS = 3, 8  # early stopping on held-out loss picks the best epoch inside this bound
SEQ_LEN_STEP = 64  # auto max_seq_len: the longest sample rounded up to this
MAX_AUTO_SEQ_LEN = 2048
HELDOUT_SHARE = 0.1  # auto held-out share, from files of at least MIN_HELDOUT_SAMPLES samples
MIN_HELDOUT_SAMPLES = 20
REPLAY_PER_SAMPLE = 0.5  # general replay answers per training sample (a third of the mix)
MIN_REPLAY, MAX_REPLAY = 16, 64
PATIENCE = 2  # epochs without a better held-out loss before a phase stops
REPLAY_PROMPT_TOKENS = 48  # room for the system prompt, a general prompt and the chat template around a replayed answer
# a random test model is trained to memorise: the settings its tests and the fast demo were tuned with
TINY = {"max_seq_len": 1024, "max_tokens_per_micro_batch": 2048, "knowledge_epochs": 3, "heldout_share": 0.0,
        "self_replay": 0, "early_stopping_patience": 0}


@dataclass(frozen=True)
class DataShape:
    """What the recipe needs to know about the data, measured before training."""

    n_samples: int  # training samples of the largest phase (before general replay)
    mean_tokens: float  # mean tokens per sample
    max_tokens: int  # longest sample (tokens)
    n_file_samples: int  # samples in the smaller non-empty data file (decides the auto held-out share)


@dataclass(frozen=True)
class Decision:
    key: str
    value: Any  # an int, float or str, as the TrainConfig field it resolves
    reason: str

    def line(self) -> str:
        return f"recipe: {self.key} = {self.value} ({self.reason})"


def peak_lr(config: TrainConfig, n_params: int) -> float:
    """The learning rate: the configured one, or the recipe's choice for the model's size and the method."""
    return config.lr if config.lr is not None else auto_lr(n_params, config.method)


def auto_lr(n_params: int, method: str) -> float:
    for limit, full, lora in LR_TABLE:
        if n_params < limit:
            return lora if method == "lora" else full
    return LARGE_LR_LORA if method == "lora" else LARGE_LR_FULL


def _method(config: TrainConfig, n_params: int) -> Decision:
    if config.method != "auto":
        return Decision("method", config.method, "set in the config")
    if n_params <= FULL_TUNING_MAX_PARAMS:
        return Decision("method", "full", f"{n_params / 1e6:.0f}M parameters: full fine-tuning fits, and self-replay "
                                          "keeps general answers")
    return Decision("method", "lora", f"{n_params / 1e9:.1f}B parameters: LoRA keeps optimizer memory small and the base frozen")


def _seq_len(config: TrainConfig, shape: DataShape, replay: int) -> Decision:
    if config.max_seq_len:
        return Decision("max_seq_len", config.max_seq_len, "set in the config")
    longest = max(shape.max_tokens, config.self_replay_max_new_tokens + REPLAY_PROMPT_TOKENS if replay else 0)
    value = min(MAX_AUTO_SEQ_LEN, max(SEQ_LEN_STEP, math.ceil(longest / SEQ_LEN_STEP) * SEQ_LEN_STEP))
    return Decision("max_seq_len", value, f"longest sample {longest} tokens (data or a replayed answer), rounded up to "
                                          f"{SEQ_LEN_STEP} (at most {MAX_AUTO_SEQ_LEN})")


def _batch(config: TrainConfig, shape: DataShape, seq_len: int, replay: int) -> tuple[Decision, int]:
    """Tokens per micro-batch, from a target number of samples per optimizer step."""
    total = shape.n_samples + replay
    samples = max(MIN_SAMPLES_PER_STEP, min(MAX_SAMPLES_PER_STEP, total // STEPS_PER_EPOCH_TARGET))
    if config.max_tokens_per_micro_batch:
        per_step = max(1, round(config.max_tokens_per_micro_batch * config.grad_accum / max(1.0, shape.mean_tokens)))
        return Decision("max_tokens_per_micro_batch", config.max_tokens_per_micro_batch, "set in the config"), per_step
    tokens = max(1, round(samples * shape.mean_tokens / seq_len)) * seq_len  # whole packed rows
    samples = max(1, int(tokens / max(1.0, shape.mean_tokens)))  # what those rows hold
    return Decision("max_tokens_per_micro_batch", tokens,
                    f"about {samples} samples per step: {total} samples give ~{max(1, total // samples)} updates per epoch"), samples


def _epochs(config: TrainConfig, total: int, per_step: int) -> Decision:
    if config.knowledge_epochs:
        return Decision("epochs", config.knowledge_epochs, "set in the config")
    steps_per_epoch = max(1, math.ceil(total / max(1, per_step)))
    value = max(MIN_EPOCHS, min(MAX_EPOCHS, math.ceil(MIN_STEPS / steps_per_epoch)))
    return Decision("epochs", value, f"at least {MIN_STEPS} updates ({steps_per_epoch} per epoch), {MIN_EPOCHS}..{MAX_EPOCHS}"
                                     " epochs; early stopping may end sooner")


def _heldout(config: TrainConfig, shape: DataShape) -> Decision:
    if config.heldout_share is not None:
        return Decision("heldout_share", config.heldout_share, "set in the config")
    if shape.n_file_samples >= MIN_HELDOUT_SAMPLES:
        return Decision("heldout_share", HELDOUT_SHARE, "held-out loss picks the best epoch (early stopping)")
    return Decision("heldout_share", 0.0, f"fewer than {MIN_HELDOUT_SAMPLES} samples: none kept out, no early stopping")


def _replay(config: TrainConfig, shape: DataShape, n_prompts: int) -> Decision:
    if config.self_replay is not None:
        return Decision("self_replay", min(config.self_replay, n_prompts), "set in the config")
    value = min(n_prompts, MAX_REPLAY, max(MIN_REPLAY, round(REPLAY_PER_SAMPLE * shape.n_samples)))
    return Decision("self_replay", value, "the base model's own answers to general prompts, mixed into every phase, "
                                          "so general answers are kept")


def _tiny(config: TrainConfig, n_params: int) -> tuple[TrainConfig, list[Decision]]:
    """A random test model: memorisation settings, no held-out split, no replay (it has nothing to keep)."""
    reason = f"{n_params / 1e6:.1f}M parameters: a random test model, trained to memorise"
    auto: dict[str, Any] = {"max_seq_len": 0, "max_tokens_per_micro_batch": 0, "knowledge_epochs": 0, "heldout_share": None,
            "self_replay": None, "early_stopping_patience": None}
    values: dict[str, Any] = {key: TINY[key] for key, unset in auto.items() if getattr(config, key) == unset}
    values |= {"method": "full" if config.method == "auto" else config.method}
    values["lr"] = config.lr if config.lr is not None else auto_lr(n_params, values["method"])
    values["skills_epochs"] = config.skills_epochs or values.get("knowledge_epochs", config.knowledge_epochs)
    resolved = config.with_overrides(values)
    return resolved, [Decision(key, values[key], reason) for key in sorted(values)]


def choose_recipe(config: TrainConfig, n_params: int, shape: DataShape, n_prompts: int) -> tuple[TrainConfig, list[Decision]]:
    """Resolve every auto value; returns the concrete config and one decision per resolved key."""
    if n_params < TINY_MODEL_PARAMS:
        return _tiny(config, n_params)
    method = _method(config, n_params)
    replay = _replay(config, shape, n_prompts)
    seq = _seq_len(config, shape, int(replay.value))
    batch, per_step = _batch(config, shape, int(seq.value), int(replay.value))
    epochs = _epochs(config, shape.n_samples + int(replay.value), per_step)
    lr = (Decision("lr", config.lr, "set in the config") if config.lr is not None else
          Decision("lr", auto_lr(n_params, str(method.value)), f"{method.value} tuning of {n_params / 1e6:.0f}M parameters"))
    heldout = _heldout(config, shape)
    skills_epochs = config.skills_epochs or int(epochs.value)
    patience = Decision("early_stopping_patience", PATIENCE if config.early_stopping_patience is None
                        else config.early_stopping_patience,
                        "set in the config" if config.early_stopping_patience is not None else
                        "a phase ends after this many epochs without a lower held-out loss, keeping the best")
    resolved = config.with_overrides(dict(
        method=method.value, max_seq_len=seq.value, max_tokens_per_micro_batch=batch.value,
        knowledge_epochs=epochs.value, skills_epochs=skills_epochs, lr=lr.value, heldout_share=heldout.value,
        self_replay=replay.value, early_stopping_patience=patience.value,
    ))
    return resolved, [method, lr, seq, batch, epochs, heldout, replay, patience]
