"""The bot never reposts a stranger's markup under its own name, and answers strangers once per PR per hour."""

from __future__ import annotations

import re

import pytest

from bot.commands.registry import render_help
from bot.commands.throttle import ReplyThrottle
from bot.handlers.comments import on_comment_created
from schemas.quoting import MAX_QUOTE_CHARS, code_span
from tests.bot.jobs.world import PR, REPO, STRANGER, comment_event, make_world

HOSTILE = [
    "/generate @everyone @acme/maintainers please",
    "/deploy ![pixel](https://evil.example/track.png) [click](https://evil.example)",
    "/generate `@acme/admins` ``@victim`` <img src=x onerror=alert(1)>",
    "/generate knowledge/x`@victim`![a](https://evil.example/a.png)",
    "/generate --samples `@victim`",
    "/generate --bogus`<script>`@victim",
    "/cancel **bold** _it_ <b>html</b> #123 :tada: https://evil.example/\u202egpj.exe",
    "/generate " + "@victim " * 120,  # long, yet under the 1000-character line limit
]


def _outside_code_spans(markdown: str) -> str:
    """The text GitHub renders as Markdown: everything outside code spans (CommonMark backtick matching)."""
    out, i = [], 0
    while i < len(markdown):
        run = re.match(r"`+", markdown[i:])
        if not run:
            out.append(markdown[i])
            i += 1
            continue
        fence = run.group(0)
        close = re.search(rf"(?<!`){fence}(?!`)", markdown[i + len(fence):])
        if close is None:
            out.append(fence)
            i += len(fence)
        else:
            i += len(fence) + close.end()
    return "".join(out)


@pytest.mark.parametrize("body", HOSTILE)
def test_refusal_quotes_a_stranger_without_live_mentions_links_or_html(tmp_path, body):
    world = make_world(tmp_path)
    on_comment_created(comment_event(body, author=STRANGER), world.ctx)
    (reply,) = world.replies()
    live = _outside_code_spans(reply.body)
    assert "Not run" in live
    for marker in ("@victim", "@everyone", "@acme", "![", "](", "<img", "<script", "<b>", "https://", "\u202e"):
        assert marker not in live, (marker, reply.body)
    assert len(reply.body) < 3 * MAX_QUOTE_CHARS + len(render_help()) + 300  # bounded, whatever was sent


@pytest.mark.parametrize("text", ["plain", "a`b", "``x``", "`", "@x ```` y", "x" * 500, "\u200b@x\x00"])
def test_code_span_holds_any_text_and_is_bounded(text):
    span = code_span(text)
    assert _outside_code_spans(span) == ""
    assert len(span) <= MAX_QUOTE_CHARS + 12


def test_a_stranger_gets_one_reply_per_pr_per_hour(tmp_path):
    world = make_world(tmp_path)
    for body in ["/generate @victim", "/deploy", "/generate --samples x", "/help", "/cancel"] * 4:
        on_comment_created(comment_event(body, author=STRANGER), world.ctx)
    assert len(world.replies()) == 1
    assert world.store.jobs() == []


def test_a_maintainer_is_always_answered(tmp_path):
    world = make_world(tmp_path)
    for _ in range(3):
        on_comment_created(comment_event("/deploy"), world.ctx)
    assert len(world.replies()) == 3


def test_github_author_association_marks_a_stranger_without_an_api_call(tmp_path):
    world = make_world(tmp_path)
    for _ in range(3):
        event = comment_event("/deploy", author="drive-by")
        event.payload["comment"]["author_association"] = "NONE"
        on_comment_created(event, world.ctx)
    assert len(world.replies()) == 1
    assert world.github.count("get_collaborator_permission") == 0


def test_the_limit_survives_a_restart_and_ends_after_an_hour(tmp_path):
    now = [1_000_000.0]
    path = tmp_path / "replies.sqlite3"
    assert ReplyThrottle(path, clock=lambda: now[0]).allow(REPO, PR)
    restarted = ReplyThrottle(path, clock=lambda: now[0])
    assert not restarted.allow(REPO, PR)
    assert restarted.allow(REPO, PR + 1)  # per pull request
    now[0] += 3599
    assert not restarted.allow(REPO, PR)
    now[0] += 2
    assert restarted.allow(REPO, PR)
