"""Pre-flight training memory: what one process holds at its peak, so a run that cannot fit is refused at once.

The terms follow what a step keeps alive (calibrated on measured peak RSS of the 135M student on CPU,
see benchmarks/train_memory.py and docs/benchmarks.md): the framework itself, the weights, gradients and
AdamW's two moments of the trainable parameters, the activations one micro-batch keeps for backward, and
the loss's output-layer chunk. Layer activations are recomputed in backward (activation checkpointing)
when keeping them would take more than ACTIVATION_CHECKPOINT_ABOVE; the same rule decides the estimate.
"""

from __future__ import annotations

import ctypes
import os
import sys
from dataclasses import dataclass
from typing import Any

from lab.train.config import CHECKPOINTING, TrainConfig  # noqa: F401  (the settings, re-exported)

GiB = 2**30
FRAMEWORK_BYTES = 420 * 2**20  # torch + transformers + peft imported, nothing loaded: 0.40 GiB RSS measured on CPU
GRAD_BYTES = 4  # fp32 gradient per trainable parameter
ADAM_BYTES = 8  # two fp32 moments per trainable parameter
ACT_FLOATS_PER_HIDDEN = 15  # values kept per token per layer, per hidden unit (norms, q/k/v, rotary, attention out)
ACT_FLOATS_PER_INTERMEDIATE = 4  # and per MLP unit (gate, up, activation, product)
LORA_ACTIVATION_FACTOR = 1.8  # peft's LoRA layers keep about 1.8x the plain model's activations (measured, 135M)
LOSS_CHUNK_TOKENS = 256  # assistant positions per output-layer + cross-entropy chunk (lab.train.modeling)
LOSS_CHUNK_COPIES = 3  # chunk logits, their log-softmax and its gradient, alive at once in backward
TRANSIENT_COPIES = 2  # of the largest trainable tensor: AdamW's per-parameter temporaries, a tied embedding's 2nd grad
MASK_BYTES_PER_CELL = 9  # the float block-diagonal mask and its boolean temporaries, per (row, query, key)
ACTIVATION_CHECKPOINT_ABOVE = 1 * GiB  # "auto": recompute layer activations when keeping them needs more
MMAP_THRESHOLD_BYTES = 1 * 2**20  # CPU runs: glibc serves blocks from this size with mmap, and unmaps them on free
M_MMAP_THRESHOLD = -3  # mallopt's parameter number (glibc malloc.h)


@dataclass(frozen=True)
class MemoryEstimate:
    """The peak of one training process, term by term (bytes)."""

    framework: int
    weights: int
    gradients: int
    optimizer: int
    activations: int
    loss: int
    transient: int
    checkpointing: bool

    @property
    def total(self) -> int:
        return (self.framework + self.weights + self.gradients + self.optimizer + self.activations + self.loss
                + self.transient)

    def describe(self) -> str:
        terms = [("framework", self.framework), ("weights", self.weights), ("grads", self.gradients),
                 ("adam", self.optimizer), ("activations", self.activations), ("loss", self.loss),
                 ("transient", self.transient)]
        parts = " + ".join(f"{name} {value / GiB:.2f}" for name, value in terms)
        mode = "layer activations recomputed" if self.checkpointing else "layer activations kept"
        return f"{self.total / GiB:.2f} GiB ({parts}; {mode})"


def _shape(model: Any) -> tuple[int, int, int, int]:
    """(hidden, intermediate, layers, vocab) from the model's config (PEFT and DDP wrappers included)."""
    config = getattr(model, "config", None)
    while config is None and hasattr(model, "module"):
        model = model.module
        config = getattr(model, "config", None)
    hidden = int(getattr(config, "hidden_size", 0) or 0)
    intermediate = int(getattr(config, "intermediate_size", 0) or 4 * hidden)
    return hidden, intermediate, int(getattr(config, "num_hidden_layers", 0) or 0), int(getattr(config, "vocab_size", 0) or 0)


