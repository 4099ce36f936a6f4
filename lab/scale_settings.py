"""How a step spreads its work beyond one process: the teacher replicas' fan-out and Ray Train workers.

Read once through the shared settings mechanism (schemas.env_settings): ARBORIST_FANOUT (`threads` or
`ray`), ARBORIST_RAY_TRAIN_WORKERS (0: train in this process), ARBORIST_RAY_TRAIN_GPU, and Ray's own
RAY_ADDRESS (set by Ray inside a Ray job; `auto` otherwise). A bad value is one line naming the variable.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AliasChoices, Field

from schemas.env_settings import EnvSettings


class ScaleSettings(EnvSettings):
    fanout: Literal["threads", "ray"] = "threads"  # ARBORIST_FANOUT: where a teacher's replicas get their leaves from
    ray_train_workers: Annotated[int, Field(ge=0)] = 0  # ARBORIST_RAY_TRAIN_WORKERS: Ray Train workers (0: none)
    ray_train_gpu: bool = False  # ARBORIST_RAY_TRAIN_GPU: a GPU for each Ray Train worker
    ray_address: Annotated[str, Field(validation_alias=AliasChoices("RAY_ADDRESS", "ray_address"))] = "auto"

    def connect_ray(self) -> None:
        """Join the Ray cluster this step runs on (once); workers' lines reach this process's log."""
        import logging

        import ray

        if not ray.is_initialized():
            ray.init(address=self.ray_address or "auto", logging_level=logging.ERROR, log_to_driver=True)
