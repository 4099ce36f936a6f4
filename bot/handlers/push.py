"""A push to the default branch queues one retrain for the newest SHA (close merges coalesce)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bot.context import Context, Event
from bot.router import Router

router = Router()  # this module's routes; bot.routes merges them at start-up

ZERO_SHA = "0" * 40
MERGE_RE = re.compile(r"Merge pull request #(\d+)|\(#(\d+)\)\s*$", re.MULTILINE)


def merged_prs(payload: Mapping[str, Any]) -> list[int]:
    """PR numbers named in the pushed commits' messages (merge commits and squash merges)."""
    numbers: set[int] = set()
    for commit in payload.get("commits") or []:
        for match in MERGE_RE.finditer(str(commit.get("message") or "")):
            numbers.add(int(match.group(1) or match.group(2)))
    return sorted(numbers)


@router.register("push")
def on_push(event: Event, ctx: Context) -> None:
    payload = dict(event.payload)
    default = (payload.get("repository") or {}).get("default_branch") or "main"
    after = str(payload.get("after") or "")
    if payload.get("ref") != f"refs/heads/{default}" or payload.get("deleted") or not after or after == ZERO_SHA:
        return
    if ctx.jobs is None:
        ctx.log.info("push to %s@%s: no job store, retrain not queued", event.repo, default)
        return
    job, created = ctx.jobs.submit_retrain(ctx.github, event.repo, after, ref=default, merged=merged_prs(payload),
                                           installation_id=event.installation_id)
    ctx.log.info("push to %s@%s: retrain job %s %s", event.repo, default, job.id, "queued" if created else "coalesced")
