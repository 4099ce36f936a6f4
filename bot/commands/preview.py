"""`/preview`: queue a job that trains a LoRA adapter on the PR's data and compares it with the current model.

The decision is short: no job store, or an executor that cannot run the step, is a plain refusal;
otherwise the job goes through the same admission as `/generate` and `/precheck` (one per command,
an identical active job answered with a link, per-PR and per-user limits from `preview.` keys).
"""

from __future__ import annotations

from bot.commands.binding import answers
from bot.commands.guards import Accepted
from bot.commands.handlers import NO_JOBS, _reply, _submit
from bot.context import Context, Event
from lab.github.protocol import PullRequest

NOT_ON_ACTIONS = "Not run: `/preview` runs on Arborist workers or a Ray cluster, and this installation hands " \
                 "jobs to GitHub Actions (`ARBORIST_EXECUTOR`)."


@answers("preview")
def preview(event: Event, ctx: Context, accepted: Accepted, pull: PullRequest, config: object) -> None:
    """Queue a preview job on the PR head; its bounds (samples, steps, minutes) are read by the step from the config."""
    if ctx.jobs is None:
        _reply(ctx, event, accepted, f"Not run: {NO_JOBS}.")
        return
    if ctx.jobs.settings.executor == "actions":  # no preview workflow template: workers and Ray run it
        _reply(ctx, event, accepted, NOT_ON_ACTIONS)
        return
    _submit(event, ctx, accepted, pull, "preview", getattr(config, "preview", None), {})
