"""Build a GitHubClient per installation: App auth (cached tokens) + the PyGithub adapter.

The server calls the factory once per delivery; tokens come from one shared AppAuth cache, so a
burst of deliveries for one installation costs one token exchange an hour.
"""

from __future__ import annotations

from typing import Any

from lab.github.app_auth import AppAuth
from lab.github.protocol import ClientFactory, GitHubClient
from lab.github.pygithub_client import PyGithubClient
from lab.github.retry import RetryPolicy


class NoInstallation(RuntimeError):
    """The delivery names no installation, so there is no token to act with."""


def app_client_factory(settings: Any, metrics: Any = None, policy: RetryPolicy | None = None) -> ClientFactory:
    """settings: the bot's process settings (github_url, app_id, private_key, http_timeout)."""
    policy = policy or RetryPolicy()
    auth = AppAuth(settings.github_url, settings.app_id, settings.private_key, timeout=settings.http_timeout,
                   policy=policy, metrics=metrics)

    def factory(installation_id: int | None) -> GitHubClient:
        if installation_id is None:
            raise NoInstallation("the delivery names no installation; the App cannot act on it")
        return PyGithubClient(settings.github_url, lambda: auth.token(installation_id),
                              timeout=settings.http_timeout, policy=policy, metrics=metrics)

    factory.auth = auth  # type: ignore[attr-defined]  # for tests and the demo: inspect the token cache
    return factory
