"""Render a job's status comment and check run output: pure functions of plain data.

One status comment per PR (found again by its hidden marker), edited at every state change:
queued with the queue position -> running with progress -> done / failed / cancelled, with links to
logs and artefacts. The check run carries the same text. Bodies stay under GitHub's limits.
"""

from __future__ import annotations

from typing import Any

from bot.github.protocol import CheckRunOutput
from bot.jobs.model import CANCELLED, FAILED, QUEUED, RUNNING, SUCCEEDED, Job

STATUS_MARKER = "<!-- arborist:status -->"
COMMENT_LIMIT = 65_536  # GitHub's issue comment limit, characters
CHECK_SUMMARY_LIMIT = 65_535  # GitHub's check run summary limit, characters
CUT_NOTE = "\n\n_… cut here: the report is longer than GitHub allows; the logs have all of it._"
ICONS = {QUEUED: "⏳", RUNNING: "🏃", SUCCEEDED: "✅", FAILED: "❌", CANCELLED: "⏹️"}
WORDS = {QUEUED: "queued", RUNNING: "running", SUCCEEDED: "done", FAILED: "failed", CANCELLED: "cancelled"}
CHECK_STATUS = {QUEUED: "queued", RUNNING: "in_progress"}
CHECK_CONCLUSION = {SUCCEEDED: "success", FAILED: "failure", CANCELLED: "cancelled"}
BAR_WIDTH = 20


def cut(body: str, limit: int = COMMENT_LIMIT) -> str:
    return body if len(body) <= limit else body[: limit - len(CUT_NOTE)] + CUT_NOTE


def progress_bar(fraction: float | None) -> str:
    if fraction is None:
        return ""
    fraction = max(0.0, min(1.0, fraction))
    filled = round(fraction * BAR_WIDTH)
    return f"`{'█' * filled}{'░' * (BAR_WIDTH - filled)}` {fraction:.0%}"


def headline(job: Job) -> str:
    return f"{ICONS.get(job.state, '')} **{WORDS.get(job.state, job.state)}**"


def links_line(job: Job) -> str:
    parts = []
    if job.log_url:
        parts.append(f"[logs]({job.log_url})" if job.log_url.startswith("http") else f"logs: `{job.log_url}`")
    if job.artifacts_url:
        parts.append(f"[artefacts]({job.artifacts_url})")
    return " · ".join(parts)


def job_lines(job: Job, queue_position: int | None = None) -> list[str]:
    """The lines that describe one job, the same in the comment and in the check run."""
    who = f" · asked by @{job.requested_by}" if job.requested_by else ""
    lines = [f"{headline(job)} · `/{job.kind}` job #{job.id} · commit `{job.sha[:12]}`{who}"]
    if job.state == QUEUED:
        where = f"position {queue_position} in the queue" if queue_position else "waiting for a runner"
        retry = f" (attempt {job.attempts + 1} of {job.max_attempts})" if job.attempts else ""
        lines.append(f"Queued: {where}{retry}.")
        if job.attempts and job.reason:
            lines.append(f"Why again: {job.reason}.")  # an attempt lost to a dead worker or cluster
    elif job.state == RUNNING and job.cancel_requested:
        lines.append(f"Stopping: {job.reason or 'cancel requested'}.")
    elif job.state == RUNNING:
        lines.append(f"Running (attempt {job.attempts} of {job.max_attempts}): {job.progress or 'started'}")
        if job.fraction is not None:
            lines.append(progress_bar(job.fraction))
    elif job.state == CANCELLED:
        lines.append(f"Cancelled: {job.reason or 'by request'}.")
    elif job.state == FAILED:
        lines.append(f"Failed: {job.result_title or job.reason or 'the step exited with an error'}.")
        lines.append("A maintainer can run it again with `/retry`.")
    elif job.state == SUCCEEDED:
        lines.append(f"Done: {job.result_title or 'the step finished'}.")
    links = links_line(job)
    if links:
        lines.append(links)
    return lines


def render_status_comment(job: Job, queue_position: int | None = None, history: list[Job] | None = None) -> str:
    """The PR's one status comment: the newest job in full, earlier ones as one line each."""
    lines = [STATUS_MARKER, "### Arborist jobs", "", "\n\n".join(job_lines(job, queue_position))]
    if job.result_md and job.state in (SUCCEEDED, FAILED):
        lines += ["", "<details open><summary>Report</summary>", "", job.result_md, "", "</details>"]
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
    return CheckRunOutput(title=title[:200] or WORDS.get(job.state, job.state), summary=cut(summary, CHECK_SUMMARY_LIMIT))


def check_fields(job: Job) -> dict[str, Any]:
    """status/conclusion arguments for update_check_run in this state."""
    if job.state in CHECK_CONCLUSION:
        return {"status": "completed", "conclusion": CHECK_CONCLUSION[job.state]}
    return {"status": CHECK_STATUS[job.state], "conclusion": None}


def render_step_report(kind: str, job_id: int, state: str, progress: Any = None, result: Any = None) -> str:
    """What a ci step on an Actions runner writes into the status comment (it has no job store)."""
    job = Job(id=job_id, kind=kind, repo="", sha="", state=state,
              progress=getattr(progress, "text", ""), fraction=getattr(progress, "fraction", None),
              result_title=getattr(result, "title", ""), result_md=getattr(result, "summary", ""),
              artifacts_url=(getattr(result, "links", None) or {}).get("artefacts", ""))
    described = job_lines(job)
    described[0] = described[0].replace(" · commit ``", "")
    lines = [STATUS_MARKER, "### Arborist jobs", "", "\n\n".join(described)]
    if job.result_md:
        lines += ["", "<details open><summary>Report</summary>", "", job.result_md, "", "</details>"]
    return cut("\n".join(lines) + "\n")
