"""Webhook routing by reference, so a reader or a type checker can follow an event to its handler.

Each handler module owns a `Router` and registers its functions next to their definitions
(`@router.register("pull_request", action="opened")`); `bot.routes` merges the modules' routers once
at start-up. A handler that does not exist is an ImportError or NameError when the bot starts, and
a route that cannot work (a blank event, a handler that does not take `(event, ctx)`, the same route
twice) is a `RouteError` then too: never a skipped handler found later in a log.

Dispatch runs every matching handler in registration order. One handler's exception is logged and
counted and does not stop the others: a delivery is never lost to a neighbour's bug.
"""

from __future__ import annotations

import inspect
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from bot.context import Context, Event

LOG = logging.getLogger("arborist.router")
NAME_RE = re.compile(r"[a-z][a-z_]{0,63}")  # GitHub's event and action names: "pull_request", "rerequested"

Handler = Callable[[Event, Context], None]
H = TypeVar("H", bound=Handler)


class RouteError(ValueError):
    """A route that cannot work: raised while the routers are built, never while a delivery is handled."""


def handler_name(handler: Handler) -> str:
    """"module:function", the name a handler has in logs and in the handler metrics."""
    return f"{getattr(handler, '__module__', '?')}:{getattr(handler, '__qualname__', repr(handler))}"


@dataclass(frozen=True)
class Route:
    """One line of routing: this event (and action; None for every action) runs this handler."""

    event: str
    action: str | None
    handler: Handler

    @property
    def name(self) -> str:
        return handler_name(self.handler)


@dataclass(frozen=True)
class Outcome:
    """What one handler did with one delivery."""

    target: str
    ok: bool
    seconds: float
    error: str = ""


def _check(event: str, action: str | None, handler: Handler) -> None:
    """Raise RouteError for a route that could never run as written."""
    if not NAME_RE.fullmatch(event):
        raise RouteError(f"route to {handler_name(handler)}: event {event!r} is not a GitHub event name")
    if action is not None and not NAME_RE.fullmatch(action):
        raise RouteError(f"route to {handler_name(handler)}: action {action!r} is not a GitHub action name")
    if not callable(handler):
        raise RouteError(f"route for {event}/{action}: {handler!r} is not callable")
    try:
        inspect.signature(handler).bind(None, None)
    except TypeError:
        raise RouteError(f"route for {event}/{action}: {handler_name(handler)} does not take (event, ctx)") from None


class Router:
    """Routes (event, action) to handlers; `Router(a, b)` merges the routes of `a` and `b`, in order."""

    def __init__(self, *routers: Router) -> None:
        self._routes: list[Route] = []
        for router in routers:
            if not isinstance(router, Router):
                raise RouteError(f"Router() merges routers, not {type(router).__name__}")
            for route in router.routes:
                self.add(route.event, route.action, route.handler)

    @property
    def routes(self) -> tuple[Route, ...]:
        return tuple(self._routes)

    def add(self, event: str, action: str | None, handler: Handler) -> None:
        """Route `event` (with `action`, or every action when None) to `handler`; checked now."""
        _check(event, action, handler)
        route = Route(event, action, handler)
        if route in self._routes:
            raise RouteError(f"{handler_name(handler)} is routed twice for {event}/{action or '*'}")
        self._routes.append(route)

    def register(self, event: str, action: str | None = None) -> Callable[[H], H]:
        """Decorator: `@router.register("issue_comment", action="created")`; stack it for more actions."""

        def decorate(handler: H) -> H:
            self.add(event, action, handler)
            return handler

        return decorate

    def events(self) -> set[str]:
        """Every event some handler wants (the App manifest subscribes to exactly these)."""
        return {route.event for route in self._routes}

    def handlers(self, event: str, action: str | None) -> list[Route]:
        """The routes that run for this event and action: each handler once, in registration order."""
        out: list[Route] = []
        for route in self._routes:
            if route.event == event and route.action in (None, action):
                if all(seen.handler is not route.handler for seen in out):
                    out.append(route)
        return out

    def dispatch(self, event: Event, ctx: Context, clock: Callable[[], float] = time.perf_counter) -> list[Outcome]:
        """Run every handler for this event; returns one Outcome per handler (empty: nothing to do)."""
        outcomes = []
        for route in self.handlers(event.name, event.action):
            started = clock()
            try:
                route.handler(event, ctx)
            except Exception as exc:  # noqa: BLE001 - one handler's failure must not stop the others
                ctx.log.exception("handler %s failed on delivery %s", route.name, event.delivery_id)
                outcomes.append(Outcome(route.name, False, clock() - started, f"{type(exc).__name__}: {exc}"))
            else:
                outcomes.append(Outcome(route.name, True, clock() - started))
            ctx.metrics.observe_handler(route.name, outcomes[-1].seconds, outcomes[-1].ok)
        return outcomes
