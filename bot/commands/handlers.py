"""What each accepted command does: one short decision, then the job service or one reply."""

from __future__ import annotations

from bot.commands.guards import Accepted
from bot.commands.registry import render_help
from bot.context import Context, Event
from bot.github.protocol import PullRequest

NO_JOBS = "jobs are not enabled on this Arborist installation (no job store is configured)"


def _reply(ctx: Context, event: Event, accepted: Accepted, text: str) -> None:
    ctx.github.create_comment(event.repo, accepted.number, f"> {accepted.command.line}\n\n{text}")


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
    ctx.jobs.submit_generate(ctx.github, event.repo, pull, comment_id=accepted.comment_id,
                             requested_by=accepted.author, samples=samples, leaves=accepted.arguments.positional,
                             installation_id=event.installation_id)


def cancel(event: Event, ctx: Context, accepted: Accepted, pull: PullRequest, config: object) -> None:
    if ctx.jobs is None:
        _reply(ctx, event, accepted, f"Not run: {NO_JOBS}.")
        return
    stopped = ctx.jobs.cancel_pr(ctx.github, event.repo, pull.number, f"cancelled by @{accepted.author}")
    if not stopped:
        _reply(ctx, event, accepted, "Nothing to cancel: this pull request has no queued or running job.")


def retry(event: Event, ctx: Context, accepted: Accepted, pull: PullRequest, config: object) -> None:
    if ctx.jobs is None:
        _reply(ctx, event, accepted, f"Not run: {NO_JOBS}.")
        return
    job = ctx.jobs.retry_pr(ctx.github, event.repo, pull.number, pull.head_sha)
    if job is None:
        _reply(ctx, event, accepted, "Nothing to retry: the last job on this pull request did not fail at its "
                                     "current commit (or one is still queued or running). Use `/generate`.")


def help_(event: Event, ctx: Context, accepted: Accepted, pull: PullRequest, config: object) -> None:
    ctx.github.create_comment(event.repo, accepted.number, render_help())
