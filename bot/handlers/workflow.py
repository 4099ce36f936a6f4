"""Follow jobs run by the `actions` executor through `workflow_job` and `workflow_run` events.

The dispatched workflows name their run and their job "arborist <kind> job <id> at <sha>" (the
templates in `.github/taxonomy-workflows/`), which is how an event finds its job; a run for an older
SHA of a coalesced retrain job is ignored. Only events from the job's own
repository count. The step on the runner writes its report into the status comment itself; the
bot keeps that report, records the outcome in the store, and completes the check run (which only
the App may update).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bot.context import Context, Event
from bot.jobs.model import CANCELLED, FAILED, QUEUED, RUNNING, SUCCEEDED, Job
from bot.jobs.service import JobService
from bot.router import Router
from lab.github.protocol import CommentsClient

router = Router()  # this module's routes; bot.routes merges them at start-up

TITLE_RE = re.compile(r"\barborist (generate|retrain) job (\d{1,12})(?: at ([0-9a-f]{40}))?\b")
REPORT_RE = re.compile(r"<details open><summary>Report</summary>\n\n(.*)\n\n</details>", re.DOTALL)
CONCLUSIONS = {"success": SUCCEEDED, "cancelled": CANCELLED}  # anything else is a failure


def job_for(text: str, event: Event, ctx: Context, jobs: JobService) -> Job | None:
    """The job an Actions run or job belongs to, or None (another workflow, or another repository)."""
    match = TITLE_RE.search(text or "")
    if match is None:
        return None
    try:
        job = jobs.store.get(int(match.group(2)))
    except KeyError:
        return None
    if job.repo != event.repo or job.kind != match.group(1):
        ctx.log.warning("workflow event for job %s from %s ignored (job belongs to %s)", job.id, event.repo, job.repo)
        return None
    if match.group(3) and match.group(3) != job.sha:
        ctx.log.info("workflow event for job %s at %s ignored: the job moved to %s", job.id, match.group(3)[:12],
                     job.sha[:12])
        return None
    return job


@router.register("workflow_job")
def on_workflow_job(event: Event, ctx: Context) -> None:
    """A runner picked the job up: queued -> running, with a link to its log."""
    wf_job: Mapping[str, Any] = event.payload.get("workflow_job") or {}
    jobs = ctx.jobs
    job = job_for(str(wf_job.get("name") or ""), event, ctx, jobs) if jobs is not None else None
    if jobs is None or job is None or event.action != "in_progress" or job.state != QUEUED:
        return
    started = jobs.store.start_external(job.id, wf_job.get("run_id"), str(wf_job.get("html_url") or ""))
    if started is not None:
        jobs.publish(ctx.github, started)


def _step_report(comments: CommentsClient, job: Job) -> str:
    """The report the step wrote into the status comment, so the bot's edit keeps it."""
    if job.pr is None or not job.status_comment_id:
        return ""
    for comment in comments.list_comments(job.repo, job.pr):
        if comment.id == job.status_comment_id:
            match = REPORT_RE.search(comment.body)
            return match.group(1) if match else ""
    return ""


@router.register("workflow_run")
def on_workflow_run(event: Event, ctx: Context) -> None:
    """The run finished: the job ends once (a late event for a cancelled or finished job is ignored)."""
    run: Mapping[str, Any] = event.payload.get("workflow_run") or {}
    jobs = ctx.jobs
    job = job_for(str(run.get("display_title") or ""), event, ctx, jobs) if jobs is not None else None
    if jobs is None or job is None or event.action != "completed" or job.state not in (QUEUED, RUNNING):
        return
    if job.state == QUEUED:
        job = jobs.store.start_external(job.id, run.get("id"), str(run.get("html_url") or "")) or job
    conclusion = str(run.get("conclusion") or "failure")
    state = CONCLUSIONS.get(conclusion, FAILED)
    report = _step_report(ctx.github, job)
    final = jobs.store.finish(job.id, None, state, reason="" if state == SUCCEEDED else f"workflow {conclusion}",
                              result_title="the workflow succeeded" if state == SUCCEEDED
                              else f"the workflow ended: {conclusion}",
                              result_md=report, log_url=str(run.get("html_url") or job.log_url))
    if final is not None:
        jobs.publish(ctx.github, final)
