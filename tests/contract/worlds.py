"""The two GitHubs the contract suite holds to one behaviour: the in-memory fake, and the PyGithub adapter
talking to the HTTP stand-in on loopback. Each world seeds the same situations its own way and reads back
what happened as the same plain data, so one test body runs against both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lab.github.protocol import GitHubClient
from sandbox.fakes.github import FakeGitHub

REPO = "octo/taxonomy"


@dataclass(frozen=True)
class SeenCheckRun:
    """A check run as GitHub holds it, whichever world it lives in."""

    id: int
    name: str
    head_sha: str
    status: str
    conclusion: str | None
    title: str
    summary: str
    text: str
    annotations: tuple[tuple[str, int, int, str, str], ...]  # path, start, end, level, message
    details_url: str
    external_id: str


class FakeWorld:
    """The in-memory fake; the client is the fake itself."""

    kind = "fake"

    def __init__(self) -> None:
        self.fake = FakeGitHub()
        self.client: GitHubClient = self.fake
        self.bot_login = self.fake.login

    def open_pull(self, base: dict[str, bytes | str], head: dict[str, bytes | str], author: str = "newcomer") -> int:
        return self.fake.open_pull(REPO, base, head, author=author, head_ref="leaf").number

    def person_comment(self, number: int, author: str, body: str) -> int:
        return self.fake.seed_comment(REPO, number, body, author).id

    def set_permission(self, login: str, role: str) -> None:
        self.fake.set_permission(REPO, login, role)

    def add_team_member(self, org: str, slug: str, login: str) -> None:
        self.fake.add_team_member(org, slug, login)

    def check_runs(self) -> list[SeenCheckRun]:
        return [SeenCheckRun(r.id, r.name, r.head_sha, r.status, r.conclusion, r.title, r.summary, r.text,
                             tuple((a.path, a.start_line, a.end_line, a.level, a.message) for a in r.annotations),
                             r.details_url, r.external_id) for r in self.fake.check_runs(REPO)]

    def labels(self, number: int) -> list[str]:
        return list(self.fake.repo(REPO).labels.get(number, []))

    def reactions(self, comment_id: int) -> list[str]:
        return [content for _, content in self.fake.repo(REPO).reactions.get(comment_id, [])]

    def dispatches(self) -> list[tuple[str, str, dict[str, str]]]:
        return [(d.workflow, d.ref, dict(d.inputs)) for d in self.fake.repo(REPO).dispatches]

    def cancelled_runs(self) -> list[int]:
        return list(self.fake.repo(REPO).cancelled_runs)

    def close(self) -> None:
        pass


class StandinWorld:
    """The PyGithub adapter with App auth, over HTTP, against the GitHub stand-in on a loopback port."""

    kind = "standin"

    def __init__(self, app_key: tuple[Any, str]):
        from lab.github.app_auth import AppAuth
        from lab.github.pygithub_client import PyGithubClient
        from lab.github.retry import RetryPolicy
        from sandbox.standins.github import GitHubState, serve_in_thread

        self.state = GitHubState(app_id=7, public_key_pem=app_key[1])
        self.state.add_installation(1)
        self.running = serve_in_thread(self.state)
        policy = RetryPolicy(sleep=lambda s: None, jitter=lambda: 0.5)
        auth = AppAuth(self.running.base_url, 7, app_key[0], policy=policy)
        self.client = PyGithubClient(self.running.base_url, lambda: auth.token(1), policy=policy)
        self.bot_login = self.state.bot_login
        self.state.add_repo(REPO)
        self._branches = 0

    def open_pull(self, base: dict[str, bytes | str], head: dict[str, bytes | str], author: str = "newcomer") -> int:
        self.state.commit(REPO, "main", base, "the base", whole_tree=True)
        self._branches += 1
        branch = f"leaf-{self._branches}" if self._branches > 1 else "leaf"
        self.state.commit(REPO, branch, head, "the contributor's change", whole_tree=True)
        return self.state.open_pull(REPO, branch, author=author)

    def person_comment(self, number: int, author: str, body: str) -> int:
        return int(self.state.add_comment(REPO, number, author, body)["id"])

    def set_permission(self, login: str, role: str) -> None:
        self.state.set_permission(REPO, login, role)

    def add_team_member(self, org: str, slug: str, login: str) -> None:
        self.state.add_team_member(org, slug, login)

    def check_runs(self) -> list[SeenCheckRun]:
        runs = sorted(self.state.check_runs(REPO), key=lambda r: r["id"])
        return [SeenCheckRun(r["id"], r["name"], r["head_sha"], r["status"], r["conclusion"], r["title"] or "",
                             r["summary"] or "", r["text"] or "",
                             tuple((a["path"], a["start_line"], a["end_line"], a["annotation_level"], a["message"])
                                   for a in r["annotations"]), r["details_url"] or "", r["external_id"] or "")
                for r in runs]

    def labels(self, number: int) -> list[str]:
        return self.state.labels(REPO, number)

    def reactions(self, comment_id: int) -> list[str]:
        with self.state.lock:
            return [r["content"] for r in self.state.repos[REPO].reactions.get(comment_id, [])]

    def dispatches(self) -> list[tuple[str, str, dict[str, str]]]:
        with self.state.lock:
            return [(d["workflow"], d["ref"], dict(d["inputs"])) for d in self.state.repos[REPO].dispatches]

    def cancelled_runs(self) -> list[int]:
        with self.state.lock:
            return list(self.state.repos[REPO].cancelled_runs)

    def close(self) -> None:
        self.running.stop()


World = FakeWorld | StandinWorld
