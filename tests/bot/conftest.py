"""Fixtures for the bot's tests: the taxonomy API (real or stand-in), webhook payload paths."""

from __future__ import annotations

import pytest

from tests.bot.taxonomy_data import taxonomy_api


@pytest.fixture(autouse=True)
def _taxonomy(monkeypatch):
    """Route the PR handler to lab.taxonomy when it exists, else to the local stand-in."""
    api = taxonomy_api()
    monkeypatch.setattr("bot.handlers.pull_request._taxonomy_api", lambda: api)
    return api


@pytest.fixture(scope="session")
def webhook_examples(shared_fixtures):
    return shared_fixtures / "github-webhooks" / "payload-examples" / "api.github.com"
