"""A small router: event + action -> handlers, resolved lazily from the table in `bot.routes`.

Dispatch runs every matching handler in table order. One handler's exception is logged and counted
and does not stop the others: a delivery is never lost to a neighbour's bug.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.context import Context, Event

LOG = logging.getLogger("arborist.router")

Handler = Callable[[Event, Context], None]


@dataclass(frozen=True)
class Outcome:
    """What one handler did with one delivery."""

    target: str
    ok: bool
    seconds: float
    error: str = ""


class Router:
    """Matches events against (event, action, "module:function") routes and runs the handlers."""

    def __init__(self, routes: Iterable[tuple[str, str | None, str]] | None = None):
        if routes is None:
            from bot.routes import ROUTES

            routes = ROUTES
        self.routes = list(routes)
        self._resolved: dict[str, Handler | None] = {}

    def targets(self, event: str, action: str | None) -> list[str]:
        """The handler targets for this event and action, each once, in table order."""
        seen: list[str] = []
        for ev, act, target in self.routes:
            if ev == event and (act is None or act == action) and target not in seen:
                seen.append(target)
        return seen

    def resolve(self, target: str) -> Handler | None:
        """Import "module:function" once; a missing module or function is skipped with one warning."""
        if target not in self._resolved:
            module_name, _, func_name = target.partition(":")
            handler: Handler | None = None
            try:
                module = importlib.import_module(module_name)
                handler = getattr(module, func_name)
            except ModuleNotFoundError as exc:
                if exc.name is not None and module_name.startswith(exc.name):
                    LOG.warning("route %s skipped: module %s does not exist", target, module_name)
                else:  # the module exists but cannot be imported: a real bug, loud, yet never a 500
                    LOG.error("route %s skipped: importing %s failed: %s", target, module_name, exc)
            except AttributeError:
                LOG.warning("route %s skipped: %s has no %s", target, module_name, func_name)
            except Exception as exc:  # noqa: BLE001 - a broken handler module must not break intake
                LOG.error("route %s skipped: importing %s failed: %s: %s", target, module_name,
                          type(exc).__name__, exc)
            self._resolved[target] = handler
        return self._resolved[target]

    def handlers(self, event: str, action: str | None) -> list[tuple[str, Handler]]:
        out = []
        for target in self.targets(event, action):
            handler = self.resolve(target)
            if handler is not None:
                out.append((target, handler))
        return out

    def dispatch(self, event: Event, ctx: Context, clock: Callable[[], float] = time.perf_counter) -> list[Outcome]:
        """Run every handler for this event; returns one Outcome per handler (empty: nothing to do)."""
        outcomes = []
        for target, handler in self.handlers(event.name, event.action):
            started = clock()
            try:
                handler(event, ctx)
            except Exception as exc:  # noqa: BLE001 - one handler's failure must not stop the others
                ctx.log.exception("handler %s failed on delivery %s", target, event.delivery_id)
                outcomes.append(Outcome(target, False, clock() - started, f"{type(exc).__name__}: {exc}"))
            else:
                outcomes.append(Outcome(target, True, clock() - started))
            ctx.metrics.observe_handler(target, outcomes[-1].seconds, outcomes[-1].ok)
        return outcomes
