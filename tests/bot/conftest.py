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


@pytest.fixture(scope="session")
def app_key():
    from sandbox.standins.github import make_app_key

    return make_app_key()


@pytest.fixture
def standin(app_key):
    """The GitHub stand-in on a free loopback port, with App 7 installed as installation 1."""
    from sandbox.standins.github import GitHubState, serve_in_thread

    state = GitHubState(app_id=7, public_key_pem=app_key[1])
    state.add_installation(1)
    running = serve_in_thread(state)
    yield running
    running.stop()


@pytest.fixture
def no_sleep():
    """A retry policy that records its waits instead of sleeping."""
    from lab.github.retry import RetryPolicy

    waits: list[float] = []
    policy = RetryPolicy(sleep=waits.append, jitter=lambda: 0.5)
    policy.waits = waits  # type: ignore[attr-defined]
    return policy
