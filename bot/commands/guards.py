"""The guards a slash command passes, in a fixed order, before anything is queued.

1. an `issue_comment` `created` event (edits and deletions never trigger),
2. with a command in it (most comments have none: silently ignored),
3. on a pull request (not an issue),
4. the pull request is open (or, for a command that works after merge such as `/approve`, merged),
5. the author is not a bot (never answered: bots talking to bots loop),
6. the command is known (the reply carries the help),
7. its arguments parse,
8. the author may use it: collaborator permission in `commands.allowed_permissions`, or a member of
   a team in `commands.allowed_teams` (read from `.github/arborist.yml` at the base branch); for
   `/precheck`, also the pull request's own author when `precheck.allow_author` is true.

A refusal carries the reason; `reply` says whether the bot answers it on the PR. The reply quotes
the command as an inert code span (schemas.quoting), never as live Markdown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.commands.parser import ArgumentError, Arguments, RawCommand, find_command, parse_arguments
from bot.commands.registry import EVERYONE, MAINTAINERS_OR_AUTHOR, CommandSpec, lookup
from lab.github.protocol import PermissionsClient
from schemas.quoting import quote_line

NOT_CREATED, NO_COMMAND, NOT_A_PR, PR_CLOSED, FROM_BOT = "not-created", "no-command", "not-a-pr", "pr-closed", "bot"
UNKNOWN, BAD_ARGUMENTS, NOT_ALLOWED = "unknown-command", "bad-arguments", "not-allowed"


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str
    reply: bool
    command: RawCommand | None = None


@dataclass(frozen=True)
class Accepted:
    command: RawCommand
    spec: CommandSpec
    arguments: Arguments
    number: int
    author: str
    comment_id: int


def _is_bot(user: Mapping[str, Any]) -> bool:
    return user.get("type") == "Bot" or str(user.get("login", "")).endswith("[bot]")


def _merged(issue: Mapping[str, Any]) -> bool:
    """GitHub's issue payload marks a merged pull request with `pull_request.merged_at`."""
    return bool((issue.get("pull_request") or {}).get("merged_at"))


def check_event(name: str, action: str | None, payload: Mapping[str, Any]) -> Accepted | Refusal:
    """Guards 1-7: everything that needs no call to GitHub."""
    if name != "issue_comment" or action != "created":
        return Refusal(NOT_CREATED, "only newly created comments run commands", reply=False)
    comment = payload.get("comment") or {}
    issue = payload.get("issue") or {}
    user = comment.get("user") or {}
    command = find_command(str(comment.get("body") or ""))
    if command is None:
        return Refusal(NO_COMMAND, "no command in this comment", reply=False)
    if not issue.get("pull_request"):
        return Refusal(NOT_A_PR, "commands work on pull requests only, and this is an issue", True, command)
    spec = lookup(command.name)
    if issue.get("state") != "open" and not (spec is not None and spec.on_merged and _merged(issue)):
        return Refusal(PR_CLOSED, "this pull request is closed", True, command)
    if _is_bot(user):
        return Refusal(FROM_BOT, "comments from bots never run commands", False, command)
    if spec is None:
        return Refusal(UNKNOWN, f"`/{command.name}` is not a command I know", True, command)
    try:
        arguments = parse_arguments(command.arg_text, spec.args)
    except ArgumentError as exc:
        return Refusal(BAD_ARGUMENTS, f"{exc}. Usage: `{spec.usage}`", True, command)
    return Accepted(command, spec, arguments, int(issue.get("number") or 0), str(user.get("login", "")),
                    int(comment.get("id") or 0))


TRUSTED_ASSOCIATIONS = ("OWNER", "MEMBER", "COLLABORATOR")


def is_stranger(github: PermissionsClient, repo: str, comment: Mapping[str, Any]) -> bool:
    """A commenter with no standing in the repository: GitHub's author_association, else their permission."""
    association = comment.get("author_association")
    if isinstance(association, str) and association:
        return association.upper() not in TRUSTED_ASSOCIATIONS
    login = str((comment.get("user") or {}).get("login", ""))
    return github.get_collaborator_permission(repo, login) not in ("write", "maintain", "admin")


def is_allowed(github: PermissionsClient, repo: str, username: str, allowed_permissions: tuple[str, ...],
               allowed_teams: tuple[str, ...]) -> bool:
    """Collaborator permission first (one call), then each configured team until one says yes."""
    if github.get_collaborator_permission(repo, username) in allowed_permissions:
        return True
    for team in allowed_teams:
        org, _, slug = team.partition("/")
        if org and slug and github.is_team_member(org, slug, username):
            return True
    return False


def check_author(accepted: Accepted, github: PermissionsClient, repo: str, config: Any,
                 pull_author: str | None = None) -> Refusal | None:
    """Guard 8, with the repository config read at the base branch (`pull_author`: the PR's author)."""
    if accepted.spec.who == EVERYONE:
        return None
    if accepted.spec.who == MAINTAINERS_OR_AUTHOR and pull_author and accepted.author == pull_author \
            and getattr(getattr(config, "precheck", None), "allow_author", False):
        return None
    commands = getattr(config, "commands", None)
    permissions = tuple(getattr(commands, "allowed_permissions", ("write", "maintain", "admin")))
    teams = tuple(getattr(commands, "allowed_teams", ()))
    if is_allowed(github, repo, accepted.author, permissions, teams):
        return None
    who = "collaborators with " + "/".join(permissions) + " permission"
    if teams:
        who += " or members of " + ", ".join(f"@{t}" for t in teams)
    note = ""
    if accepted.spec.who == MAINTAINERS_OR_AUTHOR:
        if getattr(getattr(config, "precheck", None), "allow_author", False):
            who += " or the pull request's author"
        else:
            note = "; a pull request's author may not run it here (`precheck.allow_author` is off)"
    return Refusal(NOT_ALLOWED, f"@{accepted.author} may not run `/{accepted.spec.name}`: only {who} can{note}",
                   True, accepted.command)


def refusal_reply(refusal: Refusal, help_text: str = "") -> str:
    """The reply: the command quoted (inert, bounded), the reason, and the help where it helps."""
    quoted = f"{quote_line(refusal.command.line)}\n\n" if refusal.command else ""
    body = f"{quoted}Not run: {refusal.message}."
    if refusal.code == UNKNOWN and help_text:
        body += "\n\n" + help_text
    return body
