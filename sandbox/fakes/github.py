"""An in-memory GitHubClient for handler tests: seed it with plain data, then read what the bot did.

It implements the same Protocol as the PyGithub adapter, keeps every call in `calls`, and applies
GitHub's rules as the HTTP stand-in does (404 for what does not exist, 403 for editing someone
else's comment, 422 for what GitHub rejects: 50 annotations per request, a completed check run
without a conclusion, an unknown reaction, an overlong comment; a refused request changes nothing).
tests/contract runs one suite against this fake and against the PyGithub adapter + stand-in, so the
two cannot drift apart.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field, replace

from lab.github.errors import Forbidden, GitHubError, NotFound, Refused
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
MAX_COMMENT_CHARS = 65536  # GitHub rejects longer comment bodies with 422
MAX_FILE_BYTES = 10 * 1024 * 1024  # the adapter's download cap (lab.github.pygithub_client.MAX_FILE_BYTES)
REACTIONS = frozenset({"+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"})
BOT_LOGIN = "arborist[bot]"
HTML_BASE = "https://github.test"


# The fake's errors are lab.github.errors' (one mapping with the adapter); these are the names tests use.
FakeError = GitHubError
FakeNotFound = NotFound
FakeForbidden = Forbidden
FakeRefused = Refused


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
    repo: str = ""

    def as_dataclass(self) -> CheckRun:
        return CheckRun(self.id, self.name, self.head_sha, self.status, self.conclusion,
                        html_url=f"{HTML_BASE}/{self.repo}/runs/{self.id}", details_url=self.details_url)


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


def changed_files(base: dict[str, bytes], head: dict[str, bytes]) -> list[PullFile]:
    """A PR's files as GitHub lists them: head against base, sorted by path; unchanged files left out."""
    out = []
    for path in sorted(set(base) | set(head)):
        if path not in base:
            out.append(PullFile(path, "added"))
        elif path not in head:
            out.append(PullFile(path, "removed"))
        elif base[path] != head[path]:
            out.append(PullFile(path, "modified"))
    return out


def _encoded(files: dict[str, bytes | str]) -> dict[str, bytes]:
    return {path: data.encode() if isinstance(data, str) else data for path, data in files.items()}


def _sha(*parts: object) -> str:
    return hashlib.sha1(repr(parts).encode()).hexdigest()


