"""Each guard refuses for its own reason, in order; a refusal replies (or stays silent) and queues nothing."""

from __future__ import annotations

import pytest

from bot.handlers.comments import on_comment_created
from tests.bot.jobs.world import MAINTAINER, PR, REPO, STRANGER, comment_event, make_world

REFUSALS = [
    # (event kwargs, expected reply fragment or None for silence)
    (dict(body="/generate", action="edited"), None),
    (dict(body="/generate", action="deleted"), None),
    (dict(body="thanks, looks great"), None),
    (dict(body="/generate", on_pr=False), "pull requests only"),
    (dict(body="/generate", state="closed"), "is closed"),
    (dict(body="/generate", author="dependabot[bot]", user_type="Bot"), None),
    (dict(body="/generate", author="helper", user_type="Bot"), None),
    (dict(body="/deploy now"), "not a command I know"),
    (dict(body="/generate --samples lots"), "whole number"),
    (dict(body="/generate --teacher x"), "unknown option"),
    (dict(body="/generate", author=STRANGER), "may not run `/generate`"),
    (dict(body="/cancel", author="nobody"), "may not run `/cancel`"),
]


@pytest.mark.parametrize(("kwargs", "reply"), REFUSALS)
def test_refused_command_gets_reason_and_no_job(tmp_path, kwargs, reply):
    world = make_world(tmp_path)
    on_comment_created(comment_event(**kwargs), world.ctx)
    assert world.store.jobs() == []
    assert world.github.count("add_reaction") == 0
    assert world.github.count("create_check_run") == 0
    replies = world.replies()
    if reply is None:
        assert replies == []
    else:
        assert len(replies) == 1
        assert reply in replies[0].body
        assert replies[0].body.startswith("> `/")  # the command is quoted, as inert code


def test_unknown_command_reply_carries_the_help(tmp_path):
    world = make_world(tmp_path)
    on_comment_created(comment_event("/gen"), world.ctx)
    (reply,) = world.replies()
    assert "/generate [--samples N]" in reply.body and "/retry" in reply.body


def test_team_member_from_config_is_allowed(tmp_path):
    world = make_world(tmp_path, config="commands:\n  allowed_teams: [acme/data-stewards]\n")
    world.github.add_team_member("acme", "data-stewards", STRANGER)
    on_comment_created(comment_event("/generate", author=STRANGER), world.ctx)
    assert len(world.store.jobs()) == 1


def test_permissions_come_from_the_base_branch_config(tmp_path):
    world = make_world(tmp_path, config="commands:\n  allowed_permissions: [admin]\n")
    on_comment_created(comment_event("/generate", author=MAINTAINER), world.ctx)
    assert world.store.jobs() == []
    assert "admin permission" in world.replies()[0].body


def test_samples_above_the_repository_ceiling_are_refused(tmp_path):
    world = make_world(tmp_path, config="generate:\n  max_samples: 30\n")
    on_comment_created(comment_event("/generate --samples 31"), world.ctx)
    assert world.store.jobs() == []
    assert "more than this repository allows (30" in world.replies()[0].body


def test_help_is_answered_for_anyone(tmp_path):
    world = make_world(tmp_path)
    on_comment_created(comment_event("/help", author=STRANGER), world.ctx)
    (reply,) = world.replies()
    assert "| `/generate [--samples N] [PATH ...]` |" in reply.body
    assert world.github.repo(REPO).reactions  # seen


def test_pr_closed_after_the_payload_was_sent_is_refused(tmp_path):
    world = make_world(tmp_path)
    from dataclasses import replace
    state = world.github.repo(REPO)
    state.pulls[PR] = replace(state.pulls[PR], state="closed")
    on_comment_created(comment_event("/generate"), world.ctx)
    assert world.store.jobs() == []
    assert "is closed" in world.replies()[0].body
