"""Executors hand a queued job to whatever runs it: local workers, or GitHub Actions GPU workflows.

`local`: nothing to send. `arborist worker` processes poll the store, claim with a lease and run
the ci step. `actions`: a `workflow_dispatch` of the taxonomy repository's workflow
(`.github/taxonomy-workflows/arborist-*.yml`) with the job's inputs; GitHub runs it on its GPU runners
and `bot.handlers.workflow` follows it through `workflow_job` / `workflow_run` events.
"""

from __future__ import annotations

import logging
from typing import Protocol

from bot.github.protocol import GitHubClient
from bot.jobs.model import Job
from bot.jobs.settings import JobSettings
from bot.jobs.store import JobStore

LOG = logging.getLogger("arborist.jobs")
RUN_NAME_PREFIX = "arborist"  # the workflows' run-name: "arborist <kind> job <id>", how runs are matched


class Executor(Protocol):
    name: str

    def submit(self, github: GitHubClient, job: Job) -> None: ...

    def cancel(self, github: GitHubClient, job: Job, reason: str) -> Job: ...


class LocalExecutor:
    """Workers claim from the store; cancelling a running job flags it and its worker kills the step."""

    name = "local"

    def __init__(self, store: JobStore):
        self.store = store

    def submit(self, github: GitHubClient, job: Job) -> None:
        return None  # queued in the store is all a worker needs

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

    def cancel(self, github: GitHubClient, job: Job, reason: str) -> Job:
        """Stop the job's run on GitHub when it has started; the job ends cancelled either way, and a
        late workflow_run result for it is ignored by bot.handlers.workflow."""
        if job.run_id:
            try:
                github.cancel_workflow_run(job.repo, job.run_id)
            except Exception as exc:  # the job is still cancelled here; GitHub's run may finish on its own
                LOG.warning("job %s: could not cancel workflow run %s: %s", job.id, job.run_id, exc)
        return self.store.cancel(job.id, reason, force=True)


def make_executor(store: JobStore, settings: JobSettings) -> Executor:
    if settings.executor == "actions":
        return ActionsExecutor(store, settings)
    return LocalExecutor(store)
