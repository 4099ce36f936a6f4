"""The demo's story, step by step: from a broken pull request to a pulled release that answers.

Each step is a function of the `World` (what is running, where things are) and is played inside a
timeline step, so a failure names the step. Every wait is bounded by the demo's overall deadline.
"""

from __future__ import annotations

import shutil
import signal
import tempfile
import time
from pathlib import Path

from sandbox.demo import steps
from sandbox.demo.artefacts import Artefacts
from sandbox.demo.procs import Processes
from sandbox.demo.timeline import StepFailed, Timeline
from sandbox.demo.world import DemoOptions, World


def _on_sigterm(signum, frame):  # noqa: ARG001 - signal handler signature
    raise KeyboardInterrupt


def _keep_job_logs(src: Path, dest: Path) -> None:
    """The worker's per-job logs outlive the temporary folder: they explain a failed job."""
    if src.is_dir():
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(src, dest, dirs_exist_ok=True)


def play(options: DemoOptions) -> tuple[bool, str | None, str | None]:
    """Run every step; always clean up. Returns (ok, failed step, reason)."""
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
