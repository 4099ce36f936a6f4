"""Checkpoints that a kill cannot break: written to a temporary folder, then renamed into place.

A checkpoint holds the model (a Hugging Face dir for full tuning, a peft adapter for LoRA), the
optimizer, the scheduler, every RNG state and the data position, so a resumed run continues
exactly where the saved one stood. `--resume` picks the newest complete checkpoint; a folder left
half-written by a kill keeps its temporary name and is ignored (and cleaned up on the next save).
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
from pathlib import Path
from typing import Any

CHECKPOINT_RE = re.compile(r"^checkpoint-(\d+)$")
TMP_PREFIX = ".tmp-"
STATE_FILE = "state.json"


def list_checkpoints(phase_dir: Path) -> list[tuple[int, Path]]:
    """Complete checkpoints of a phase, oldest first."""
    if not phase_dir.is_dir():
        return []
    found = []
    for child in phase_dir.iterdir():
        match = CHECKPOINT_RE.match(child.name)
        if match and (child / STATE_FILE).is_file():
            found.append((int(match.group(1)), child))
    return sorted(found)


def latest_checkpoint(phase_dir: Path) -> Path | None:
    found = list_checkpoints(phase_dir)
    return found[-1][1] if found else None


def read_state(checkpoint: Path) -> dict[str, Any]:
    return json.loads((checkpoint / STATE_FILE).read_text(encoding="utf-8"))


def _is_peft(model: Any) -> bool:
    return hasattr(model, "peft_config")


def save_checkpoint(phase_dir: Path, step: int, model: Any, optimizer: Any, scheduler: Any, state: dict[str, Any], keep: int,
                    full: tuple[dict[str, Any], dict[str, Any]] | None = None, protect: int | None = None) -> Path:
    """Write checkpoint-<step> atomically and prune older ones beyond `keep`; the state file goes last.

    `full`: (model, optimizer) states already gathered from a sharded (FSDP) model. `protect`: a step
    never pruned (the best held-out loss so far, which early stopping may return to)."""
    import torch

    phase_dir.mkdir(parents=True, exist_ok=True)
    for stale in phase_dir.glob(TMP_PREFIX + "*"):
        shutil.rmtree(stale, ignore_errors=True)
    final = phase_dir / f"checkpoint-{step}"
    tmp = phase_dir / f"{TMP_PREFIX}checkpoint-{step}"
    tmp.mkdir()
    if full is not None:
        from safetensors.torch import save_file

        (tmp / "model").mkdir()
        model.config.save_pretrained(tmp / "model")
        save_file({k: v.detach().contiguous().clone() for k, v in full[0].items()}, tmp / "model" / "model.safetensors",
                  metadata={"format": "pt"})
    elif _is_peft(model):
        model.save_pretrained(tmp / "adapter")
    else:
        model.save_pretrained(tmp / "model")
    torch.save(full[1] if full is not None else optimizer.state_dict(), tmp / "optimizer.pt")
    torch.save(scheduler.state_dict(), tmp / "scheduler.pt")
    rng = {"torch": torch.get_rng_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        rng["cuda"] = torch.cuda.get_rng_state_all()
    torch.save(rng, tmp / "rng.pt")
    (tmp / STATE_FILE).write_text(json.dumps(state, indent=2, sort_keys=True), encoding="utf-8")
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    _fsync_dir(phase_dir)
    for old_step, old in list_checkpoints(phase_dir)[:-keep]:
        if old_step not in (step, protect) and not read_state(old).get("complete"):
            shutil.rmtree(old, ignore_errors=True)
    return final


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _safetensors_state(folder: Path) -> dict[str, Any]:
    from safetensors.torch import load_file

    state: dict[str, Any] = {}
    for file in sorted(folder.glob("*.safetensors")):
        state.update(load_file(file))
    if not state:
        raise FileNotFoundError(f"{folder}: no safetensors weights")
    return state


def load_weights(model: Any, checkpoint: Path, sharded: bool = False) -> None:
    """Load a checkpoint's trained weights into a model built the same way (same base, same method)."""
    if sharded:  # FSDP: every rank reads the full file and keeps its shard
        from torch.distributed.checkpoint.state_dict import StateDictOptions, set_model_state_dict

        set_model_state_dict(model, _safetensors_state(checkpoint / "model"), options=StateDictOptions(full_state_dict=True))
        return
    if _is_peft(model):
        from peft import set_peft_model_state_dict

        if not (checkpoint / "adapter").is_dir():
            raise ValueError(f"{checkpoint}: no LoRA adapter (was it saved by a full fine-tuning run?)")
        result = set_peft_model_state_dict(model, _safetensors_state(checkpoint / "adapter"))
        unexpected = getattr(result, "unexpected_keys", [])
    else:
        if not (checkpoint / "model").is_dir():
            raise ValueError(f"{checkpoint}: no full model (was it saved by a LoRA run?)")
        result = model.load_state_dict(_safetensors_state(checkpoint / "model"), strict=False)
        unexpected = result.unexpected_keys
    if unexpected:
        raise ValueError(f"{checkpoint}: weights that do not fit this model: {sorted(unexpected)[:5]}")


def load_training_state(checkpoint: Path, optimizer: Any, scheduler: Any, device: Any, sharded_model: Any = None) -> dict[str, Any]:
    """Restore optimizer, scheduler and RNG; return the saved state dict (step, data position, ...)."""
    import torch

    saved = torch.load(checkpoint / "optimizer.pt", map_location="cpu" if sharded_model is not None else device,
                       weights_only=True)
    if sharded_model is not None:
        from torch.distributed.checkpoint.state_dict import StateDictOptions, set_optimizer_state_dict

        set_optimizer_state_dict(sharded_model, optimizer, saved, options=StateDictOptions(full_state_dict=True))
    else:
        optimizer.load_state_dict(saved)
    scheduler.load_state_dict(torch.load(checkpoint / "scheduler.pt", weights_only=True))
    rng = torch.load(checkpoint / "rng.pt", weights_only=False)
    torch.set_rng_state(rng["torch"])
    random.setstate(rng["python"])
    if "cuda" in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])
    return read_state(checkpoint)