class FakeGitHub:
    """In-memory GitHubClient. All state is public so tests can seed and inspect it directly."""

    def __init__(self, login: str = BOT_LOGIN):
        self.login = login
        self.repos: dict[str, FakeRepo] = {}
        self.teams: dict[tuple[str, str], set[str]] = {}  # (org, slug) -> members
        self.calls: list[tuple[str, tuple[object, ...]]] = []
        self._ids = itertools.count(1000)

    # ---- seeding -------------------------------------------------------------------------------
    def repo(self, repo: str) -> FakeRepo:
        return self.repos.setdefault(repo, FakeRepo())

    def put_files(self, repo: str, ref: str, files: dict[str, bytes | str]) -> None:
        """Set files at a ref (a branch name or a SHA); str values are UTF-8 encoded."""
        self.repo(repo).files.setdefault(ref, {}).update(_encoded(files))

    def add_pull(self, repo: str, pull: PullRequest, files: list[PullFile] | None = None) -> PullRequest:
        state = self.repo(repo)
        state.pulls[pull.number] = pull
        state.pull_files[pull.number] = list(files or [])
        return pull

    def open_pull(self, repo: str, base_files: dict[str, bytes | str], head_files: dict[str, bytes | str], *,
                  author: str = "contributor", head_ref: str = "topic", base_ref: str = "main") -> PullRequest:
        """A PR as GitHub would show it: `head_files` is the head's whole tree, the changed files are computed.

        Both trees are readable at their branch name and at their SHA.
        """
        state = self.repo(repo)
        number = max([0, *state.pulls]) + 1
        base, head = _encoded(base_files), _encoded(head_files)
        base_sha, head_sha = _sha(repo, base_ref, sorted(base.items())), _sha(repo, number, sorted(head.items()))
        for ref, tree in ((base_ref, base), (base_sha, base), (head_ref, head), (head_sha, head)):
            state.files[ref] = dict(tree)
        pull = PullRequest(number, "open", head_sha, head_ref, base_ref, base_sha, author,
                           html_url=f"{HTML_BASE}/{repo}/pull/{number}", head_repo=repo)
        return self.add_pull(repo, pull, changed_files(base, head))

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

    def seed_comment(self, repo: str, number: int, body: str, author: str, comment_id: int | None = None) -> Comment:
        """A comment on issue or PR `number` (a person's, or under a known id: one a webhook named)."""
        cid = next(self._ids) if comment_id is None else comment_id
        comment = Comment(cid, body, author, f"{HTML_BASE}/{repo}/pull/{number}#issuecomment-{cid}")
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

    # ---- the Protocol: pulls, contents ---------------------------------------------------------------
    def _pull(self, repo: str, number: int) -> PullRequest:
        try:
            return self.repos[repo].pulls[number]
        except KeyError:
            raise NotFound(f"{repo}#{number}") from None

    def get_pull(self, repo: str, number: int) -> PullRequest:
        self.calls.append(("get_pull", (repo, number)))
        return self._pull(repo, number)

    def list_pull_files(self, repo: str, number: int) -> list[PullFile]:
        self.calls.append(("list_pull_files", (repo, number)))
        self._pull(repo, number)
        return list(self.repos[repo].pull_files.get(number, []))

    def get_file(self, repo: str, path: str, ref: str) -> bytes | None:
        """As the adapter reads: None when absent, and a file over the download cap is not read."""
        self.calls.append(("get_file", (repo, path, ref)))
        data = self.repo(repo).files.get(ref, {}).get(path)
        if data is not None and len(data) > MAX_FILE_BYTES:
            return b"\0" * (MAX_FILE_BYTES + 1)
        return data

    # ---- comments, reactions, labels -----------------------------------------------------------------
    def list_comments(self, repo: str, number: int) -> list[Comment]:
        self.calls.append(("list_comments", (repo, number)))
        return self.comments_on(repo, number)

    def create_comment(self, repo: str, number: int, body: str) -> Comment:
        self.calls.append(("create_comment", (repo, number, body)))
        if len(body) > MAX_COMMENT_CHARS:
            raise Refused(f"Body is too long (maximum is {MAX_COMMENT_CHARS} characters)")
        self._pull(repo, number)
        return self.seed_comment(repo, number, body, self.login)

    def _comment(self, repo: str, comment_id: int) -> tuple[list[Comment], int]:
        for comments in self.repo(repo).comments.values():
            for i, comment in enumerate(comments):
                if comment.id == comment_id:
                    return comments, i
        raise NotFound(f"comment {comment_id} in {repo}")

    def edit_comment(self, repo: str, comment_id: int, body: str) -> Comment:
        self.calls.append(("edit_comment", (repo, comment_id, body)))
        comments, i = self._comment(repo, comment_id)
        if comments[i].author != self.login:
            raise Forbidden("Resource not accessible by integration")
        comments[i] = replace(comments[i], body=body)
        return comments[i]

    def add_reaction(self, repo: str, comment_id: int, content: str) -> None:
        self.calls.append(("add_reaction", (repo, comment_id, content)))
        if content not in REACTIONS:
            raise Refused(f"{content!r} is not a reaction")
        self._comment(repo, comment_id)
        reactions = self.repo(repo).reactions.setdefault(comment_id, [])
        if (self.login, content) not in reactions:
            reactions.append((self.login, content))

    def add_labels(self, repo: str, number: int, labels: list[str]) -> None:
        self.calls.append(("add_labels", (repo, number, tuple(labels))))
        self._pull(repo, number)
        current = self.repo(repo).labels.setdefault(number, [])
        current.extend(label for label in labels if label not in current)

    # ---- check runs ------------------------------------------------------------------------------------
    @staticmethod
    def _apply(run: FakeCheckRun, status: CheckStatus | None, output: CheckRunOutput | None,
               conclusion: CheckConclusion | None, details_url: str) -> FakeCheckRun:
        """`run` after one create/update request, as a new object; Refused where GitHub answers 422."""
        if output is not None and len(output.annotations) > MAX_ANNOTATIONS_PER_REQUEST:
            raise Refused(f"{len(output.annotations)} annotations in one request (GitHub allows 50)")
        new_status: CheckStatus = "completed" if conclusion else (status or run.status)
        if new_status == "completed" and (conclusion or run.conclusion) is None:
            raise Refused("conclusion is required when status is completed")
        after = replace(run, status=new_status, conclusion=conclusion or run.conclusion,
                        details_url=details_url or run.details_url, annotations=list(run.annotations))
        if output is not None:
            after.title, after.summary, after.text = output.title, output.summary, output.text
            after.annotations.extend(output.annotations)
        return after

    def create_check_run(self, repo: str, name: str, head_sha: str, status: CheckStatus,
                         output: CheckRunOutput | None = None, conclusion: CheckConclusion | None = None,
                         details_url: str = "", external_id: str = "") -> CheckRun:
        self.calls.append(("create_check_run", (repo, name, head_sha, status)))
        blank = FakeCheckRun(next(self._ids), name, head_sha, "queued", external_id=external_id, repo=repo)
        run = self._apply(blank, status, output, conclusion, details_url)
        self.repo(repo).check_runs.append(run)
        return run.as_dataclass()

    def update_check_run(self, repo: str, check_run_id: int, status: CheckStatus | None = None,
                         output: CheckRunOutput | None = None, conclusion: CheckConclusion | None = None,
                         details_url: str = "") -> CheckRun:
        self.calls.append(("update_check_run", (repo, check_run_id, status, conclusion)))
        runs = self.repo(repo).check_runs
        for i, run in enumerate(runs):
            if run.id == check_run_id:
                runs[i] = self._apply(run, status, output, conclusion, details_url)
                runs[i].updates += 1
                return runs[i].as_dataclass()
        raise NotFound(f"check run {check_run_id} in {repo}")

    # ---- people, actions -------------------------------------------------------------------------------
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
