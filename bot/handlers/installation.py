"""App lifecycle events: installation and installation_repositories. Logged and counted, never fatal.

The bot keeps no per-installation state (tokens are fetched on demand), so these only tell the
operator what happened; a malformed payload is logged, not raised.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.context import Context, Event
from bot.router import Router

router = Router()  # this module's routes; bot.routes merges them at start-up

MAX_LOGGED_REPOS = 20  # an org-wide install can list thousands


def _account(payload: Mapping[str, Any]) -> str:
    installation = payload.get("installation")
    account = installation.get("account") if isinstance(installation, Mapping) else None
    login = account.get("login") if isinstance(account, Mapping) else None
    return login if isinstance(login, str) else "?"


def _names(items: Any) -> list[str]:
    if not isinstance(items, list):
        return []
    return [str(r.get("full_name")) for r in items if isinstance(r, Mapping) and r.get("full_name")]


def _short(names: list[str]) -> str:
    shown = ", ".join(names[:MAX_LOGGED_REPOS])
    return shown + (f" (+{len(names) - MAX_LOGGED_REPOS} more)" if len(names) > MAX_LOGGED_REPOS else "")


@router.register("installation")
def on_installation(event: Event, ctx: Context) -> None:
    """created / deleted / suspend / unsuspend / new_permissions_accepted."""
    repos = _names(event.payload.get("repositories"))
    ctx.log.info("installation %s: %s by account %s%s", event.installation_id, event.action or "?",
                 _account(event.payload), f"; repositories: {_short(repos)}" if repos else "")
    ctx.metrics.inc("arborist_installation_events_total", action=event.action or "none")


@router.register("installation_repositories")
def on_installation_repositories(event: Event, ctx: Context) -> None:
    """added / removed repositories on an existing installation."""
    added = _names(event.payload.get("repositories_added"))
    removed = _names(event.payload.get("repositories_removed"))
    ctx.log.info("installation %s (%s): %d repositories added [%s], %d removed [%s]", event.installation_id,
                 _account(event.payload), len(added), _short(added), len(removed), _short(removed))
    ctx.metrics.inc("arborist_installation_events_total", action=f"repositories_{event.action or 'none'}")
