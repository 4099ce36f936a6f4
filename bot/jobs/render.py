"""Render a job's status comment and check run output: pure functions of plain data.

One status comment per PR (found again by its hidden marker), edited at every state change:
queued with the queue position -> running with progress -> done / failed / cancelled, with links to
logs and artefacts. The check run carries the same text. Bodies stay under GitHub's limits. The
lines themselves are shared with ci steps, so they live in `schemas.step_report`.
"""

from __future__ import annotations

from typing import Any

from bot.jobs.model import CANCELLED, FAILED, QUEUED, RUNNING, SUCCEEDED, Job
from lab.github.protocol import CheckRunOutput
from schemas.step_report import STATUS_MARKER, WORDS, cut, job_lines, report_block
from schemas.steplines import CHECK_TEXT_LIMIT

CHECK_STATUS = {QUEUED: "queued", RUNNING: "in_progress"}
CHECK_CONCLUSION = {SUCCEEDED: "success", FAILED: "failure", CANCELLED: "cancelled"}


def render_status_comment(job: Job, queue_position: int | None = None, history: list[Job] | None = None) -> str:
    """The PR's one status comment: the newest job in full, earlier ones as one line each."""
    lines = [STATUS_MARKER, "### Arborist jobs", "", "\n\n".join(job_lines(job, queue_position))]
    if job.result_md and job.state in (SUCCEEDED, FAILED):
        lines += report_block(job.result_md)
    earlier = [j for j in (history or []) if j.id != job.id][-10:]
    if earlier:
        lines += ["", "<details><summary>Earlier jobs on this PR</summary>", ""]
        lines += [f"- job #{j.id} `{j.sha[:12]}`: {WORDS.get(j.state, j.state)}"
                  + (f" ({j.reason})" if j.reason and j.state != SUCCEEDED else "") for j in reversed(earlier)]
        lines += ["", "</details>"]
    return cut("\n".join(lines) + "\n")


def render_check_output(job: Job, queue_position: int | None = None) -> CheckRunOutput:
    title = {QUEUED: "Queued", RUNNING: job.progress or "Running"}.get(job.state, job.result_title or WORDS[job.state])
    summary = "\n\n".join(job_lines(job, queue_position))
    if job.result_md:
        summary += "\n\n" + job.result_md
    return CheckRunOutput(title=title[:200] or WORDS.get(job.state, job.state), summary=cut(summary, CHECK_TEXT_LIMIT))


def check_fields(job: Job) -> dict[str, Any]:
    """status/conclusion arguments for update_check_run in this state."""
    if job.state in CHECK_CONCLUSION:
        return {"status": "completed", "conclusion": CHECK_CONCLUSION[job.state]}
    return {"status": CHECK_STATUS[job.state], "conclusion": None}

