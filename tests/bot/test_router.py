"""The router: event + action -> handlers, lazy resolution, failures isolated."""

from __future__ import annotations

import logging

from bot.context import Context, Event
from bot.github.fake import FakeGitHub
from bot.router import Router

SEEN: list[str] = []


def record_a(event: Event, ctx: Context) -> None:
    SEEN.append(f"a:{event.action}")


def record_b(event: Event, ctx: Context) -> None:
    SEEN.append(f"b:{event.action}")


def explode(event: Event, ctx: Context) -> None:
    raise RuntimeError("boom")


def _event(name: str, action: str | None) -> Event:
    payload = {"action": action, "installation": {"id": 5}, "repository": {"full_name": "o/r"}}
    return Event.from_delivery(name, "d-1", payload)


def test_event_parses_installation_and_repo_and_tolerates_missing_parts():
    event = _event("pull_request", "opened")
    assert (event.installation_id, event.repo, event.action) == (5, "o/r", "opened")
    bare = Event.from_delivery("push", "d-2", {"installation": "junk", "repository": 3})
    assert (bare.installation_id, bare.repo, bare.action) == (None, "", None)


def test_action_none_matches_every_action_and_order_is_kept():
    SEEN.clear()
    here = __name__
    router = Router([("push", None, f"{here}:record_a"), ("push", "x", f"{here}:record_b"),
                     ("push", "y", f"{here}:record_b")])
    outcomes = router.dispatch(_event("push", "x"), Context(github=FakeGitHub()))
    assert SEEN == ["a:x", "b:x"] and all(o.ok for o in outcomes)
    assert router.dispatch(_event("issues", "x"), Context(github=FakeGitHub())) == []


def test_missing_module_is_skipped_with_one_warning(caplog):
    router = Router([("push", None, "bot.handlers.not_written_yet:on_push")])
    with caplog.at_level(logging.WARNING, logger="arborist.router"):
        assert router.handlers("push", None) == []
        assert router.handlers("push", None) == []
    assert len([r for r in caplog.records if "not_written_yet" in r.getMessage()]) == 1


def test_failing_handler_does_not_stop_the_next_one_and_is_counted():
    SEEN.clear()
    ctx = Context(github=FakeGitHub())
    router = Router([("push", None, f"{__name__}:explode"), ("push", None, f"{__name__}:record_a")])
    outcomes = router.dispatch(_event("push", None), ctx)
    assert [o.ok for o in outcomes] == [False, True] and "boom" in outcomes[0].error
    assert SEEN == ["a:None"]
    assert ctx.metrics.value("arborist_handler_runs_total", handler=f"{__name__}:explode", result="error") == 1


def test_default_table_routes_pull_request_events_to_validation():
    targets = Router().targets("pull_request", "synchronize")
    assert "bot.handlers.pull_request:on_pull_request" in targets
    assert "bot.handlers.comments:on_pr_synchronize" in targets
    assert Router().targets("pull_request", "labeled") == []


def test_handler_module_that_fails_to_import_is_skipped_loudly(tmp_path, monkeypatch, caplog):
    (tmp_path / "broken_handler_mod.py").write_text("import not_a_real_dependency_xyz\n")
    (tmp_path / "raising_handler_mod.py").write_text("raise RuntimeError('boom at import')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    router = Router([("push", None, "broken_handler_mod:on_push"), ("push", None, "raising_handler_mod:on_push"),
                     ("push", None, f"{__name__}:record_a")])
    with caplog.at_level(logging.ERROR, logger="arborist.router"):
        assert [t for t, _ in router.handlers("push", None)] == [f"{__name__}:record_a"]
    assert "not_a_real_dependency_xyz" in caplog.text and "boom at import" in caplog.text
