"""The model side of training: load base and tokenizer, wrap LoRA, pick device and dtype, build packed
tensors, and compute the assistant-only loss (the memory estimate lives in lab.train.memory).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from lab.train import varlen
from lab.train.config import TrainConfig
from lab.train.memory import (  # noqa: F401  (check_memory and the estimate are re-exported for callers)
    LOSS_CHUNK_TOKENS,
    available_memory_bytes,
    check_memory,
    checkpointing_budget,
    compute_bytes_for,
    estimate_memory_bytes,
    release_freed_activations,
    wants_activation_checkpointing,
)
from lab.train.packing import PackedRow
from lab.train.tokenize import IGNORE

LOGIT_POSTPROCESSING = ("final_logit_softcapping", "logit_scale", "logits_scaling")  # configs that alter logits


@dataclass
class Runtime:
    """Where and how the model runs."""

    device: Any  # torch.device
    compute_dtype: Any  # torch dtype used under autocast (or float32)
    boundaries: str  # "mask4d" or "position_ids"
    attn_implementation: str


def pick_runtime(config: TrainConfig, local_rank: int = 0) -> Runtime:
    import torch

    name = config.device
    if name == "auto":
        name = f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu"
    device = torch.device(name)
    if device.type == "cpu" and config.cpu_threads:
        torch.set_num_threads(config.cpu_threads)
    on_gpu = device.type == "cuda"
    dtype_name = config.dtype if config.dtype != "auto" else ("bfloat16" if on_gpu else "float32")
    boundaries = config.boundaries
    attn = "sdpa"
    has_flash = False
    if on_gpu:
        try:
            import flash_attn  # noqa: F401

            has_flash = True
        except ImportError:
            pass
    has_varlen = on_gpu and not has_flash and dtype_name != "float32" and varlen.register()
    if boundaries == "auto":
        boundaries = "position_ids" if has_flash or has_varlen else "mask4d"
    if boundaries == "position_ids" and has_flash:
        attn = "flash_attention_2"
    elif boundaries == "position_ids" and has_varlen:
        attn = varlen.NAME  # torch's own varlen flash kernel (torch >= 2.10): no flash-attn build needed
    return Runtime(device, getattr(torch, dtype_name), boundaries, attn)


def is_varlen(runtime: Runtime) -> bool:
    """True when the attention kernel takes the samples' boundaries, so one long packed row costs no more."""
    return runtime.boundaries == "position_ids" and runtime.attn_implementation in ("flash_attention_2", varlen.NAME)


def load_tokenizer(base: str) -> Any:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base)
    if not getattr(tokenizer, "chat_template", None):
        raise ValueError(f"{base}: the tokenizer has no chat template; training needs the student's own format")
    if not tokenizer.is_fast:
        raise ValueError(f"{base}: a fast tokenizer is needed (offsets locate the assistant's tokens)")
    return tokenizer


def load_model(base: str, config: TrainConfig, runtime: Runtime) -> Any:
    """Base model in fp32 master weights (LoRA: frozen base in the compute dtype), LoRA wrapped if asked."""
    import torch
    from transformers import AutoModelForCausalLM

    torch.manual_seed(config.seed)
    if runtime.device.type == "cpu":
        release_freed_activations()  # before the first tensor: freed activations leave the heap at once
    base_dtype = torch.float32 if config.method == "full" else runtime.compute_dtype
    model: Any = AutoModelForCausalLM.from_pretrained(base, dtype=base_dtype, attn_implementation=runtime.attn_implementation)
    model.config.use_cache = False
    budget = checkpointing_budget(config, runtime.device)
    if wants_activation_checkpointing(model, config, compute_bytes_for(config, runtime.device), budget):
        _checkpoint_layers(model)
    if config.method == "lora":
        from peft import LoraConfig, get_peft_model

        lora = LoraConfig(
            r=config.lora_r,
            lora_alpha=config.lora_alpha,
            lora_dropout=config.lora_dropout,
            target_modules=list(config.lora_target_modules),
            modules_to_save=list(config.lora_modules_to_save) or None,
            task_type="CAUSAL_LM",
        )
        model = get_peft_model(model, lora)
        for param in model.parameters():  # trainable copies train in fp32
            if param.requires_grad:
                param.data = param.data.float()
    return model.to(runtime.device)


def _checkpoint_layers(model: Any) -> None:
    """Recompute each decoder layer's activations in backward instead of keeping them (non-reentrant)."""
    enable = getattr(model, "activation_checkpointing_enable", None)
    if enable is not None:
        enable(activation_checkpointing_kwargs={"use_reentrant": False})
    else:  # transformers before 5
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})


def count_parameters(model: Any) -> tuple[int, int]:
    """(total, trainable) parameter counts."""
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return total, trainable


