"""An in-memory GitHubClient for handler tests: seed it with plain data, then read what the bot did.

It implements the same Protocol as the PyGithub adapter, keeps every call in `calls`, and applies
GitHub's own rules where handlers depend on them (50 annotations per request, one reaction per
user and content, labels are a set), so a handler that works here works against the stand-in.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace

from lab.github.protocol import (
    Annotation,
    CheckConclusion,
    CheckRun,
    CheckRunOutput,
    CheckStatus,
    Comment,
    PullFile,
    PullRequest,
    WorkflowRunRef,
)

MAX_ANNOTATIONS_PER_REQUEST = 50  # GitHub rejects more in one create/update call
BOT_LOGIN = "arborist[bot]"


class FakeNotFound(LookupError):
    """Raised like a 404: the handler asked for something that was never seeded."""


@dataclass
class FakeCheckRun:
    """A check run as the fake stores it: annotations accumulate across updates, as on GitHub."""

    id: int
    name: str
    head_sha: str
    status: CheckStatus
    conclusion: CheckConclusion | None = None
    title: str = ""
    summary: str = ""
    text: str = ""
    annotations: list[Annotation] = field(default_factory=list)
    details_url: str = ""
    external_id: str = ""
    updates: int = 0

    def as_dataclass(self) -> CheckRun:
        return CheckRun(self.id, self.name, self.head_sha, self.status, self.conclusion,
                        html_url=f"https://github.test/check-runs/{self.id}", details_url=self.details_url)


@dataclass
class FakeRepo:
    """One repository's state: files per ref, pulls, comments, labels, checks, people."""

    files: dict[str, dict[str, bytes]] = field(default_factory=dict)  # ref -> path -> bytes
    pulls: dict[int, PullRequest] = field(default_factory=dict)
    pull_files: dict[int, list[PullFile]] = field(default_factory=dict)
    comments: dict[int, list[Comment]] = field(default_factory=dict)  # issue number -> comments
    reactions: dict[int, list[tuple[str, str]]] = field(default_factory=dict)  # comment id -> (user, content)
    labels: dict[int, list[str]] = field(default_factory=dict)
    check_runs: list[FakeCheckRun] = field(default_factory=list)
    permissions: dict[str, str] = field(default_factory=dict)
    dispatches: list[WorkflowRunRef] = field(default_factory=list)
    cancelled_runs: list[int] = field(default_factory=list)


