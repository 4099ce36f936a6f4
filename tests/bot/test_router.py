"""The router: handlers registered by reference, routes checked at start-up, failures isolated."""

from __future__ import annotations

import inspect
import types

import pytest

from bot.context import Context, Event
from bot.handlers import comments, pull_request
from bot.router import RouteError, Router
from bot.routes import HANDLER_MODULES, default_router
from sandbox.fakes.github import FakeGitHub

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
    router = Router()
    router.add("push", None, record_a)
    router.register("push", action="x")(record_b)
    router.register("push", action="y")(record_b)
    outcomes = router.dispatch(_event("push", "x"), Context(github=FakeGitHub()))
    assert SEEN == ["a:x", "b:x"] and all(o.ok for o in outcomes)
    assert [o.target for o in outcomes] == [f"{__name__}:record_a", f"{__name__}:record_b"]
    assert router.dispatch(_event("issues", "x"), Context(github=FakeGitHub())) == []


def test_register_returns_the_function_itself_so_it_stays_callable_and_followable():
    router = Router()
    decorated = router.register("push")(record_a)
    assert decorated is record_a and router.routes[0].handler is record_a


def test_merged_router_keeps_module_order_and_a_handler_runs_once_per_delivery():
    first, second = Router(), Router()
    first.register("push", action="x")(record_a)
    first.register("push")(record_a)  # matches "x" twice: still one run
    second.register("push")(record_b)
    merged = Router(first, second)
    assert [r.name for r in merged.handlers("push", "x")] == [f"{__name__}:record_a", f"{__name__}:record_b"]
    assert merged.events() == {"push"}


@pytest.mark.parametrize(("event", "action", "handler", "says"), [
    ("", None, record_a, "not a GitHub event name"),
    ("Push; drop", None, record_a, "not a GitHub event name"),
    ("push", "", record_a, "not a GitHub action name"),
    ("push", None, "bot.handlers.push:on_push", "not callable"),
    ("push", None, lambda event: None, "does not take (event, ctx)"),
    ("push", None, lambda: None, "does not take (event, ctx)"),
])
def test_a_route_that_cannot_work_is_refused_when_registered(event, action, handler, says):
    with pytest.raises(RouteError, match=says.replace("(", r"\(").replace(")", r"\)")):
        Router().add(event, action, handler)


def test_the_same_route_twice_is_refused_naming_the_handler():
    router = Router()
    router.register("push")(record_a)
    with pytest.raises(RouteError, match="record_a is routed twice"):
        router.register("push")(record_a)
    with pytest.raises(RouteError, match="routed twice"):
        Router(router, router)


def test_merging_something_that_is_not_a_router_is_refused():
    with pytest.raises(RouteError, match="not dict"):
        Router({"push": "bot.handlers.push:on_push"})  # type: ignore[arg-type]


def test_a_listed_handler_module_without_a_router_stops_start_up():
    bare = types.ModuleType("bot.handlers.forgotten")
    with pytest.raises(RouteError, match="bot.handlers.forgotten .* registers no handler"):
        default_router((pull_request, bare))
    bare.router = Router()  # a router with nothing registered is the same mistake
    with pytest.raises(RouteError, match="registers no handler"):
        default_router((bare,))


def test_failing_handler_does_not_stop_the_next_one_and_is_counted():
    SEEN.clear()
    ctx = Context(github=FakeGitHub())
    router = Router()
    router.register("push")(explode)
    router.register("push")(record_a)
    outcomes = router.dispatch(_event("push", None), ctx)
    assert [o.ok for o in outcomes] == [False, True] and "boom" in outcomes[0].error
    assert SEEN == ["a:None"]
    assert ctx.metrics.value("arborist_handler_runs_total", handler=f"{__name__}:explode", result="error") == 1


def test_default_router_sends_pull_request_events_to_validation_then_jobs():
    router = default_router()
    handlers = [r.handler for r in router.handlers("pull_request", "synchronize")]
    assert handlers == [pull_request.on_pull_request, comments.on_pr_synchronize]
    assert router.handlers("pull_request", "labeled") == []
    assert [r.handler for r in router.handlers("check_run", "rerequested")] == [pull_request.on_check_rerequested]


def test_every_public_handler_in_a_handler_module_is_routed():
    routed = {route.handler for route in default_router().routes}
    for module in HANDLER_MODULES:
        handlers = [f for name, f in inspect.getmembers(module, inspect.isfunction)
                    if name.startswith("on_") and f.__module__ == module.__name__]
        assert handlers, module.__name__
        assert [f.__name__ for f in handlers if f not in routed] == [], module.__name__
