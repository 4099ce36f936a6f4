"""Which function answers each slash command: bound by reference, next to the function itself.

`@answers("generate")` (bot.commands.handlers, bot.commands.preview) binds a function to the registry's
spec of that name, so a reader follows `/generate` to its code by searching for `@answers("generate")`.
A name the registry does not know, or a second function for one command, is a `BindingError` when the
module is imported; `check_bindings()` (run by bot.routes at start-up) fails when a command in the
registry has no function. Nothing is looked up by a "module:function" string.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from bot.commands.registry import COMMANDS, CommandSpec, lookup

if TYPE_CHECKING:  # type-only: those modules import this one
    from bot.commands.guards import Accepted
    from bot.context import Context, Event
    from lab.github.protocol import PullRequest

CommandHandler = Callable[["Event", "Context", "Accepted", "PullRequest", Any], None]
F = TypeVar("F", bound=CommandHandler)

_BOUND: dict[str, CommandHandler] = {}


class BindingError(ValueError):
    """A command without a function, or a function for a command the registry does not have."""


def answers(name: str) -> Callable[[F], F]:
    """Decorator: this function answers `/name` (a spec in bot.commands.registry)."""

    def bind(handler: F) -> F:
        if name != name.lower() or lookup(name) is None:
            raise BindingError(f"@answers({name!r}) on {handler.__qualname__}: no such command in the registry")
        if name in _BOUND and _BOUND[name] is not handler:
            raise BindingError(f"/{name} is answered twice: {_BOUND[name].__qualname__} and {handler.__qualname__}")
        _BOUND[name] = handler
        return handler

    return bind


def handler_for(spec: CommandSpec) -> CommandHandler:
    """The function bound to `spec`; BindingError if none is (check_bindings catches that at start-up)."""
    try:
        return _BOUND[spec.name]
    except KeyError:
        raise BindingError(f"/{spec.name} has no function: add @answers({spec.name!r}) to one") from None


def check_bindings(commands: tuple[CommandSpec, ...] = COMMANDS) -> None:
    """Every command in the registry has a function, and nothing is bound to a command that is not there."""
    missing = [spec.name for spec in commands if spec.name not in _BOUND]
    if missing:
        raise BindingError(f"commands without a function: {', '.join('/' + m for m in missing)}")
    extra = sorted(set(_BOUND) - {spec.name for spec in commands})
    if extra:
        raise BindingError(f"functions bound to commands the registry does not have: {', '.join(extra)}")
