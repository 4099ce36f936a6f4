"""The local worker: claim a job with a lease, run its ci step in a subprocess, report, repeat.

One `arborist worker` per GPU (it passes CUDA_VISIBLE_DEVICES through). The step runs in its own
process group with a timeout; a heartbeat thread renews the lease and watches for a cancel request
(then the whole group is stopped: SIGTERM, then SIGKILL). The step's stdout goes to a log file and
its `::arborist-progress::` / `::arborist-result::` lines (see `ci.report`) go to the store and to
GitHub. A worker killed mid-job loses nothing: its lease runs out, `reap_expired` puts the job back
in the queue, and every write is fenced on the lease, so one job ends with exactly one result.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TextIO

from bot.jobs.heartbeats import WorkerHeartbeats
from bot.jobs.model import CANCELLED, FAILED, PR_KINDS, QUEUED, SUCCEEDED, Job, approved_arg
from bot.jobs.settings import JobSettings
from bot.jobs.store import JobStore
from lab.github.protocol import GitHubClient
from schemas.masking import known_secrets, mask
from schemas.steplines import Progress, Result, parse_line

LOG = logging.getLogger("arborist.worker")
PROGRESS_PUBLISH_S = 5.0  # at most one GitHub edit per this many seconds for progress
PUBLISH_TRIES = 4  # a final state is published with retries (GitHub 5xx, rate limits)
PUBLISH_BACKOFF_S = 1.0  # doubled after each failed try
QUEUE_REFRESH = 10  # after a claim, this many waiting jobs get their queue position re-rendered
LOG_TAIL_CHARS = 3000  # the end of the log shown in a failure report
PR_SET_PDEATHSIG = 1  # linux/prctl.h

CommandFor = Callable[[Job], list[str]]
ClientFor = Callable[[Job], GitHubClient]


def ci_command(job: Job, python: str = sys.executable) -> list[str]:
    """`python -m ci.<kind> ...` with the job's inputs; nothing from the PR but its number and SHA."""
    cmd = [python, "-m", f"ci.{job.kind}", "--repo", job.repo, "--sha", job.sha, "--job-id", str(job.id)]
    if job.kind in PR_KINDS:
        cmd += ["--pr", str(job.pr)]
        if job.status_comment_id:
            cmd += ["--status-comment-id", str(job.status_comment_id)]
        if job.args.get("samples"):
            cmd += ["--samples", str(int(job.args["samples"]))]
        if job.args.get("max_questions"):
            cmd += ["--max-questions", str(int(job.args["max_questions"]))]
        for leaf in job.args.get("leaves") or []:
            cmd += ["--leaf", str(leaf)]
    if job.kind == "retrain":
        cmd += ["--approved", approved_arg(job)]
    if job.check_run_id:
        cmd += ["--check-run-id", str(job.check_run_id)]
    return cmd


