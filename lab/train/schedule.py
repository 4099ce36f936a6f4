"""Learning-rate schedules (warm-up, then cosine, linear or constant) and the metrics log helpers."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

PEAK_BF16_FLOPS = {"H100": 989e12, "H200": 989e12, "A100": 312e12, "L40S": 362e12, "A10": 125e12, "L4": 121e12}


def lr_factor(step: int, total: int, warmup: int, kind: str) -> float:
    """Multiplier of the peak learning rate before optimizer step `step` (0-based)."""
    if warmup > 0 and step < warmup:
        return (step + 1) / warmup
    if kind == "constant" or total <= warmup:
        return 1.0
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    if kind == "linear":
        return max(0.0, 1.0 - progress)
    return 0.5 * (1.0 + math.cos(math.pi * progress))


def make_scheduler(optimizer: Any, total: int, warmup_ratio: float, kind: str) -> Any:
    from torch.optim.lr_scheduler import LambdaLR

    warmup = int(round(warmup_ratio * total))
    return LambdaLR(optimizer, lambda step: lr_factor(step, total, warmup, kind))


def peak_flops(device: Any) -> float | None:
    """Dense bf16 peak of a known GPU, for the MFU estimate; None on CPU or an unknown GPU."""
    if getattr(device, "type", "cpu") != "cuda":
        return None
    import torch

    name = torch.cuda.get_device_name(device)
    return next((flops for key, flops in PEAK_BF16_FLOPS.items() if key in name), None)


def append_metrics(path: Path, record: dict[str, Any]) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, sort_keys=True) + "\n")
        handle.flush()


def truncate_metrics(path: Path, phases: list[str], phase: str, step: int) -> None:
    """Drop lines a killed run logged after the checkpoint being resumed (atomically rewritten)."""
    if not path.is_file():
        return
    order = {name: i for i, name in enumerate(phases)}
    kept = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut by the kill
        where = order.get(record.get("phase"), len(phases))
        if where < order[phase] or (where == order[phase] and record.get("step", 0) <= step):
            kept.append(line)
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(line + "\n" for line in kept), encoding="utf-8")
    os.replace(tmp, path)