class FakeGitHub:
    """In-memory GitHubClient. All state is public so tests can seed and inspect it directly."""

    def __init__(self, login: str = BOT_LOGIN):
        self.login = login
        self.repos: dict[str, FakeRepo] = {}
        self.teams: dict[tuple[str, str], set[str]] = {}  # (org, slug) -> members
        self.calls: list[tuple[str, tuple]] = []
        self._ids = itertools.count(1000)

    # ---- seeding -------------------------------------------------------------------------------
    def repo(self, repo: str) -> FakeRepo:
        return self.repos.setdefault(repo, FakeRepo())

    def put_files(self, repo: str, ref: str, files: dict[str, bytes | str]) -> None:
        """Set files at a ref (a branch name or a SHA); str values are UTF-8 encoded."""
        tree = self.repo(repo).files.setdefault(ref, {})
        for path, data in files.items():
            tree[path] = data.encode() if isinstance(data, str) else data

    def add_pull(self, repo: str, pull: PullRequest, files: list[PullFile] | None = None) -> PullRequest:
        state = self.repo(repo)
        state.pulls[pull.number] = pull
        state.pull_files[pull.number] = list(files or [])
        return pull

    def set_pull_head(self, repo: str, number: int, head_sha: str, files: list[PullFile] | None = None) -> None:
        """Simulate a push to the PR branch."""
        state = self.repo(repo)
        state.pulls[number] = replace(state.pulls[number], head_sha=head_sha)
        if files is not None:
            state.pull_files[number] = list(files)

    def set_permission(self, repo: str, username: str, permission: str) -> None:
        self.repo(repo).permissions[username] = permission

    def add_team_member(self, org: str, team_slug: str, username: str) -> None:
        self.teams.setdefault((org, team_slug), set()).add(username)

    def seed_comment(self, repo: str, number: int, body: str, author: str) -> Comment:
        comment = Comment(next(self._ids), body, author, f"https://github.test/{repo}/issues/{number}")
        self.repo(repo).comments.setdefault(number, []).append(comment)
        return comment

    # ---- inspection ------------------------------------------------------------------------------
    def check_runs(self, repo: str, name: str | None = None, head_sha: str | None = None) -> list[FakeCheckRun]:
        return [c for c in self.repo(repo).check_runs
                if (name is None or c.name == name) and (head_sha is None or c.head_sha == head_sha)]

    def comments_on(self, repo: str, number: int) -> list[Comment]:
        return list(self.repo(repo).comments.get(number, []))

    def count(self, method: str) -> int:
        return sum(1 for name, _ in self.calls if name == method)

    # ---- the Protocol ------------------------------------------------------------------------------
    def _pull(self, repo: str, number: int) -> PullRequest:
        try:
            return self.repos[repo].pulls[number]
        except KeyError:
            raise FakeNotFound(f"{repo}#{number}") from None

    def get_pull(self, repo: str, number: int) -> PullRequest:
        self.calls.append(("get_pull", (repo, number)))
        return self._pull(repo, number)

    def list_pull_files(self, repo: str, number: int) -> list[PullFile]:
        self.calls.append(("list_pull_files", (repo, number)))
        self._pull(repo, number)
        return list(self.repos[repo].pull_files.get(number, []))

    def get_file(self, repo: str, path: str, ref: str) -> bytes | None:
        self.calls.append(("get_file", (repo, path, ref)))
        return self.repo(repo).files.get(ref, {}).get(path)

    def list_comments(self, repo: str, number: int) -> list[Comment]:
        self.calls.append(("list_comments", (repo, number)))
        return self.comments_on(repo, number)

    def create_comment(self, repo: str, number: int, body: str) -> Comment:
        self.calls.append(("create_comment", (repo, number, body)))
        return self.seed_comment(repo, number, body, self.login)

    def edit_comment(self, repo: str, comment_id: int, body: str) -> Comment:
        self.calls.append(("edit_comment", (repo, comment_id, body)))
        for comments in self.repo(repo).comments.values():
            for i, comment in enumerate(comments):
                if comment.id == comment_id:
                    comments[i] = replace(comment, body=body)
                    return comments[i]
        raise FakeNotFound(f"comment {comment_id} in {repo}")

    def add_reaction(self, repo: str, comment_id: int, content: str) -> None:
        self.calls.append(("add_reaction", (repo, comment_id, content)))
        reactions = self.repo(repo).reactions.setdefault(comment_id, [])
        if (self.login, content) not in reactions:
            reactions.append((self.login, content))

    def add_labels(self, repo: str, number: int, labels: list[str]) -> None:
        self.calls.append(("add_labels", (repo, number, tuple(labels))))
        current = self.repo(repo).labels.setdefault(number, [])
        current.extend(label for label in labels if label not in current)

    def _apply_output(self, run: FakeCheckRun, output: CheckRunOutput | None) -> None:
        if output is None:
            return
        if len(output.annotations) > MAX_ANNOTATIONS_PER_REQUEST:
            raise ValueError(f"{len(output.annotations)} annotations in one request (GitHub allows 50)")
        run.title, run.summary, run.text = output.title, output.summary, output.text
        run.annotations.extend(output.annotations)

    def create_check_run(self, repo: str, name: str, head_sha: str, status: CheckStatus,
                         output: CheckRunOutput | None = None, conclusion: CheckConclusion | None = None,
                         details_url: str = "", external_id: str = "") -> CheckRun:
        self.calls.append(("create_check_run", (repo, name, head_sha, status)))
        run = FakeCheckRun(next(self._ids), name, head_sha, status, conclusion,
                           details_url=details_url, external_id=external_id)
        self._apply_output(run, output)
        self.repo(repo).check_runs.append(run)
        return run.as_dataclass()

    def update_check_run(self, repo: str, check_run_id: int, status: CheckStatus | None = None,
                         output: CheckRunOutput | None = None, conclusion: CheckConclusion | None = None,
                         details_url: str = "") -> CheckRun:
        self.calls.append(("update_check_run", (repo, check_run_id, status, conclusion)))
        for run in self.repo(repo).check_runs:
            if run.id == check_run_id:
                run.status = "completed" if conclusion else (status or run.status)
                run.conclusion = conclusion or run.conclusion
                run.details_url = details_url or run.details_url
                run.updates += 1
                self._apply_output(run, output)
                return run.as_dataclass()
        raise FakeNotFound(f"check run {check_run_id} in {repo}")

    def get_collaborator_permission(self, repo: str, username: str) -> str:
        self.calls.append(("get_collaborator_permission", (repo, username)))
        return self.repo(repo).permissions.get(username, "none")

    def is_team_member(self, org: str, team_slug: str, username: str) -> bool:
        self.calls.append(("is_team_member", (org, team_slug, username)))
        return username in self.teams.get((org, team_slug), set())

    def dispatch_workflow(self, repo: str, workflow: str, ref: str, inputs: dict[str, str]) -> WorkflowRunRef:
        self.calls.append(("dispatch_workflow", (repo, workflow, ref)))
        ref_obj = WorkflowRunRef(workflow, ref, dict(inputs))
        self.repo(repo).dispatches.append(ref_obj)
        return ref_obj

    def cancel_workflow_run(self, repo: str, run_id: int) -> None:
        self.calls.append(("cancel_workflow_run", (repo, run_id)))
        self.repo(repo).cancelled_runs.append(run_id)
