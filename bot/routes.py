"""Every webhook the bot handles: the handler modules' routers, merged once at start-up.

To follow an event to its code, look for `@router.register("<event>"...)` in the modules below. A
new handler module is imported and listed here; start-up fails with a `RouteError` when a listed
module has no `router`, so nothing is silently left unrouted. bot/app-manifest.json subscribes to
exactly the events these routers want (tests/bot/test_manifest.py). Slash commands are bound the same way,
by reference: `@answers("generate")` in bot.commands (bot.commands.binding).
"""

from __future__ import annotations

from types import ModuleType

from bot.commands.binding import check_bindings
from bot.handlers import comments, installation, pull_request, push, workflow
from bot.router import RouteError, Router

# Order matters where two modules handle one event: validation runs before the jobs' bookkeeping.
HANDLER_MODULES: tuple[ModuleType, ...] = (pull_request, installation, comments, push, workflow)


def default_router(modules: tuple[ModuleType, ...] = HANDLER_MODULES) -> Router:
    """One Router with every module's routes, in module order; RouteError if a module has none, and
    BindingError if a slash command in the registry has no function (bot.commands.binding)."""
    check_bindings()
    routers = []
    for module in modules:
        router = getattr(module, "router", None)
        if not isinstance(router, Router) or not router.routes:
            raise RouteError(f"{module.__name__} is listed in bot.routes but registers no handler "
                             "(expected a module-level `router = Router()` with @router.register(...))")
        routers.append(router)
    return Router(*routers)
