"""Handlers ask GitHub only for what they declare: each runs against a client that has nothing else."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from bot.commands.guards import is_allowed, is_stranger
from bot.context import LoadedConfig
from bot.handlers.pull_request import ValidationClient, validate_pull
from bot.render.validation import CHECK_NAME, COMMENT_MARKER
from lab.github import protocol
from lab.github.protocol import GitHubClient, PermissionsClient, PullFile, PullRequest
from sandbox.fakes.github import FakeGitHub
from schemas.repo_config import RepoConfig
from tests.bot.taxonomy_data import ATTRIBUTION, ATTRIBUTION_PATH, SKILL_PATH, broken_skill

REPO = "octo/taxonomy"
NARROW = (protocol.PullsClient, protocol.ContentsClient, protocol.CommentsClient, protocol.ReactionsClient,
          protocol.LabelsClient, protocol.ChecksClient, protocol.PermissionsClient, protocol.ActionsClient)


def members(proto: type) -> set[str]:
    """The methods a Protocol declares (its own and its bases')."""
    return {name for name, _ in inspect.getmembers(proto, inspect.isfunction) if not name.startswith("_")}


class OnlyThese:
    """Exposes only the methods of `protos` from a full client; anything else is an AttributeError."""

    def __init__(self, inner: Any, *protos: type):
        self._inner, self._allowed = inner, set().union(*(members(p) for p in protos))

    def __getattr__(self, name: str) -> Any:
        if name not in self._allowed:
            raise AttributeError(f"{name} is not part of the narrow client")
        return getattr(self._inner, name)


def test_the_narrow_protocols_split_the_whole_client_without_overlap():
    parts = [members(p) for p in NARROW]
    assert sum(len(p) for p in parts) == len(set().union(*parts))
    assert set().union(*parts) == members(GitHubClient)
    assert members(ValidationClient) == members(GitHubClient) - members(protocol.ReactionsClient) \
        - members(protocol.PermissionsClient) - members(protocol.ActionsClient)


def test_validation_runs_on_a_client_with_only_pulls_contents_checks_comments_and_labels():
    gh = FakeGitHub()
    text, _ = broken_skill()
    gh.put_files(REPO, "head1", {SKILL_PATH: text, ATTRIBUTION_PATH: ATTRIBUTION})
    pull = gh.add_pull(REPO, PullRequest(7, "open", "head1", "b", "main", "base1", "newcomer"),
                       [PullFile(SKILL_PATH, "added"), PullFile(ATTRIBUTION_PATH, "added")])
    validate_pull(OnlyThese(gh, ValidationClient), LoadedConfig(RepoConfig()), REPO, pull, "d1")
    [run] = gh.check_runs(REPO, CHECK_NAME, "head1")
    assert run.conclusion == "failure" and run.annotations
    assert COMMENT_MARKER in gh.comments_on(REPO, 7)[0].body and gh.repo(REPO).labels[7] == ["skill"]


def test_the_narrow_wrapper_refuses_what_the_protocol_does_not_declare():
    narrow = OnlyThese(FakeGitHub(), protocol.ChecksClient)
    with pytest.raises(AttributeError, match="add_reaction is not part"):
        narrow.add_reaction(REPO, 1, "eyes")


def test_command_guards_need_only_permissions():
    gh = FakeGitHub()
    gh.set_permission(REPO, "maint", "maintain")
    gh.add_team_member("octo", "reviewers", "teamy")
    narrow = OnlyThese(gh, PermissionsClient)
    assert is_stranger(narrow, REPO, {"user": {"login": "drive-by"}})
    assert not is_stranger(narrow, REPO, {"user": {"login": "maint"}})
    allowed = ("write", "maintain", "admin")
    assert is_allowed(narrow, REPO, "teamy", allowed, ("octo/reviewers",))
    assert not is_allowed(narrow, REPO, "drive-by", allowed, ("octo/reviewers", "junk-without-slash"))