def batch_tensors(rows: list[PackedRow], runtime: Runtime) -> dict[str, Any]:
    """Model inputs and targets for packed rows, padded to the longest row.

    With boundaries == 'mask4d' the mask is block-diagonal causal (padding attends only to itself, so
    no softmax row is empty); with 'position_ids' only the restarting positions mark the samples,
    for attention kernels that derive varlen boundaries from them.
    """
    import torch

    device = runtime.device
    width = max(len(row.input_ids) for row in rows)
    ids = torch.zeros((len(rows), width), dtype=torch.long)
    positions = torch.zeros((len(rows), width), dtype=torch.long)
    targets = torch.full((len(rows), width), IGNORE, dtype=torch.long)
    segments = torch.full((len(rows), width), -1, dtype=torch.long)
    for b, row in enumerate(rows):
        n = len(row.input_ids)
        ids[b, :n] = torch.tensor(row.input_ids)
        positions[b, :n] = torch.tensor(row.position_ids)
        targets[b, :n] = torch.tensor(row.targets)
        segments[b, :n] = torch.repeat_interleave(torch.arange(len(row.lengths)), torch.tensor(row.lengths))
    inputs: dict[str, Any] = {"input_ids": ids.to(device), "position_ids": positions.to(device)}
    if runtime.attn_implementation == varlen.NAME:  # the boundaries, known here, so no layer reads them back
        bounds, longest = varlen.cumulative_lengths([row.lengths for row in rows], width)
        cu = torch.tensor(bounds, dtype=torch.int32).to(device)
        inputs.update(cu_seq_lens_q=cu, cu_seq_lens_k=cu, max_length_q=longest, max_length_k=longest)
    if runtime.boundaries == "mask4d":
        same = segments[:, :, None] == segments[:, None, :]
        causal = torch.ones(width, width, dtype=torch.bool).tril()
        pad_self = (segments[:, :, None] < 0) & torch.eye(width, dtype=torch.bool)
        allowed = (same & (segments[:, :, None] >= 0) & causal) | pad_self
        dtype = runtime.compute_dtype if device.type == "cuda" else torch.float32
        mask = torch.zeros(allowed.shape, dtype=dtype)
        mask.masked_fill_(~allowed, torch.finfo(dtype).min)
        inputs["attention_mask"] = mask[:, None].to(device)
    return {"inputs": inputs, "targets": targets.to(device)}


def batch_logits(model: Any, rows: list[PackedRow], runtime: Runtime) -> tuple[Any, Any]:
    """(logits, targets) of packed rows."""
    import torch

    tensors = batch_tensors(rows, runtime)
    use_autocast = runtime.device.type == "cuda" and runtime.compute_dtype != torch.float32
    with torch.autocast(runtime.device.type, dtype=runtime.compute_dtype, enabled=use_autocast):
        return model(**tensors["inputs"]).logits, tensors["targets"]


def row_logits(model: Any, row: PackedRow, runtime: Runtime) -> Any:
    return batch_logits(model, [row], runtime)[0]


def full_logits_loss_sum(model: Any, rows: list[PackedRow], runtime: Runtime) -> Any:
    """The reference loss: full-vocabulary logits for every token at once (what batch_loss_sum avoids)."""
    import torch.nn.functional as F

    logits, targets = batch_logits(model, rows, runtime)
    return F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=IGNORE,
                           reduction="sum")


def batch_loss_sum(model: Any, rows: list[PackedRow], runtime: Runtime, chunk_tokens: int = LOSS_CHUNK_TOKENS) -> Any:
    """Summed cross-entropy over the rows' assistant targets (divide by the step's target count).

    Only assistant positions get logits, `chunk_tokens` at a time, each chunk checkpointed: the output
    layer's full-vocabulary fp32 logits never exist for the whole micro-batch (see chunked_head)."""
    import torch

    tensors = batch_tensors(rows, runtime)
    head_owner = _unwrap(model)
    if not _plain_logits(head_owner):
        return full_logits_loss_sum(model, rows, runtime)
    use_autocast = runtime.device.type == "cuda" and runtime.compute_dtype != torch.float32
    with chunked_head(head_owner.get_output_embeddings(), tensors["targets"], chunk_tokens), \
            torch.autocast(runtime.device.type, dtype=runtime.compute_dtype, enabled=use_autocast):
        return model(**tensors["inputs"]).logits  # the head returns the summed loss in place of the logits


def _unwrap(model: Any) -> Any:
    """The model that owns the output layer, under DDP/FSDP (`.module`)."""
    while hasattr(model, "module") and not hasattr(model, "get_output_embeddings"):
        model = model.module
    return model


def _plain_logits(model: Any) -> bool:
    """True when the logits are exactly the output layer's output (no soft-capping or scaling after it)."""
    config = getattr(model, "config", None)
    altered = any(getattr(config, key, None) not in (None, 1, 1.0) for key in LOGIT_POSTPROCESSING)
    return not altered and callable(getattr(model, "get_output_embeddings", None)) \
        and model.get_output_embeddings() is not None


@contextmanager
def chunked_head(head: Any, targets: Any, chunk_tokens: int) -> Iterator[None]:
    """Make `head` (the output layer, whatever wraps it: LoRA, modules_to_save) return the summed loss.

    Inside the model's forward (so DDP/FSDP hooks see it), the hidden states of positions with a
    target are gathered and sent through the real head `chunk_tokens` at a time; each chunk's logits,
    log-softmax and cross-entropy are recomputed in backward instead of kept."""
    import torch
    from torch.utils.checkpoint import checkpoint

    original = head.forward
    patched_before = "forward" in vars(head)  # e.g. accelerate hooks set an instance forward

    def chunk_loss(hidden: Any, labels: Any) -> Any:
        import torch.nn.functional as F

        return F.cross_entropy(original(hidden).float(), labels, reduction="sum")

    def loss_forward(hidden: Any) -> Any:
        keep = targets != IGNORE
        selected, labels = hidden[keep], targets[keep]
        total = torch.zeros((), dtype=torch.float32, device=hidden.device)
        for start in range(0, selected.shape[0], chunk_tokens):
            part = slice(start, start + chunk_tokens)
            total = total + checkpoint(chunk_loss, selected[part], labels[part], use_reentrant=False)
        if selected.shape[0] == 0:  # keep the graph connected (DDP) when no position has a target
            total = total + 0.0 * hidden.sum()
        return total

    head.forward = loss_forward
    try:
        yield
    finally:
        if patched_before:
            head.forward = original
        else:
            del head.forward  # back to the class's forward
