"""`lab train` across the nodes of a Ray cluster: Ray Train's TorchTrainer starts the ranks and connects them.

Each Ray Train worker runs the very same `lab.train.trainer.train` that torchrun's ranks run: Ray sets
the torch.distributed environment (Gloo on CPU, NCCL on GPUs) and the trainer's own plan deals each
step's micro-batches to the ranks, so N workers compute what one process with N times the gradient
accumulation computes. Checkpoints go where the run writes them, `out`, which must be storage every node
sees (a shared volume); when a worker dies, Ray restarts the group (up to `max_failures` times) and every
rank resumes from the last checkpoint there, so the run ends once, with the uninterrupted run's result.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab.train.config import TrainConfig

PID_DIR = "ray-workers"  # each worker writes its pid here: what an operator (or a test) kills to try recovery


@dataclass(frozen=True)
class RayTrainOptions:
    num_workers: int = 2
    use_gpu: bool = False
    max_failures: int = 1  # worker-group restarts before the run fails
    storage_path: str | None = None  # Ray Train's own run folder (a path or fsspec URL); default beside `out`
    step_delay_s: float = 0.0  # debug: slow every step, so a test can kill a worker mid-run

    def check(self) -> None:
        if self.num_workers < 1 or self.max_failures < 0 or self.step_delay_s < 0:
            raise ValueError("ray training: need num_workers >= 1, max_failures >= 0 and step_delay_s >= 0")


def _per_worker(cfg: dict[str, Any]) -> None:
    """One rank: record its pid, then train (resuming when an earlier attempt left a checkpoint)."""
    import ray.train

    from lab.train.trainer import RunOptions, train

    out = Path(cfg["out"])
    rank = ray.train.get_context().get_world_rank()
    (out / PID_DIR).mkdir(parents=True, exist_ok=True)
    (out / PID_DIR / f"rank-{rank}.pid").write_text(str(os.getpid()))
    resume = (out / "run.json").is_file()
    options = RunOptions(resume=resume, progress=False, step_delay_s=cfg["step_delay_s"],
                         log=print if rank == 0 else (lambda _: None))
    train(cfg["data"], cfg["base"], out, TrainConfig(**cfg["config"]), options)
    ray.train.report({"resumed": int(resume)})


def train_on_ray(data_dir: str | Path, base: str, out: str | Path, config: TrainConfig,
                 options: RayTrainOptions | None = None) -> dict[str, Any]:
    """Run the training on the Ray cluster this process is connected to; returns the run's summary."""
    from ray.train import FailureConfig, RunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer

    from lab.train.trainer import SUMMARY_FILE

    options = options or RayTrainOptions()
    options.check()
    config.validate()
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    storage = options.storage_path or str(out.parent / f"{out.name}.ray")
    cfg = {"data": str(Path(data_dir).resolve()), "base": base, "out": str(out), "config": config.model_dump(),
           "step_delay_s": options.step_delay_s}
    trainer = TorchTrainer(_per_worker, train_loop_config=cfg,
                           scaling_config=ScalingConfig(num_workers=options.num_workers, use_gpu=options.use_gpu),
                           run_config=RunConfig(name=out.name, storage_path=storage,
                                                failure_config=FailureConfig(max_failures=options.max_failures)))
    trainer.fit()
    return json.loads((out / SUMMARY_FILE).read_text(encoding="utf-8"))


def ray_workers_from_env(environ: dict[str, str] | None = None) -> int:
    """ARBORIST_RAY_TRAIN_WORKERS: train on this many Ray Train workers (0 or unset: in this process)."""
    from lab.scale_settings import ScaleSettings

    return ScaleSettings.from_environ(environ).ray_train_workers


def train_where_configured(data_dir: str | Path, base: str, out: str | Path, config: TrainConfig, options: Any,
                           environ: dict[str, str] | None = None) -> dict[str, Any]:
    """The retrain's training call: on the Ray cluster the step runs on when ARBORIST_RAY_TRAIN_WORKERS asks
    for workers (ARBORIST_RAY_TRAIN_GPU=1 gives each a GPU), else `train` here with `options`."""
    from lab.scale_settings import ScaleSettings

    settings = ScaleSettings.from_environ(environ)
    if settings.ray_train_workers == 0:
        from lab.train.trainer import train

        return train(data_dir, base, out, config, options)
    settings.connect_ray()
    workers, use_gpu = settings.ray_train_workers, settings.ray_train_gpu
    options.log(f"training on {workers} Ray Train workers ({'GPU' if use_gpu else 'CPU'}, {config.distributed})")
    return train_on_ray(data_dir, base, out, config, RayTrainOptions(num_workers=workers, use_gpu=use_gpu))
