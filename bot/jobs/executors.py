"""Executors hand a queued job to whatever runs it: local workers, GitHub Actions GPU workflows, or a Ray cluster.

Every executor answers the same four calls (`Executor`): submit, status, logs, cancel.
`local`: nothing to send. `arborist worker` processes poll the store, claim with a lease and run
the ci step. `actions`: a `workflow_dispatch` of the taxonomy repository's workflow
(`.github/taxonomy-workflows/arborist-*.yml`) with the job's inputs; GitHub runs it on its GPU runners
and `bot.handlers.workflow` follows it through `workflow_job` / `workflow_run` events.
`ray`: `arborist worker` processes claim as for `local` but submit the step to a Ray cluster and
follow it there (`bot.jobs.ray_executor`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

from bot.jobs.logs import read_job_log
from bot.jobs.model import Job, approved_arg
from bot.jobs.settings import JobSettings
from bot.jobs.store import JobStore
from lab.github.protocol import GitHubClient

LOG = logging.getLogger("arborist.jobs")
RUN_NAME_PREFIX = "arborist"  # the workflows' run-name: "arborist <kind> job <id>", how runs are matched


class Executor(Protocol):
    """The four calls the job service makes, whatever runs the job."""

    name: str

    def submit(self, github: GitHubClient, job: Job) -> None:
        """Hand a job that has just been queued to what runs it."""

    def status(self, job_id: int) -> Job:
        """Where the job stands, as its runner last reported it (the store holds the truth)."""

    def logs(self, job_id: int) -> str | None:
        """Its log so far, every attempt (for `/jobs/{id}/log`); None when it has none here."""

    def cancel(self, github: GitHubClient, job: Job, reason: str) -> Job:
        """Stop it: cancelled at once when queued; a running one is stopped by its runner."""


class LocalExecutor:
    """Workers claim from the store; cancelling a running job flags it and its worker kills the step."""

    name = "local"

    def __init__(self, store: JobStore, log_dir: Path | None = None):
        self.store = store
        self.log_dir = log_dir if log_dir is not None else store.path.parent / "logs"

    def submit(self, github: GitHubClient, job: Job) -> None:
        return None  # queued in the store is all a worker needs

    def status(self, job_id: int) -> Job:
        return self.store.get(job_id)  # the worker writes every change there

    def logs(self, job_id: int) -> str | None:
        return read_job_log(self.log_dir, job_id)  # the worker writes each attempt's masked log there

    def cancel(self, github: GitHubClient, job: Job, reason: str) -> Job:
        return self.store.cancel(job.id, reason)


def dispatch_inputs(job: Job) -> dict[str, str]:
    """The workflow_dispatch inputs: strings only, nothing from the PR but its number and SHA."""
    inputs = {"job_id": str(job.id), "sha": job.sha}
    if job.kind == "generate":
        inputs["pr"] = str(job.pr or "")
        inputs["status_comment_id"] = str(job.status_comment_id or "")
        if job.args.get("samples"):
            inputs["samples"] = str(int(job.args["samples"]))
        inputs["leaves"] = " ".join(job.args.get("leaves") or [])
    if job.kind == "retrain":
        inputs["approved"] = approved_arg(job)
    return inputs


class ActionsExecutor:
    """workflow_dispatch on the repository's default branch; the runner fetches the PR head as data."""

    name = "actions"

    def __init__(self, store: JobStore, settings: JobSettings):
        self.store = store
        self.workflows = {"generate": settings.generate_workflow, "retrain": settings.retrain_workflow}

    def submit(self, github: GitHubClient, job: Job) -> None:
        ref = str(job.args.get("ref") or "main")
        github.dispatch_workflow(job.repo, self.workflows[job.kind], ref, dispatch_inputs(job))

    def status(self, job_id: int) -> Job:
        return self.store.get(job_id)  # bot.handlers.workflow writes the run's events there

    def logs(self, job_id: int) -> str | None:
        return None  # the log is the workflow run's on GitHub; job.log_url links to it

    def cancel(self, github: GitHubClient, job: Job, reason: str) -> Job:
        """Stop the job's run on GitHub when it has started; the job ends cancelled either way, and a
        late workflow_run result for it is ignored by bot.handlers.workflow."""
        if job.run_id:
            try:
                github.cancel_workflow_run(job.repo, job.run_id)
            except Exception as exc:  # the job is still cancelled here; GitHub's run may finish on its own
                LOG.warning("job %s: could not cancel workflow run %s: %s", job.id, job.run_id, exc)
        return self.store.cancel(job.id, reason, force=True)
