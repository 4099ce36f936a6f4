"""What each accepted command does: one short decision, then the job service or one reply."""

from __future__ import annotations

from bot.commands.binding import answers
from bot.commands.guards import Accepted
from bot.commands.registry import render_help
from bot.context import Context, Event
from bot.jobs.store import PR_FULL, SAME, USER_FULL
from lab.github.protocol import PullRequest
from schemas.quoting import quote_line

NO_JOBS = "jobs are not enabled on this Arborist installation (no job store is configured)"
STORE_BUSY = "Not queued: the job store is busy (its database is locked), so this command could not be " \
             "queued. Nothing was started; comment the command again in a minute."


def reply_store_busy(ctx: Context, event: Event, accepted: Accepted) -> None:
    """What the author reads when a command could not reach the job store (a transient failure)."""
    _reply(ctx, event, accepted, STORE_BUSY)


def _reply(ctx: Context, event: Event, accepted: Accepted, text: str) -> None:
    ctx.github.create_comment(event.repo, accepted.number, f"{quote_line(accepted.command.line)}\n\n{text}")


def _status_link(pull: PullRequest, comment_id: int | None) -> str:
    anchor = f"#issuecomment-{comment_id}" if comment_id else ""
    return f"[the status comment]({pull.html_url}{anchor})" if pull.html_url else "the status comment"


@answers("generate")
def generate(event: Event, ctx: Context, accepted: Accepted, pull: PullRequest, config: object) -> None:
    """Queue a generate job for the PR head; samples default to the repo config and are capped by it."""
    if ctx.jobs is None:
        _reply(ctx, event, accepted, f"Not run: {NO_JOBS}.")
        return
    section = getattr(config, "generate", None)
    default, ceiling = getattr(section, "samples", 10), getattr(section, "max_samples", 50)
    samples = accepted.arguments.options.get("samples", default)
    if samples > ceiling:
        _reply(ctx, event, accepted, f"Not run: `--samples {samples}` is more than this repository allows "
                                     f"({ceiling}, `generate.max_samples` in `.github/arborist.yml`).")
        return
    _submit(event, ctx, accepted, pull, "generate", section, {"samples": samples} if samples else {})


@answers("precheck")
def precheck(event: Event, ctx: Context, accepted: Accepted, pull: PullRequest, config: object) -> None:
    """Queue a precheck job: the current model answers the seed questions of the PR's changed leaves."""
    if ctx.jobs is None:
        _reply(ctx, event, accepted, f"Not run: {NO_JOBS}.")
        return
    if ctx.jobs.settings.executor == "actions":  # no precheck workflow template yet: workers and Ray run it
        _reply(ctx, event, accepted, "Not run: `/precheck` runs on Arborist workers or a Ray cluster, and this "
                                     "installation hands jobs to GitHub Actions (`ARBORIST_EXECUTOR`).")
        return
    section = getattr(config, "precheck", None)
    _submit(event, ctx, accepted, pull, "precheck", section,
            {"max_questions": int(getattr(section, "max_questions", 60))})


def _submit(event: Event, ctx: Context, accepted: Accepted, pull: PullRequest, kind: str, section: object,
            extra: dict) -> None:
    """Queue a `kind` job on the PR head, or say why not: the same job is queued, or a limit is reached."""
    assert ctx.jobs is not None
    per_pr, per_user = getattr(section, "max_queued_per_pr", 3), getattr(section, "max_queued_per_user", 5)
    outcome, job = ctx.jobs.submit_pr_job(
        kind, ctx.github, event.repo, pull, comment_id=accepted.comment_id, requested_by=accepted.author,
        leaves=accepted.arguments.positional, extra=extra, installation_id=event.installation_id,
        per_pr=per_pr, per_user=per_user)
    if outcome == SAME and job is not None:
        _reply(ctx, event, accepted, f"Already {job.state}: job #{job.id} does this for commit `{job.sha[:12]}`; "
                                     f"follow it in {_status_link(pull, job.status_comment_id)}.")
    elif outcome == PR_FULL:
        _reply(ctx, event, accepted, f"Not queued: this pull request already has {per_pr} "
                                     f"`/{kind}` jobs queued or running (`{kind}.max_queued_per_pr` in "
                                     "`.github/arborist.yml`). Wait for one to finish, or `/cancel`.")
    elif outcome == USER_FULL:
        _reply(ctx, event, accepted, f"Not queued: @{accepted.author} already has {per_user} "
                                     f"`/{kind}` jobs queued or running (`{kind}.max_queued_per_user` in "
                                     "`.github/arborist.yml`). Wait for one to finish.")


@answers("approve")
def approve(event: Event, ctx: Context, accepted: Accepted, pull: PullRequest, config: object) -> None:
    """Record a maintainer's approval of the PR head (durable); say what it means in this repository."""
    if ctx.jobs is None:
        _reply(ctx, event, accepted, f"Not run: {NO_JOBS}.")
        return
    approval, created, refreshed = ctx.jobs.approve(event.repo, pull, accepted.author)
    if not created:
        _reply(ctx, event, accepted, f"Already approved: @{approval.approved_by} approved commit "
                                     f"`{approval.sha[:12]}`; nothing changed.")
        return
    required = bool(getattr(getattr(config, "retrain", None), "require_approval", False))
    when = "the retrain that its merge starts" if not pull.merged else \
        f"the queued retrain (job #{refreshed.id})" if refreshed is not None else "the next retrain"
    meaning = f"its changed leaves enter {when}" if required else \
        "recorded; this repository does not require approvals (`retrain.require_approval` is off), so it " \
        "changes nothing today"
    withdrawn = "" if pull.merged else " A push to this pull request withdraws the approval."
    _reply(ctx, event, accepted, f"Approved by @{accepted.author} at commit `{pull.head_sha[:12]}`: "
                                 f"{meaning}.{withdrawn}")


@answers("cancel")
def cancel(event: Event, ctx: Context, accepted: Accepted, pull: PullRequest, config: object) -> None:
    if ctx.jobs is None:
        _reply(ctx, event, accepted, f"Not run: {NO_JOBS}.")
        return
    stopped = ctx.jobs.cancel_pr(ctx.github, event.repo, pull.number, f"cancelled by @{accepted.author}")
    if not stopped:
        _reply(ctx, event, accepted, "Nothing to cancel: this pull request has no queued or running job.")


@answers("retry")
def retry(event: Event, ctx: Context, accepted: Accepted, pull: PullRequest, config: object) -> None:
    if ctx.jobs is None:
        _reply(ctx, event, accepted, f"Not run: {NO_JOBS}.")
        return
    job = ctx.jobs.retry_pr(ctx.github, event.repo, pull.number, pull.head_sha)
    if job is None:
        _reply(ctx, event, accepted, "Nothing to retry: the last job on this pull request did not fail at its "
                                     "current commit (or one is still queued or running). Use `/generate`.")


@answers("help")
def help_(event: Event, ctx: Context, accepted: Accepted, pull: PullRequest, config: object) -> None:
    ctx.github.create_comment(event.repo, accepted.number, render_help())
