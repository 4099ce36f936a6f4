"""The demo's story, step by step: from a broken pull request to a pulled release that answers.

Each step is a function of the `World` (what is running, where things are) and is played inside a
timeline step, so a failure names the step. Every wait is bounded by the demo's overall deadline.
"""

from __future__ import annotations

import shutil
import signal
import tempfile
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


def _on_sigterm(signum, frame):  # noqa: ARG001 - signal handler signature
    raise KeyboardInterrupt


def _keep_job_logs(src: Path, dest: Path) -> None:
    """The worker's per-job logs outlive the temporary folder: they explain a failed job."""
    if src.is_dir():
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(src, dest, dirs_exist_ok=True)


def play(options: DemoOptions) -> tuple[bool, str | None, str | None]:
    """Run every step; always clean up. Returns (ok, failed step, reason)."""
    from sandbox.demo import steps

    timeline = Timeline()
    artefacts = Artefacts(options.out)
    work = Path(tempfile.mkdtemp(prefix="arborist-demo-")) if not options.keep else options.out / "work"
    if options.keep and work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    procs = Processes(options.out / "logs")
    timeline.cpu = procs.cpu_seconds  # each step's line says how much CPU the demo, the bot and the worker used
    world = World(options, timeline, artefacts, procs, work, time.monotonic() + options.timeout_s)
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    failed: tuple[str | None, str | None] = (None, None)
    try:
        for title, step, budget_s in steps.STORY:
            if world.remaining() <= 0:
                raise StepFailed(title, f"the demo ran out of time ({options.timeout_s:.0f}s)")
            with timeline.step(title, budget_s if options.real else None):
                step(world)
    except StepFailed as exc:
        failed = (exc.step, exc.reason)
    except KeyboardInterrupt:
        failed = (timeline.steps[-1].title if timeline.steps else "start", "interrupted")
    finally:
        procs.close()
        signal.signal(signal.SIGTERM, previous)
        _keep_job_logs(work / "arborist-data" / "logs", options.out / "logs" / "jobs")
        if not options.keep:
            shutil.rmtree(work, ignore_errors=True)
    ok = failed[0] is None
    artefacts.write_summary(timeline.as_dicts(), ok=ok, failed_step=failed[0])
    if ok:
        over = [s.title for s in timeline.steps if s.budget_s and s.elapsed_s > s.budget_s]
        print(f"\nArborist did its whole job in {timeline.total_s():.0f}s ({timeline.cpu_total():.0f} CPU-s)."
              f" What the bot wrote: {options.out}/")
        if over:
            print(f"{len(over)} step(s) went over their budget for 2 idle cores: the machine is busy or slower.")
        print("To run it for real (a GitHub App, GPU workers, the Hub): README.md, \"Deploying Arborist\"")
    return ok, failed[0], failed[1]
