"""Multi-process training through the standard engine: `torchrun` starts the processes, torch.distributed
(NCCL on GPUs, Gloo on CPU) connects them, DistributedDataParallel keeps the replicas in step.

A single process (no WORLD_SIZE, or 1) is the default and touches none of this. Every rank builds
the same deterministic plan; a step's micro-batches are dealt round-robin to the ranks, the loss is
normalised by the step's global target count, so N ranks compute what one process with N times the
gradient accumulation computes. Rank 0 alone writes files; the others wait at barriers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    owns_group: bool = False  # False when a launcher (Ray Train) made the process group: it tears it down

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world > 1


def setup(environ: dict[str, str] | None = None) -> Dist:
    """Join the process group that torchrun describes in the environment (or stay single-process)."""
    from lab.settings import DistSettings

    settings = DistSettings.from_environ(environ)
    if settings.world_size <= 1:
        return Dist()
    import torch
    import torch.distributed as dist

    local_rank = settings.local_rank
    owns = not dist.is_initialized()
    if owns:
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(local_rank)
        dist.init_process_group(backend)
    return Dist(dist.get_rank(), dist.get_world_size(), local_rank, owns)


def wrap(model: Any, runtime: Any, d: Dist, mode: str = "ddp") -> Any:
    """The module to call forward on: DDP around the model, or the model itself sharded in place by
    FSDP (each decoder layer a unit, then the root), when several ranks train."""
    if not d.active:
        return model
    if mode == "fsdp":
        from torch.distributed.fsdp import fully_shard

        layers = getattr(getattr(model, "model", None), "layers", None)
        if layers is None:
            raise ValueError("distributed: fsdp needs a decoder with model.layers (Llama-like)")
        for layer in layers:
            fully_shard(layer)
        fully_shard(model)
        return model
    from torch.nn.parallel import DistributedDataParallel

    ids = [runtime.device.index] if runtime.device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=ids)


def my_share(indices: list[int], d: Dist) -> list[int | None]:
    """This rank's micro-batches of a step, padded with None so every rank runs as many backward passes
    (a collective that one rank skips would hang the others)."""
    mine: list[int | None] = list(indices[d.rank :: d.world])
    slots = -(-len(indices) // d.world) if indices else 0
    return mine + [None] * (slots - len(mine))


def full_states(model: Any, optimizer: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Gather a sharded model's and optimizer's full state on CPU (a collective: every rank calls it)."""
    from torch.distributed.checkpoint.state_dict import (
        StateDictOptions,
        get_model_state_dict,
        get_optimizer_state_dict,
    )

    options = StateDictOptions(full_state_dict=True, cpu_offload=True)
    return get_model_state_dict(model, options=options), get_optimizer_state_dict(model, optimizer, options=options)


def all_sum(value: float, d: Dist, device: Any) -> float:
    if not d.active:
        return value
    import torch
    import torch.distributed as dist

    tensor = torch.tensor([value], dtype=torch.float64, device=device)
    dist.all_reduce(tensor)
    return float(tensor.item())


def barrier(d: Dist) -> None:
    if d.active:
        import torch.distributed as dist

        dist.barrier()


def teardown(d: Dist) -> None:
    if d.active and d.owns_group:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.destroy_process_group()
