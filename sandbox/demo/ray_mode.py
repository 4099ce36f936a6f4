"""The demo's Ray mode (`arborist demo --ray`): the same story with every job run on a local Ray cluster.

A Ray head starts on loopback; the bot's worker runs as a Ray-mode worker (`ARBORIST_EXECUTOR=ray`),
so each step is a Ray job that it follows; with the scripted teacher, two teacher replicas (OpenAI-compatible
servers) stand for the GPU teachers and the leaves fan out over them as Ray tasks; the retrain trains
on two Ray Train workers. Only settings change: this module computes them, the story is unchanged.
"""

from __future__ import annotations

import contextlib
from typing import Any

RAY_CPUS = 4  # logical CPUs of the demo's head: the step, two Ray Train workers and fan-out tasks at once
TRAIN_WORKERS = 2
# What a step needs from the worker's environment, handed to the Ray job by name (ARBORIST_RAY_ENV).
STEP_PREFIXES = ("ARBORIST_", "HF_")
STEP_NAMES = ("PYTHONPATH", "OMP_NUM_THREADS", "TOKENIZERS_PARALLELISM")
NOT_FOR_STEPS = ("ARBORIST_WEBHOOK_SECRET", "ARBORIST_PRIVATE_KEY_FILE", "ARBORIST_RAY_AUTH_HEADER")


def teacher_replicas(world: Any, stack: contextlib.ExitStack) -> str:
    """The teacher spec for Ray mode: two scripted replicas, or what the user gave (URLs fan out themselves)."""
    if world.models.teacher != "scripted":
        return world.models.teacher
    from sandbox.standins.teacher import ScriptedTeacherServer

    replicas = [stack.enter_context(ScriptedTeacherServer()) for _ in range(2)]
    world.state["teacher_replicas"] = replicas
    return ",".join(replica.url for replica in replicas)


def ray_settings(world: Any, env: dict[str, str]) -> dict[str, str]:
    """Start the head (and replicas), stopped when the demo closes; return the settings that move jobs there."""
    from sandbox.raycluster import local_ray_cluster

    stack = contextlib.ExitStack()
    world.procs.on_close(stack.close)
    world.timeline.note(f"starting a local Ray cluster ({RAY_CPUS} logical CPUs) for --ray")
    head = stack.enter_context(local_ray_cluster(num_cpus=RAY_CPUS))
    world.state["ray_head"] = head
    settings = {
        "ARBORIST_EXECUTOR": "ray",
        "ARBORIST_RAY_ADDRESS": head.jobs_url,
        "ARBORIST_RAY_NAMESPACE": "arborist-demo",
        "ARBORIST_RAY_NUM_CPUS": "0.5",
        "ARBORIST_TEACHER": teacher_replicas(world, stack),
        "ARBORIST_FANOUT": "ray",
        "ARBORIST_RAY_TRAIN_WORKERS": str(TRAIN_WORKERS),
    }
    merged = {**env, **settings}
    names = sorted(name for name in merged if (name.startswith(STEP_PREFIXES) or name in STEP_NAMES)
                   and name not in NOT_FOR_STEPS)
    return {**settings, "ARBORIST_RAY_ENV": ",".join(names)}
