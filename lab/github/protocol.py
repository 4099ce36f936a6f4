"""What the bot asks of GitHub, as narrow Protocols over plain dataclasses.

One small Protocol per area (pulls, contents, comments, reactions, labels, checks, permissions,
actions); `GitHubClient` is all of them, and code asks only for the parts it calls. The PyGithub
adapter implements them over real HTTP (its objects lazy-load, so it converts them to these
dataclasses at once); tests use the in-memory fake, and tests/contract holds both to one behaviour.
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


class PullsClient(Protocol):
    """Reading pull requests and the files they change."""

    def get_pull(self, repo: str, number: int) -> PullRequest: ...

    def list_pull_files(self, repo: str, number: int) -> list[PullFile]: ...


class ContentsClient(Protocol):
    """Reading a file of the repository at a ref (a branch or a SHA), as data."""

    def get_file(self, repo: str, path: str, ref: str) -> bytes | None:
        """File bytes at `ref`, or None when absent (404) or not a file."""
        ...


class CommentsClient(Protocol):
    """The conversation of an issue or pull request: list, create, edit (found again by a hidden marker)."""

    def list_comments(self, repo: str, number: int) -> list[Comment]: ...

    def create_comment(self, repo: str, number: int, body: str) -> Comment: ...

    def edit_comment(self, repo: str, comment_id: int, body: str) -> Comment: ...


class ReactionsClient(Protocol):
    """A reaction on a comment; the same reaction twice is one reaction."""

    def add_reaction(self, repo: str, comment_id: int, content: str) -> None: ...


class LabelsClient(Protocol):
    """Labels on an issue or pull request; adding one it has already is not an error."""

    def add_labels(self, repo: str, number: int, labels: list[str]) -> None: ...


class ChecksClient(Protocol):
    """Check runs on a commit; annotations accumulate across updates, 50 per request."""

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


class PermissionsClient(Protocol):
    """Who may do what: a collaborator's permission, a team's membership."""

    def get_collaborator_permission(self, repo: str, username: str) -> str:
        """'admin' | 'maintain' | 'write' | 'triage' | 'read' | 'none'."""
        ...

    def is_team_member(self, org: str, team_slug: str, username: str) -> bool: ...


class ActionsClient(Protocol):
    """GitHub Actions: start a workflow, stop a run."""

    def dispatch_workflow(self, repo: str, workflow: str, ref: str, inputs: dict[str, str]) -> WorkflowRunRef: ...

    def cancel_workflow_run(self, repo: str, run_id: int) -> None:
        """Ask GitHub to stop an Actions run; a run that already finished is not an error."""
        ...


class GitHubClient(PullsClient, ContentsClient, CommentsClient, ReactionsClient, LabelsClient, ChecksClient,
                   PermissionsClient, ActionsClient, Protocol):
    """One installation's view of GitHub: every narrow client above. Implementations retry 5xx and rate
    limits, with timeouts. Code that needs only a part asks for that part (e.g. a `ChecksClient`)."""


ClientFactory = Callable[[int | None], GitHubClient]  # installation id -> that installation's client
