"""The handler contract: an `Event` (what GitHub told us) and a `Context` (what a handler may use).

Every handler has the signature `def on_x(event: Event, ctx: Context) -> None`. The Context carries
the installation's GitHub client, the settings, the repository-config loader (which reads
`.github/arborist.yml` at the base branch), a clock, metrics, a logger and, when the bot has a job
store, the job service and the throttle on replies to strangers. Every field is typed: a handler's
reader sees what it may call. Nothing here reads the environment or opens a connection.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.commands.throttle import ReplyThrottle
from bot.jobs.service import JobService
from bot.metrics import Metrics
from bot.settings import AppSettings
from lab.github.protocol import ClientFactory, GitHubClient

if TYPE_CHECKING:
    from schemas.repo_config import RepoConfig

LOG = logging.getLogger("arborist")


@dataclass(frozen=True)
class Event:
    """One webhook delivery, parsed: `repo` is "owner/name" ("" for events without a repository)."""

    name: str  # X-GitHub-Event, e.g. "pull_request"
    action: str | None  # payload["action"], None for events without one (push)
    delivery_id: str  # X-GitHub-Delivery
    payload: Mapping[str, Any]
    installation_id: int | None = None
    repo: str = ""

    @classmethod
    def from_delivery(cls, name: str, delivery_id: str, payload: Mapping[str, Any]) -> Event:
        """Build from the headers and the parsed body; tolerates payloads without the optional parts."""
        action = payload.get("action")
        installation = payload.get("installation")
        installation_id = installation.get("id") if isinstance(installation, Mapping) else None
        repository = payload.get("repository")
        repo = repository.get("full_name", "") if isinstance(repository, Mapping) else ""
        return cls(name=name, action=action if isinstance(action, str) else None, delivery_id=delivery_id,
                   payload=payload, installation_id=installation_id if isinstance(installation_id, int) else None,
                   repo=repo if isinstance(repo, str) else "")


@dataclass(frozen=True)
class LoadedConfig:
    """A repository's config and the problems found reading it (shown in the check run, never fatal)."""

    config: RepoConfig
    problems: tuple[str, ...] = ()


ConfigLoader = Callable[[str, str], LoadedConfig]  # (repo, base ref) -> config
__all__ = ["ClientFactory", "ConfigLoader", "Context", "Event", "LoadedConfig", "config_loader_for"]


def config_loader_for(github: GitHubClient) -> ConfigLoader:
    """A loader that reads `.github/arborist.yml` at the given ref (the PR's base, never its head)."""
    from lab.taxonomy.repoconfig import CONFIG_PATH, load_repo_config

    def load(repo: str, ref: str) -> LoadedConfig:
        config, problems = load_repo_config(github.get_file(repo, CONFIG_PATH, ref))
        return LoadedConfig(config, tuple(problems))

    return load


@dataclass
class Context:
    """What a handler may use; the server builds one per delivery, tests build one directly."""

    github: GitHubClient
    settings: AppSettings | None = None  # None in unit tests that do not need it
    config_loader: ConfigLoader | None = None
    clock: Callable[[], float] = time.time
    metrics: Metrics = field(default_factory=Metrics)
    log: logging.Logger = LOG
    jobs: JobService | None = None  # None when the bot runs without a job store
    replies: ReplyThrottle | None = None  # replies to strangers: one per PR per hour

    def __post_init__(self) -> None:
        if self.config_loader is None:
            self.config_loader = config_loader_for(self.github)

    def repo_config(self, repo: str, ref: str) -> LoadedConfig:
        """The repository config at `ref` (the base branch), defaults when absent or broken."""
        assert self.config_loader is not None
        return self.config_loader(repo, ref)