def _die_with_parent() -> None:
    """In the step's process (Linux): SIGKILL it when the worker dies, so a killed worker leaves no orphan."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: the lease still expires and the job is claimed again


@dataclass
class StepOutcome:
    returncode: int | None = None
    result: Result | None = None
    cancelled: bool = False
    released: bool = False  # the worker is shutting down: the job goes back to the queue
    timed_out: bool = False
    lease_lost: bool = False
    log_tail: str = ""
    log_path: Path | None = None


class Jobs(Protocol):
    """What a worker needs of the job service (bot.jobs.service.JobService is one): its store and settings,
    the workers' heartbeats, and a way to show a job's state on GitHub."""

    store: JobStore
    settings: JobSettings
    heartbeats: WorkerHeartbeats

    def publish(self, github: GitHubClient, job: Job) -> bool: ...


@dataclass
class Worker:
    service: Jobs
    client_for: ClientFor
    command_for: CommandFor = ci_command
    worker_id: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}")
    env: Mapping[str, str] | None = None  # the step's environment (default: this process's)
    extra_env_for: Callable[[Job], dict[str, str]] | None = None  # e.g. a fresh git token per job
    progress_publish_s: float = PROGRESS_PUBLISH_S
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        self.store = self.service.store
        self.settings = self.service.settings
        self._stop = threading.Event()
        self._shutdown = threading.Event()

    # ---- the loop ----------------------------------------------------------------------------------
    def stop(self) -> None:
        """Claim nothing more; finish the current job."""
        self._stop.set()

    def shutdown(self) -> None:
        """Claim nothing more, stop the current step and give its job back to the queue (SIGTERM)."""
        self._shutdown.set()
        self._stop.set()

    def run_forever(self, max_jobs: int | None = None) -> int:
        """Poll, claim, run, until stopped (SIGTERM/SIGINT in the entry point); returns jobs run."""
        done = 0
        while not self._stop.is_set() and (max_jobs is None or done < max_jobs):
            job = self.run_once()
            if job is None:
                self._stop.wait(self.settings.poll_s)
            else:
                done += 1
        self.service.heartbeats.gone(self.worker_id)
        return done

    def reap(self) -> list[Job]:
        """Requeue (or fail) jobs whose worker died, and show it on GitHub."""
        reaped = self.store.reap_expired()
        for job in reaped:
            LOG.warning("job %s: lease expired, now %s (%s)", job.id, job.state, job.reason)
            self._publish(job, tries=1)
        return reaped

    def run_once(self) -> Job | None:
        """Claim one job and run it to an end; None when the queue was empty."""
        self.reap()
        self.service.heartbeats.beat(self.worker_id, None)
        job = self.store.claim(self.worker_id, self.settings.lease_s)
        if job is None:
            return None
        self.service.heartbeats.beat(self.worker_id, job.id)
        self.refresh_queue()
        LOG.info("job %s (%s %s@%s): claimed, attempt %s", job.id, job.kind, job.repo, job.sha[:12], job.attempts)
        log_path = self.settings.log_dir / f"job-{job.id}-attempt-{job.attempts}.log"
        link = f"{self.settings.public_url.rstrip('/')}/jobs/{job.id}/log" if self.settings.public_url else str(log_path)
        job = self.store.update(job.id, log_url=link)
        self._publish(job, tries=1)
        outcome = self.run_step(job, log_path)
        final = self.finish(job, outcome)
        return final or self.store.get(job.id)

    def refresh_queue(self) -> None:
        """The jobs still waiting moved up one place: show their new positions (the first few)."""
        for waiting in self.store.jobs(state=QUEUED)[:QUEUE_REFRESH]:
            self._publish(waiting, tries=1)

    # ---- one step ----------------------------------------------------------------------------------
    def run_step(self, job: Job, log_path: Path) -> StepOutcome:
        env = dict(os.environ if self.env is None else self.env)
        env["ARBORIST_REPORT"] = "stdout"
        env["PYTHONUNBUFFERED"] = "1"
        if self.extra_env_for is not None:
            env.update(self.extra_env_for(job))
        secrets = known_secrets(env)  # the step's environment and every secret this process registered
        log_path.parent.mkdir(parents=True, exist_ok=True)
        outcome = StepOutcome(log_path=log_path)
        with open(log_path, "w", encoding="utf-8") as log:
            proc = subprocess.Popen(self.command_for(job), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, env=env, start_new_session=True, text=True,
                                    preexec_fn=_die_with_parent if sys.platform == "linux" else None,
                                    encoding="utf-8", errors="replace", bufsize=1)
            reader = threading.Thread(target=self._read, args=(job, proc, log, secrets, outcome), daemon=True)
            beat_stop = threading.Event()
            beat = threading.Thread(target=self._heartbeat, args=(job, proc, beat_stop, outcome), daemon=True)
            reader.start()
            beat.start()
            try:
                outcome.returncode = proc.wait(timeout=self.settings.job_timeout_s)
            except subprocess.TimeoutExpired:
                outcome.timed_out = True
                self.kill(proc)
                outcome.returncode = proc.wait()
            beat_stop.set()
            beat.join()
            reader.join(timeout=10)
        try:
            outcome.log_tail = log_path.read_text(encoding="utf-8", errors="replace")[-LOG_TAIL_CHARS:]
        except OSError:
            outcome.log_tail = ""
        return outcome

    def kill(self, proc: subprocess.Popen) -> None:
        """Stop the step's whole process group: SIGTERM, a grace period, then SIGKILL."""
        for sig, wait in ((signal.SIGTERM, self.settings.kill_grace_s), (signal.SIGKILL, 10.0)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                proc.wait(timeout=wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def _read(self, job: Job, proc: subprocess.Popen, log, secrets: list[str], outcome: StepOutcome) -> None:
        last_publish = -1e18
        assert proc.stdout is not None
        for raw in proc.stdout:
            last_publish = self._relay(job, raw, secrets, log, outcome, last_publish)

    def _relay(self, job: Job, raw: str, secrets: list[str], log: TextIO, outcome: StepOutcome,
               last_publish: float) -> float:
        """One line of a step's output (a local process's or a Ray job's): masked into the log, kept as the
        result, or stored as progress and published at most every progress_publish_s; returns when
        progress was last published."""
        line = mask(raw, secrets)  # a step that prints a token never gets it into a log or a comment
        log.write(line)
        log.flush()
        parsed = parse_line(line)
        if isinstance(parsed, Result):
            outcome.result = parsed
        elif isinstance(parsed, Progress):
            updated = self.store.set_progress(job.id, self.worker_id, parsed.text, parsed.fraction)
            now = time.monotonic()
            if updated is not None and now - last_publish >= self.progress_publish_s:
                self._publish(updated, tries=1)
                return now
        return last_publish

    def _heartbeat(self, job: Job, proc: subprocess.Popen, stop: threading.Event, outcome: StepOutcome) -> None:
        while not stop.wait(self.settings.heartbeat_s):
            current = self.store.heartbeat(job.id, self.worker_id, self.settings.lease_s)
            self.service.heartbeats.beat(self.worker_id, job.id if current is not None else None)
            if self._shutdown.is_set():
                LOG.info("job %s: worker shutting down; stopping the step and releasing the job", job.id)
                outcome.released = True
            elif current is None:
                LOG.error("job %s: lease lost; stopping the step", job.id)
                outcome.lease_lost = True
            elif current.cancel_requested:
                LOG.info("job %s: cancel requested; stopping the step", job.id)
                outcome.cancelled = True
            else:
                continue
            self.kill(proc)
            return

    # ---- the end -----------------------------------------------------------------------------------
    def finish(self, job: Job, outcome: StepOutcome) -> Job | None:
        """Write the one result (fenced on our lease) and publish it; None if the lease was lost."""
        if outcome.lease_lost:
            return None
        if outcome.released:
            released = self.store.release(job.id, self.worker_id, "its worker was stopped; waiting for another")
            if released is not None:
                self._publish(released, tries=1)
            return released
        if not outcome.cancelled and self.store.get(job.id).cancel_requested:
            outcome.cancelled = True  # asked between the last heartbeat and the step's exit
        result = outcome.result
        artefacts = result.links.get("artefacts", "") if result else ""
        if outcome.cancelled:
            final = self.store.finish(job.id, self.worker_id, CANCELLED, reason=self.store.get(job.id).reason)
        elif outcome.timed_out:
            final = self.store.finish(job.id, self.worker_id, FAILED, reason="timed out",
                                      result_title=f"timed out after {self.settings.job_timeout_s:.0f} s",
                                      result_md=self._tail_md(outcome))
        elif outcome.returncode == 0:
            final = self.store.finish(job.id, self.worker_id, SUCCEEDED,
                                      result_title=result.title if result else "the step finished",
                                      result_md=result.summary if result else "", artifacts_url=artefacts)
        else:
            title = result.title if result and result.conclusion == "failure" else \
                f"the step exited with code {outcome.returncode}"
            summary = result.summary if result and result.summary else self._tail_md(outcome)
            final = self.store.finish(job.id, self.worker_id, FAILED, reason=f"exit code {outcome.returncode}",
                                      result_title=title, result_md=summary, artifacts_url=artefacts)
        if final is None:
            LOG.error("job %s: finished, but the lease was taken over; result dropped", job.id)
            return None
        LOG.info("job %s: %s", job.id, final.state)
        self._publish(final, tries=PUBLISH_TRIES)
        return final

    @staticmethod
    def _tail_md(outcome: StepOutcome) -> str:
        tail = outcome.log_tail.strip().replace("```", "`\u200b``")
        return f"The last lines of the log:\n\n```\n{tail}\n```" if tail else ""

    def _publish(self, job: Job, tries: int) -> bool:
        delay = PUBLISH_BACKOFF_S
        for attempt in range(tries):
            try:
                if self.service.publish(self.client_for(job), job):
                    return True
            except Exception as exc:  # noqa: BLE001 - a GitHub outage must not lose the job
                LOG.warning("job %s: publishing failed: %s", job.id, type(exc).__name__)
            if attempt + 1 < tries:
                self.sleep(delay)
                delay *= 2
        return False
