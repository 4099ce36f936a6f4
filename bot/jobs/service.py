"""The job service the handlers and workers call: enqueue, cancel, retry, supersede, and publish.

Publishing makes GitHub show what the store holds: the PR's one status comment (created once,
then edited) and the job's check run (created once per attempt series, then updated). The store is
the truth; a failed GitHub call is logged and the next state change (or `publish` again) repairs it.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.jobs.approvals import Approval, ApprovalStore
from bot.jobs.executors import ActionsExecutor, Executor, LocalExecutor
from bot.jobs.heartbeats import WorkerHeartbeats
from bot.jobs.model import CANCELLED, FAILED, QUEUED, RUNNING, Job
from bot.jobs.render import check_fields, render_check_output, render_status_comment
from bot.jobs.settings import JobSettings
from bot.jobs.store import ADMITTED, JobStore
from lab.github.protocol import GitHubClient, PullRequest
from schemas.step_report import STATUS_MARKER

LOG = logging.getLogger("arborist.jobs")


def make_executor(store: JobStore, settings: JobSettings) -> Executor:
    """The executor the settings name (the Ray one only imported when chosen: it needs the `ray` extra)."""
    if settings.executor == "actions":
        return ActionsExecutor(store, settings)
    if settings.executor == "ray":
        from bot.jobs.ray_executor import RayExecutor

        return RayExecutor(store, settings.log_dir)
    return LocalExecutor(store, settings.log_dir)


class JobService:
    def __init__(self, store: JobStore, settings: JobSettings | None = None, executor: Executor | None = None):
        self.store = store
        self.settings = settings or JobSettings()
        self.executor = executor or make_executor(store, self.settings)
        self.approvals = ApprovalStore(store.path, busy_timeout_s=self.settings.db_busy_timeout_s)
        self.heartbeats = WorkerHeartbeats(store.path, busy_timeout_s=self.settings.db_busy_timeout_s)

    @classmethod
    def open(cls, settings: JobSettings) -> JobService:
        return cls(JobStore(settings.db_path, busy_timeout_s=settings.db_busy_timeout_s), settings)

    # ---- GitHub side --------------------------------------------------------------------------------
    def publish(self, github: GitHubClient, job: Job) -> bool:
        """Edit the status comment and update the check run to match `job`; False if GitHub failed."""
        ok = True
        position = self.store.queue_position(job.id) if job.state == QUEUED else None
        if job.pr is not None and job.status_comment_id:
            history = self.store.jobs(repo=job.repo, pr=job.pr)
            try:
                github.edit_comment(job.repo, job.status_comment_id, render_status_comment(job, position, history))
            except Exception as exc:  # noqa: BLE001 - the store holds the truth; the next publish repairs it
                LOG.warning("job %s: status comment edit failed: %s", job.id, type(exc).__name__)
                ok = False
        if job.check_run_id:
            try:
                github.update_check_run(job.repo, job.check_run_id, output=render_check_output(job, position),
                                        **check_fields(job))
            except Exception as exc:  # noqa: BLE001
                LOG.warning("job %s: check run update failed: %s", job.id, type(exc).__name__)
                ok = False
        return ok

    def _status_comment(self, github: GitHubClient, job: Job) -> int:
        """The PR's status comment id: remembered in the store, else found by marker, else created."""
        assert job.pr is not None
        known = self.store.pr_comment(job.repo, job.pr)
        if known:
            return known
        found = next((c.id for c in github.list_comments(job.repo, job.pr) if STATUS_MARKER in c.body), None)
        if found is None:
            found = github.create_comment(job.repo, job.pr, render_status_comment(job, 1)).id
        self.store.set_pr_comment(job.repo, job.pr, found)
        return found

    def _open_on_github(self, github: GitHubClient, job: Job) -> Job:
        """Status comment and a fresh check run for a job that has just been (re)queued, then publish."""
        values: dict[str, Any] = {}
        if job.pr is not None:
            values["status_comment_id"] = self._status_comment(github, job)
        run = github.create_check_run(job.repo, job.check_name, job.sha, "queued",
                                      output=render_check_output(job), external_id=f"arborist-job-{job.id}")
        values["check_run_id"] = run.id
        job = self.store.update(job.id, **values)
        self.publish(github, job)
        return job

    # ---- commands --------------------------------------------------------------------------------
    def submit_generate(self, github: GitHubClient, repo: str, pull: PullRequest, *, comment_id: int,
                        requested_by: str, samples: int | None = None, leaves: tuple[str, ...] = (),
                        installation_id: int | None = None, per_pr: int = 1_000,
                        per_user: int = 1_000) -> tuple[str, Job | None]:
        """Queue one generate job per command comment (see `submit_pr_job`)."""
        extra = {"samples": samples} if samples else {}
        return self.submit_pr_job("generate", github, repo, pull, comment_id=comment_id, requested_by=requested_by,
                                  leaves=leaves, extra=extra, installation_id=installation_id, per_pr=per_pr,
                                  per_user=per_user)

    def submit_pr_job(self, kind: str, github: GitHubClient, repo: str, pull: PullRequest, *, comment_id: int,
                      requested_by: str, leaves: tuple[str, ...] = (), extra: dict[str, Any] | None = None,
                      installation_id: int | None = None, per_pr: int = 1_000,
                      per_user: int = 1_000) -> tuple[str, Job | None]:
        """Queue one job of `kind` per command comment, unless the store says otherwise (bot.jobs.store.admit):
        a redelivered comment or an identical active job returns that job; a full PR or user returns None."""
        args: dict[str, Any] = {"ref": pull.base_ref, "leaves": sorted(leaves), **(extra or {})}
        outcome, job = self.store.admit(kind, repo, pull.head_sha, pr=pull.number, args=args,
                                        requested_by=requested_by, installation_id=installation_id,
                                        dedupe_key=f"comment:{repo}:{comment_id}", per_pr=per_pr, per_user=per_user,
                                        max_attempts=self.settings.max_attempts)
        if outcome == ADMITTED and job is not None:
            job = self._open_on_github(github, job)
            self.executor.submit(github, job)
        return outcome, job

    def submit_retrain(self, github: GitHubClient, repo: str, sha: str, *, ref: str, merged: list[int] | None = None,
                       installation_id: int | None = None) -> tuple[Job, bool]:
        """One queued retrain per repository: a newer push moves it to the newest SHA (coalesced). It carries
        the PRs approved now (`/approve`), for repositories that require an approval before training."""
        before = self.store.jobs(state=QUEUED, repo=repo, kind="retrain")
        args = {"ref": ref, "merged": merged or [], "approved": self.approvals.approved_prs(repo)}
        job, created = self.store.enqueue_coalescing("retrain", repo, sha, args=args, installation_id=installation_id,
                                                     max_attempts=self.settings.max_attempts, replace=("approved",))
        if created:
            job = self._open_on_github(github, job)
            self.executor.submit(github, job)
        elif before and before[-1].sha != sha and before[-1].check_run_id is not None:
            # The check run belongs to the old SHA: close it as superseded, open one on the new SHA.
            old = before[-1]
            assert old.check_run_id is not None
            github.update_check_run(repo, old.check_run_id, conclusion="cancelled", status="completed",
                                    output=render_check_output(Job(**{**old.__dict__, "state": CANCELLED,
                                                                      "reason": f"coalesced into {sha[:12]}"})))
            job = self._open_on_github(github, job)
            self.executor.submit(github, job)  # actions: a run for the new SHA; GitHub keeps the newest pending
        return job, created

    def approve(self, repo: str, pull: PullRequest, by: str) -> tuple[Approval, bool, Job | None]:
        """Record a maintainer's approval of the PR head; on a merged PR, a retrain still queued takes it up
        (returned third). The second value is False when this commit was approved already."""
        approval, created = self.approvals.approve(repo, pull.number, pull.head_sha, by)
        queued = self.store.jobs(state=QUEUED, repo=repo, kind="retrain")
        refreshed = None
        if pull.merged and queued:
            refreshed, _ = self.store.enqueue_coalescing("retrain", repo, queued[-1].sha,
                                                         args={"approved": self.approvals.approved_prs(repo)},
                                                         replace=("approved",))
        return approval, created, refreshed

    def cancel_pr(self, github: GitHubClient, repo: str, pr: int, reason: str,
                  keep_sha: str | None = None) -> list[Job]:
        """Cancel the PR's queued and running jobs (all but those for `keep_sha`); returns them."""
        out = []
        for job in self.store.active_for_pr(repo, pr):
            if keep_sha is not None and job.sha == keep_sha:
                continue
            job = self.executor.cancel(github, job, reason)
            self.publish(github, job)  # cancelled now, or "stopping" until its worker has killed the step
            out.append(job)
        return out

    def supersede(self, github: GitHubClient, repo: str, pr: int, new_sha: str) -> list[Job]:
        return self.cancel_pr(github, repo, pr, f"superseded by a push of `{new_sha[:12]}`", keep_sha=new_sha)

    def retry_pr(self, github: GitHubClient, repo: str, pr: int, head_sha: str) -> Job | None:
        """Re-queue the PR's newest job if it failed or was cancelled at the current head; else None."""
        jobs = self.store.jobs(repo=repo, pr=pr)
        if not jobs or jobs[-1].state not in (FAILED, CANCELLED) or jobs[-1].sha != head_sha \
                or any(j.state in (QUEUED, RUNNING) for j in jobs):
            return None
        job = self._open_on_github(github, self.store.retry(jobs[-1].id))
        self.executor.submit(github, job)
        return job
