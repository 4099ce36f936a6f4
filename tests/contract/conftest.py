"""The contract suite's worlds: each test that takes `github` runs once per GitHub model.

Against the stand-in, every successful exchange of the test is also checked against GitHub's OpenAPI
description when the shared fixtures are present, so the behaviour the fake is held to is GitHub's.
"""

from __future__ import annotations

import pytest

from tests.conftest import fixtures_root
from tests.contract.worlds import FakeWorld, StandinWorld

OPENAPI = "github-openapi"


@pytest.fixture(scope="session")
def app_key():
    from sandbox.standins.github import make_app_key

    return make_app_key()


def openapi_problems(log: list[dict]) -> list[str]:
    """Schema problems of the successful exchanges in `log` (refusals are requests GitHub rejects by design)."""
    from tests.bot.openapi_check import find_operation, load_spec, problems

    root = fixtures_root() / OPENAPI
    subset, full = root / "bot-subset.api.github.com.json", root / "api.github.com.json"
    found: list[str] = []
    for entry in log:
        if entry["status"] is None or entry["status"] >= 400:
            continue
        spec = load_spec(subset)
        if find_operation(spec, entry["method"], entry["path"]) is None:
            spec = load_spec(full)  # labels and team memberships are outside the bot's subset
        found += problems(spec, entry)
    return found


@pytest.fixture(params=["fake", "standin"])
def github(request, app_key):
    """A GitHub world: the in-memory fake, or the PyGithub adapter + HTTP stand-in."""
    world = FakeWorld() if request.param == "fake" else StandinWorld(app_key)
    try:
        yield world
    finally:
        world.close()
    if isinstance(world, StandinWorld) and (fixtures_root() / OPENAPI).is_dir():
        assert openapi_problems(world.state.log) == []
