"""How a job's state reads on a pull request: the lines both the bot's worker and a ci step write.

The bot renders them from its job store; a ci step on an Actions runner (no job store, no bot)
renders the same comment from what it knows. One home, so the two cannot drift. Pure functions of
plain data; bodies stay under GitHub's limits with a visible note.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from schemas.steplines import COMMENT_LIMIT, Progress, Result, truncate

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = "queued", "running", "succeeded", "failed", "cancelled"
STATUS_MARKER = "<!-- arborist:status -->"  # finds the PR's one status comment again
CUT_NOTE = "\n\n_… cut here: the report is longer than GitHub allows; the logs have all of it._"
ICONS = {QUEUED: "⏳", RUNNING: "🏃", SUCCEEDED: "✅", FAILED: "❌", CANCELLED: "⏹️"}
WORDS = {QUEUED: "queued", RUNNING: "running", SUCCEEDED: "done", FAILED: "failed", CANCELLED: "cancelled"}
BAR_WIDTH = 20  # characters of the progress bar


class JobView(Protocol):
    """What the status lines read of a job (the bot's `Job` has these, and so has `StepStatus`)."""

    @property
    def id(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def sha(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def requested_by(self) -> str: ...
    @property
    def attempts(self) -> int: ...
    @property
    def max_attempts(self) -> int: ...
    @property
    def cancel_requested(self) -> bool: ...
    @property
    def reason(self) -> str: ...
    @property
    def progress(self) -> str: ...
    @property
    def fraction(self) -> float | None: ...
    @property
    def result_title(self) -> str: ...
    @property
    def log_url(self) -> str: ...
    @property
    def artifacts_url(self) -> str: ...


@dataclass(frozen=True)
class StepStatus:
    """A job as a ci step sees it: no store, no commit in the headline, no attempts of its own."""

    id: int
    kind: str
    state: str
    progress: str = ""
    fraction: float | None = None
    result_title: str = ""
    artifacts_url: str = ""
    sha: str = ""
    requested_by: str = ""
    attempts: int = 0
    max_attempts: int = 3
    cancel_requested: bool = False
    reason: str = ""
    log_url: str = ""


def cut(body: str, limit: int = COMMENT_LIMIT) -> str:
    """`body` within `limit` characters, with a note saying where it was cut."""
    return truncate(body, limit, CUT_NOTE)


def progress_bar(fraction: float | None) -> str:
    if fraction is None:
        return ""
    fraction = max(0.0, min(1.0, fraction))
    filled = round(fraction * BAR_WIDTH)
    return f"`{'█' * filled}{'░' * (BAR_WIDTH - filled)}` {fraction:.0%}"


def headline(job: JobView) -> str:
    return f"{ICONS.get(job.state, '')} **{WORDS.get(job.state, job.state)}**"


def links_line(job: JobView) -> str:
    parts = []
    if job.log_url:
        parts.append(f"[logs]({job.log_url})" if job.log_url.startswith("http") else f"logs: `{job.log_url}`")
    if job.artifacts_url:
        parts.append(f"[artefacts]({job.artifacts_url})")
    return " · ".join(parts)


def job_lines(job: JobView, queue_position: int | None = None) -> list[str]:
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


def report_block(result_md: str) -> list[str]:
    """A step's Markdown report, folded open under the status lines."""
    return ["", "<details open><summary>Report</summary>", "", result_md, "", "</details>"]


def render_step_report(kind: str, job_id: int, state: str, progress: Progress | None = None,
                       result: Result | None = None) -> str:
    """What a ci step on an Actions runner writes into the status comment (it has no job store)."""
    status = StepStatus(id=job_id, kind=kind, state=state,
                        progress=progress.text if progress else "", fraction=progress.fraction if progress else None,
                        result_title=result.title if result else "",
                        artifacts_url=result.links.get("artefacts", "") if result else "")
    described = job_lines(status)
    described[0] = described[0].replace(" · commit ``", "")
    lines = [STATUS_MARKER, "### Arborist jobs", "", "\n\n".join(described)]
    if result and result.summary:
        lines += report_block(result.summary)
    return cut("\n".join(lines) + "\n")
