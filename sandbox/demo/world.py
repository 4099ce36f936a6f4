"""What the demo's steps share: its options, the story's fixed names and the `World` they act on.

Its own module so that the story, its steps, the stack and the GitHub side all import it and none of
them import each other in a circle.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.demo.artefacts import Artefacts
from sandbox.demo.procs import Processes
from sandbox.demo.repo import TaxonomyRepo
from sandbox.demo.timeline import StepFailed, Timeline

POLL_S = 0.2  # seconds between looks at the stand-ins' state
TAXONOMY = "arborist-demo/taxonomy"
PR_BRANCH = "contrib/tree-care"


@dataclass(frozen=True)
class DemoOptions:
    out: Path
    fast: bool = False
    teacher: str = "scripted"  # ARBORIST_TEACHER on the worker
    timeout_s: float = 300.0
    keep: bool = False
    student: str = "tiny"  # ARBORIST_BASE_MODEL on the worker: "tiny" (random, built here) or a model reference
    ray: bool = False  # every job on a local Ray cluster (sandbox.demo.ray_mode)

    @property
    def real(self) -> bool:
        """A pretrained student: real training and evaluation, with the smaller taxonomy and step budgets."""
        return self.student != "tiny"


@dataclass
class World:
    """Everything the steps share. Filled in as the story goes."""

    options: DemoOptions
    timeline: Timeline
    artefacts: Artefacts
    procs: Processes
    work: Path
    deadline: float
    repo: TaxonomyRepo | None = None
    base_sha: str = ""
    models: Any = None  # sandbox.demo.models.Models once prepared
    stack: Any = None  # sandbox.demo.stack.Stack once the services run
    pr: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def wait_for(self, what: str, probe: Callable[[], Any], timeout_s: float | None = None) -> Any:
        """Poll `probe` until it returns something truthy; fail naming `what` on timeout or a dead child."""
        limit = min(timeout_s if timeout_s is not None else self.remaining(), self.remaining())
        end = time.monotonic() + max(limit, 0)
        while True:
            self.procs.check_alive()
            value = probe()
            if value:
                return value
            if time.monotonic() >= end:
                raise StepFailed(self.timeline.steps[-1].title if self.timeline.steps else what,
                                 f"waited {limit:.0f}s for {what}")
            time.sleep(POLL_S)
