"""Varlen attention without the flash-attn package: packed samples attend only within themselves.

A packed row holds several samples one after another. A varlen kernel takes the samples' boundaries
(cumulative lengths) and runs attention inside each, so a long packed row costs what its samples
cost alone and needs no (tokens x tokens) mask. flash-attn has such a kernel but ships as source that
takes an hour to build; torch >= 2.10 has its own (`torch.nn.attention.varlen.varlen_attn`, CUDA only).
`register` makes it the transformers attention implementation `NAME`; lab.train.modeling picks it on
a GPU without flash-attn and passes the boundaries with each batch (`cumulative_lengths`).

The kernel is injectable: `reference_kernel` (per-sample SDPA, any device) is what the CPU tests run
the same plumbing with; benchmarks/gpu_path.py checks torch's kernel on a GPU against fp32 runs of
each sample alone.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

NAME = "arborist_varlen"

Kernel = Callable[[Any, Any, Any, Any, int, "float | None"], Any]  # (q, k, v, cu, longest, scale) -> out
_kernel: Kernel | None = None


def cumulative_lengths(rows: Sequence[Sequence[int]], width: int) -> tuple[list[int], int]:
    """(boundaries, longest sample) of a batch of packed rows, each padded to `width` tokens.

    The rows are read as one sequence of len(rows) * width tokens; a row's padding is a segment of its
    own, so padding attends only to padding and every boundary list ends at the batch's last token."""
    bounds, longest = [0], 0
    for index, lengths in enumerate(rows):
        used = 0
        for length in lengths:
            used += length
            bounds.append(index * width + used)
            longest = max(longest, length)
        if used < width:
            bounds.append((index + 1) * width)
            longest = max(longest, width - used)
    return bounds, longest


def lengths_from_positions(position_ids: Any) -> list[list[int]]:
    """Each row's sample lengths, read off position ids that restart at 0 with every sample."""
    rows = []
    for positions in position_ids.tolist():
        starts = [i for i, p in enumerate(positions) if p == 0] or [0]
        if starts[0] != 0:
            starts.insert(0, 0)
        rows.append([b - a for a, b in zip(starts, starts[1:] + [len(positions)], strict=True)])
    return rows


def torch_kernel() -> Kernel | None:
    """torch's varlen flash kernel behind one calling convention, or None where this torch has none.

    torch 2.10 asks `is_causal`, later ones a window ((-1, 0) is causal); grouped-query attention is a
    flag where the kernel has it, else key and value heads are repeated."""
    try:
        from torch.nn.attention.varlen import varlen_attn
    except ImportError:
        return None
    params = inspect.signature(varlen_attn).parameters
    causal: dict[str, Any] = {"window_size": (-1, 0)} if "window_size" in params else {"is_causal": True}
    has_gqa, has_scale = "enable_gqa" in params, "scale" in params

    def kernel(q: Any, k: Any, v: Any, cu: Any, longest: int, scale: float | None) -> Any:
        extra: dict[str, Any] = {}
        if has_scale:
            extra["scale"] = scale
        elif scale is not None:  # a kernel without the argument scales by 1/sqrt(dim): fold the difference into q
            q = q * (scale * q.shape[-1] ** 0.5)
        if k.shape[1] != q.shape[1]:
            if has_gqa:
                extra["enable_gqa"] = True
            else:
                groups = q.shape[1] // k.shape[1]
                k, v = k.repeat_interleave(groups, dim=1), v.repeat_interleave(groups, dim=1)
        return varlen_attn(q, k, v, cu, cu, longest, longest, **causal, **extra)

    return kernel


def reference_kernel(q: Any, k: Any, v: Any, cu: Any, longest: int, scale: float | None) -> Any:
    """Causal SDPA on each sample alone: slow and plain, on any device (the CPU tests' kernel)."""
    import torch
    import torch.nn.functional as F

    bounds = cu.tolist()
    groups = q.shape[1] // k.shape[1]
    parts = []
    for start, end in zip(bounds, bounds[1:], strict=False):
        qs, ks, vs = (t[start:end].transpose(0, 1) for t in (q, k, v))  # (heads, tokens, dim)
        if groups > 1:
            ks, vs = ks.repeat_interleave(groups, dim=0), vs.repeat_interleave(groups, dim=0)
        parts.append(F.scaled_dot_product_attention(qs, ks, vs, is_causal=True, scale=scale).transpose(0, 1))
    return torch.cat(parts) if parts else q[:0]


def attention(module: Any, query: Any, key: Any, value: Any, attention_mask: Any, scaling: float | None = None,
              dropout: float = 0.0, cu_seq_lens_q: Any = None, max_length_q: int | None = None,
              position_ids: Any = None, **_: Any) -> tuple[Any, None]:
    """transformers' attention interface: (batch, heads, tokens, dim) in, (batch, tokens, heads, dim) out."""
    import torch

    if _kernel is None:
        raise RuntimeError(f"attention '{NAME}' has no kernel: call lab.train.varlen.register() first")
    batch, heads, tokens, dim = query.shape
    if cu_seq_lens_q is None:  # called without the batch's boundaries: read them off the positions
        if position_ids is None:
            raise ValueError(f"attention '{NAME}' needs cu_seq_lens_q or position_ids")
        bounds, longest = cumulative_lengths(lengths_from_positions(position_ids), tokens)
        cu_seq_lens_q, max_length_q = torch.tensor(bounds, dtype=torch.int32, device=query.device), longest
    dtype = query.dtype
    if query.is_cuda and torch.is_autocast_enabled("cuda"):
        dtype = torch.get_autocast_dtype("cuda")  # fp32 master weights under autocast: the kernel wants bf16/fp16

    def flat(t: Any) -> Any:
        return t.transpose(1, 2).reshape(batch * tokens, t.shape[1], dim).to(dtype).contiguous()

    out = _kernel(flat(query), flat(key), flat(value), cu_seq_lens_q, int(max_length_q or tokens), scaling)
    return out.reshape(batch, tokens, heads, dim), None


def register(kernel: Kernel | None = None) -> bool:
    """Make `NAME` a transformers attention implementation backed by `kernel` (default: the kernel already
    registered, else torch's); False when there is none (torch before 2.10)."""
    global _kernel
    chosen = kernel or _kernel or torch_kernel()
    if chosen is None:
        return False
    from transformers import AttentionInterface

    _kernel = chosen
    AttentionInterface.register(NAME, attention)
    return True