def micro_batch_shape(config: TrainConfig) -> tuple[int, int]:
    """(rows, tokens per row) of the largest micro-batch: rows of max_seq_len, as many as the budget holds."""
    row = max(1, config.max_seq_len)
    return max(1, config.max_tokens_per_micro_batch // row), row


def layer_activation_bytes(model: Any, config: TrainConfig, compute_bytes: int = 4) -> int:
    """What all layers keep for backward over one micro-batch without activation checkpointing."""
    hidden, intermediate, layers, _ = _shape(model)
    rows, row = micro_batch_shape(config)
    per_token_layer = (ACT_FLOATS_PER_HIDDEN * hidden + ACT_FLOATS_PER_INTERMEDIATE * intermediate) * compute_bytes
    return rows * row * layers * per_token_layer


def wants_activation_checkpointing(model: Any, config: TrainConfig, compute_bytes: int = 4,
                                   budget_bytes: int | None = None) -> bool:
    """config.activation_checkpointing: "on", "off", or "auto".

    "auto" on a GPU (`budget_bytes` given): on only when the run would not fit that memory with every
    layer's activations kept, since recomputing them costs a third more compute. On the CPU: on when
    the kept activations would pass ACTIVATION_CHECKPOINT_ABOVE, where RAM is shared with everything else."""
    setting = config.activation_checkpointing
    if setting in ("on", True):
        return True
    if setting in ("off", False):
        return False
    if budget_bytes is not None:
        return _estimate(model, config, 1, compute_bytes, checkpointing=False).total > budget_bytes
    return layer_activation_bytes(model, config, compute_bytes) > ACTIVATION_CHECKPOINT_ABOVE


def checkpointing_budget(config: TrainConfig, device: Any) -> int | None:
    """The memory "auto" checkpointing must fit on a GPU (None on the CPU): free plus what torch holds, times headroom."""
    if getattr(device, "type", "cpu") != "cuda":
        return None
    import torch

    return int((available_memory_bytes(device) + torch.cuda.memory_allocated(device)) * config.memory_headroom)


def estimate_memory(model: Any, config: TrainConfig, shards: int = 1, compute_bytes: int = 4,
                    budget_bytes: int | None = None) -> MemoryEstimate:
    """Peak memory of one process; weights, gradients and AdamW moments are divided over `shards` (FSDP)."""
    checkpointing = wants_activation_checkpointing(model, config, compute_bytes, budget_bytes)
    return _estimate(model, config, shards, compute_bytes, checkpointing)


def _estimate(model: Any, config: TrainConfig, shards: int, compute_bytes: int, checkpointing: bool) -> MemoryEstimate:
    hidden, intermediate, layers, vocab = _shape(model)
    rows, row = micro_batch_shape(config)
    tokens = rows * row
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    largest = max((p.numel() for p in model.parameters() if p.requires_grad), default=0)
    factor = LORA_ACTIVATION_FACTOR if config.method == "lora" else 1.0
    kept = int(layer_activation_bytes(model, config, compute_bytes) * factor)
    if checkpointing:  # each layer's input is kept; one layer's activations live again during its backward
        activations = tokens * layers * hidden * compute_bytes + kept // max(1, layers)
    else:
        activations = kept
    activations += rows * row * row * MASK_BYTES_PER_CELL
    loss = tokens * hidden * 4 * 2 + min(LOSS_CHUNK_TOKENS, tokens) * vocab * 4 * LOSS_CHUNK_COPIES
    share = max(1, shards)
    return MemoryEstimate(FRAMEWORK_BYTES, weights // share, trainable * GRAD_BYTES // share,
                          trainable * ADAM_BYTES // share, activations, loss, largest * 4 * TRANSIENT_COPIES,
                          checkpointing)


def estimate_memory_bytes(model: Any, config: TrainConfig, shards: int = 1, compute_bytes: int = 4,
                          budget_bytes: int | None = None) -> int:
    return estimate_memory(model, config, shards, compute_bytes, budget_bytes).total


def release_freed_activations() -> bool:
    """Make glibc give freed activations back to the system at once (CPU runs); True when it was set.

    glibc's mmap threshold starts at 128 KiB and rises to the size of each large block freed (up to 32 MiB),
    so after the first backward the per-layer tensors (4-13 MiB at 2,048 tokens) come from the heap and stay
    there when freed: with activation checkpointing, which frees and recomputes them layer by layer, the heap
    held 2.4 GiB while 0.3-0.5 GiB was in use (LoRA, 135M, 4 x 512 tokens: peak RSS 3.12 GiB). A fixed
    threshold keeps every block of 1 MiB or more in its own mapping, returned when freed."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (musl and others manage memory their own way)
        return False
    mallopt = getattr(libc, "mallopt", None)
    return bool(mallopt is not None and mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1)


def available_memory_bytes(device: Any) -> int:
    """Free memory on the device (GPU: free CUDA memory; CPU: MemAvailable)."""
    if device.type == "cuda":
        import torch

        return int(torch.cuda.mem_get_info(device)[0])
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")


def compute_bytes_for(config: TrainConfig, device: Any) -> int:
    """Bytes per activation value: 2 under bf16/fp16 autocast on GPU, else 4."""
    on_gpu = getattr(device, "type", "cpu") == "cuda"
    return 2 if on_gpu and config.dtype != "float32" else 4


def check_memory(model: Any, config: TrainConfig, device: Any, shards: int = 1) -> tuple[int, int]:
    """Raise MemoryError with both numbers when the estimate does not fit; return (needed, free)."""
    budget = checkpointing_budget(config, device)  # a GPU: what torch already holds (the weights) counts as free
    needed = estimate_memory_bytes(model, config, shards, compute_bytes_for(config, device), budget)
    free = available_memory_bytes(device)
    if needed > (budget if budget is not None else free * config.memory_headroom):
        raise MemoryError(
            f"training needs about {needed / GiB:.1f} GiB on {device} but only {free / GiB:.1f} GiB is free "
            f"(headroom {config.memory_headroom:.0%}); lower max_tokens_per_micro_batch, use method: lora, "
            "or use a larger device"
        )
    return needed, free
