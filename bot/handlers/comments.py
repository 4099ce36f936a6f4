"""Slash commands on PR comments, and the PR events that touch jobs (a new push, a close)."""

from __future__ import annotations

from bot.commands import handlers, preview
from bot.commands.binding import handler_for
from bot.commands.guards import Refusal, check_author, check_event, is_stranger, refusal_reply
from bot.commands.handlers import reply_store_busy
from bot.commands.registry import EVERYONE, render_help
from bot.context import Context, Event
from bot.router import Router
from bot.storage import StoreBusy

router = Router()  # this module's routes; bot.routes merges them at start-up

EYES = "eyes"  # the reaction that says "seen, working on it"
COMMAND_MODULES = (handlers, preview)  # their @answers(...) bind each slash command to its function


def _may_answer_stranger(event: Event, ctx: Context, number: int) -> bool:
    """Strangers get at most one reply per PR per hour (ctx.replies, durable); everyone else always."""
    if ctx.replies is None or not is_stranger(ctx.github, event.repo, event.payload.get("comment") or {}):
        return True
    if ctx.replies.allow(event.repo, number):
        return True
    ctx.log.info("reply to a stranger on %s#%s withheld: one per pull request per hour", event.repo, number)
    return False


@router.register("issue_comment", action="created")
def on_comment_created(event: Event, ctx: Context) -> None:
    """Guards in order; a refusal is one reply (or silence); an accepted command gets 👀 and runs."""
    verdict = check_event(event.name, event.action, event.payload)
    if isinstance(verdict, Refusal):
        number = int(event.payload["issue"]["number"])
        if verdict.reply and _may_answer_stranger(event, ctx, number):
            ctx.github.create_comment(event.repo, number, refusal_reply(verdict, render_help()))
        ctx.log.info("command refused on %s: %s", event.repo, verdict.code)
        return
    if verdict.spec.who == EVERYONE and not _may_answer_stranger(event, ctx, verdict.number):
        return
    pull = ctx.github.get_pull(event.repo, verdict.number)
    if pull.state != "open" and not (verdict.spec.on_merged and pull.merged):  # GitHub says closed now
        ctx.github.create_comment(event.repo, verdict.number,
                                  refusal_reply(Refusal("pr-closed", "this pull request is closed", True, verdict.command)))
        return
    config = ctx.repo_config(event.repo, pull.base_ref).config
    refusal = check_author(verdict, ctx.github, event.repo, config, pull_author=pull.author)
    if refusal is not None:
        if ctx.replies is None or ctx.replies.allow(event.repo, verdict.number):  # refused for permission: a stranger
            ctx.github.create_comment(event.repo, verdict.number, refusal_reply(refusal))
        ctx.log.info("command /%s refused on %s#%s: %s", verdict.spec.name, event.repo, verdict.number, refusal.code)
        return
    ctx.github.add_reaction(event.repo, verdict.comment_id, EYES)
    try:
        handler_for(verdict.spec)(event, ctx, verdict, pull, config)
    except StoreBusy:
        reply_store_busy(ctx, event, verdict)
        raise  # the delivery is marked failed, so a redelivery runs the command again


@router.register("pull_request", action="synchronize")
def on_pr_synchronize(event: Event, ctx: Context) -> None:
    """A new push: jobs for the old head are cancelled and the status comment says so."""
    if ctx.jobs is None:
        return
    pull = event.payload.get("pull_request") or {}
    new_sha = str((pull.get("head") or {}).get("sha") or event.payload.get("after") or "")
    number = pull.get("number") or event.payload.get("number")
    if new_sha and isinstance(number, int):
        ctx.jobs.supersede(ctx.github, event.repo, number, new_sha)
        ctx.jobs.approvals.withdraw(event.repo, number, keep_sha=new_sha)  # new commits need a new /approve


@router.register("pull_request", action="closed")
def on_pr_closed(event: Event, ctx: Context) -> None:
    """A closed (or merged) PR needs no more generated data: stop its jobs."""
    if ctx.jobs is None:
        return
    pull = event.payload.get("pull_request") or {}
    word = "merged" if pull.get("merged") else "closed"
    number = pull.get("number") or event.payload.get("number")
    if isinstance(number, int):
        ctx.jobs.cancel_pr(ctx.github, event.repo, number, f"the pull request was {word}")
