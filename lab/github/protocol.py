"""What the bot asks of GitHub, as a narrow Protocol over plain dataclasses.

Handlers depend on this Protocol only. The PyGithub adapter implements it over real HTTP (its
objects lazy-load, so it converts them to these dataclasses at once); tests use the in-memory fake.
Every method is scoped to one repository, `repo` being "owner/name".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

CheckStatus = Literal["queued", "in_progress", "completed"]
CheckConclusion = Literal["success", "failure", "neutral", "cancelled", "skipped", "timed_out", "action_required"]
AnnotationLevel = Literal["notice", "warning", "failure"]


@dataclass(frozen=True)
class PullRequest:
    number: int
    state: str  # "open" | "closed"
    head_sha: str
    head_ref: str
    base_ref: str
    base_sha: str
    author: str
    author_is_bot: bool = False
    merged: bool = False
    draft: bool = False
    html_url: str = ""
    head_repo: str = ""  # "owner/name" of the head (a fork for fork PRs)


@dataclass(frozen=True)
class PullFile:
    filename: str
    status: str  # added | modified | removed | renamed | copied | changed | unchanged
    previous_filename: str | None = None


@dataclass(frozen=True)
class Comment:
    id: int
    body: str
    author: str
    html_url: str = ""


@dataclass(frozen=True)
class Annotation:
    path: str
    start_line: int
    end_line: int
    level: AnnotationLevel
    message: str
    title: str = ""
    start_column: int | None = None
    end_column: int | None = None
    raw_details: str = ""


@dataclass(frozen=True)
class CheckRunOutput:
    title: str
    summary: str
    text: str = ""
    annotations: tuple[Annotation, ...] = ()


@dataclass(frozen=True)
class CheckRun:
    id: int
    name: str
    head_sha: str
    status: CheckStatus
    conclusion: CheckConclusion | None = None
    html_url: str = ""
    details_url: str = ""


@dataclass(frozen=True)
class WorkflowRunRef:
    """What a workflow_dispatch call leaves us to follow: GitHub answers 204 with no run id."""

    workflow: str
    ref: str
    inputs: dict[str, str] = field(default_factory=dict)


class GitHubClient(Protocol):
    """One installation's view of GitHub. Implementations retry 5xx and rate limits, with timeouts."""

    def get_pull(self, repo: str, number: int) -> PullRequest: ...

    def list_pull_files(self, repo: str, number: int) -> list[PullFile]: ...

    def get_file(self, repo: str, path: str, ref: str) -> bytes | None:
        """File bytes at `ref`, or None when absent (404) or not a file."""
        ...

    def list_comments(self, repo: str, number: int) -> list[Comment]: ...

    def create_comment(self, repo: str, number: int, body: str) -> Comment: ...

    def edit_comment(self, repo: str, comment_id: int, body: str) -> Comment: ...

    def add_reaction(self, repo: str, comment_id: int, content: str) -> None: ...

    def add_labels(self, repo: str, number: int, labels: list[str]) -> None: ...

    def create_check_run(
        self,
        repo: str,
        name: str,
        head_sha: str,
        status: CheckStatus,
        output: CheckRunOutput | None = None,
        conclusion: CheckConclusion | None = None,
        details_url: str = "",
        external_id: str = "",
    ) -> CheckRun:
        """Create a check run; annotations beyond GitHub's 50 per request are sent by later updates."""
        ...

    def update_check_run(
        self,
        repo: str,
        check_run_id: int,
        status: CheckStatus | None = None,
        output: CheckRunOutput | None = None,
        conclusion: CheckConclusion | None = None,
        details_url: str = "",
    ) -> CheckRun: ...

    def get_collaborator_permission(self, repo: str, username: str) -> str:
        """'admin' | 'maintain' | 'write' | 'triage' | 'read' | 'none'."""
        ...

    def is_team_member(self, org: str, team_slug: str, username: str) -> bool: ...

    def dispatch_workflow(self, repo: str, workflow: str, ref: str, inputs: dict[str, str]) -> WorkflowRunRef: ...

    def cancel_workflow_run(self, repo: str, run_id: int) -> None:
        """Ask GitHub to stop an Actions run; a run that already finished is not an error."""
        ...


ClientFactory = Callable[[int | None], GitHubClient]  # installation id -> that installation's client
