"""The GitHub stand-in's memory: repositories, commits, PRs, people, faults, behind one lock.

Tests and the demo seed it through `GitHubState`'s methods (never by writing its dicts), the routes
change it under `state.lock`, and anyone reads back what the bot did through the inspection methods.
Kept free of FastAPI so the seeding API can be used and tested without a server.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def now_iso(t: float | None = None) -> str:
    """GitHub's timestamp format, for `t` (seconds since the epoch) or now."""
    return datetime.fromtimestamp(time.time() if t is None else t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sha1_hex(*parts: bytes | str) -> str:
    """A stable id from the parts (commit SHAs, user ids, blob ids are all derived this way)."""
    h = hashlib.sha1()
    for p in parts:
        h.update(p.encode() if isinstance(p, str) else p)
    return h.hexdigest()


@dataclass
class Faults:
    """Fault switches; each applies to the next N API requests (seeding is direct, never faulted)."""

    errors: list[int] = field(default_factory=list)  # statuses to answer, one per request
    rate_limits: int = 0  # requests to answer 403 secondary rate limit
    retry_after: int = 1  # seconds, in the Retry-After header
    primary_rate_limits: int = 0  # requests to answer 403 with X-RateLimit-Remaining: 0
    delay: float = 0.0  # seconds before every answer
    delay_next: int = 0  # if > 0, the delay applies to this many requests only
    lost_answers: list[int] = field(default_factory=list)  # carry the request out, then answer this status


@dataclass
class Repo:
    full_name: str
    id: int
    default_branch: str = "main"
    private: bool = False
    branches: dict[str, str] = field(default_factory=dict)  # name -> sha
    commits: dict[str, dict[str, bytes]] = field(default_factory=dict)  # sha -> full tree
    commit_meta: dict[str, dict[str, Any]] = field(default_factory=dict)  # sha -> message, parent
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)  # id -> comment (with issue_number)
    reactions: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    labels: dict[int, list[str]] = field(default_factory=dict)
    check_runs: dict[int, dict[str, Any]] = field(default_factory=dict)
    collaborators: dict[str, str] = field(default_factory=dict)  # login -> role name
    dispatches: list[dict[str, Any]] = field(default_factory=list)
    cancelled_runs: list[int] = field(default_factory=list)


class GitHubState:
    """Everything the stand-in knows, behind one lock. Seed with the methods; inspect the attributes."""

    def __init__(self, app_id: int = 4242, public_key_pem: str | None = None, bot_login: str = "arborist[bot]"):
        self.app_id, self.public_key_pem, self.bot_login = app_id, public_key_pem, bot_login
        self.lock = threading.RLock()
        self.repos: dict[str, Repo] = {}
        self.teams: dict[tuple[str, str], set[str]] = {}
        self.installations: set[int] = set()
        self.tokens: dict[str, tuple[int, float]] = {}  # token -> (installation id, expiry)
        self.faults = Faults()
        self.faults_methods: tuple[str, ...] = ("POST",)
        self.log: list[dict[str, Any]] = []  # every request: method, path, route, status, body, response, ms
        self.changed = threading.Condition(self.lock)  # notified after every request: wait_until() sleeps on it
        self._ids = itertools.count(1_000_001)

    def next_id(self) -> int:
        return next(self._ids)

    def find_repo(self, owner: str, name: str) -> Repo | None:
        """The repository `owner/name`, or None (the routes answer 404); call under the lock."""
        return self.repos.get(f"{owner}/{name}")

    # ---- seeding ---------------------------------------------------------------------------------
    def add_installation(self, installation_id: int) -> None:
        with self.lock:
            self.installations.add(installation_id)

    def add_repo(self, full_name: str, default_branch: str = "main", files: dict[str, bytes | str] | None = None) -> Repo:
        with self.lock:
            repo = self.repos.setdefault(full_name, Repo(full_name, self.next_id(), default_branch))
            if default_branch not in repo.branches:
                self.commit(full_name, default_branch, files or {}, "initial commit")
            return repo

    def commit(self, repo_name: str, branch: str, files: Mapping[str, bytes | str | None], message: str = "update",
               base: str | None = None, *, sha: str | None = None, parent: str | None = None,
               whole_tree: bool = False) -> str:
        """Commit onto `branch` (created from `base` or the default branch); None deletes a file.

        `sha` names the commit (a real git SHA, so a clone of a real repository and the stand-in agree);
        `parent` records a parent other than the branch tip; `whole_tree`: `files` is the entire tree.
        """
        with self.lock:
            repo = self.repos[repo_name]
            tip = repo.branches.get(branch) or repo.branches.get(base or repo.default_branch)
            parent = parent or tip
            tree = dict(repo.commits.get(tip, {})) if tip and not whole_tree else {}
            for path, data in files.items():
                if data is None:
                    tree.pop(path, None)
                else:
                    tree[path] = data.encode() if isinstance(data, str) else data
            sha = sha or sha1_hex(parent or "", message, *sorted(f"{p}\0{sha1_hex(b)}" for p, b in tree.items()),
                                  str(self.next_id()))
            repo.commits[sha] = tree
            repo.commit_meta[sha] = {"message": message, "parent": parent, "date": now_iso()}
            repo.branches[branch] = sha
            return sha

    def open_pull(self, repo_name: str, head_branch: str, author: str = "contributor", base: str | None = None,
                  title: str = "Add a taxonomy leaf", author_type: str = "User") -> int:
        with self.lock:
            repo = self.repos[repo_name]
            number = max([0, *repo.pulls, *repo.labels]) + 1
            repo.pulls[number] = {"number": number, "state": "open", "title": title, "author": author,
                                  "author_type": author_type, "head_ref": head_branch,
                                  "base_ref": base or repo.default_branch, "merged": False, "draft": False,
                                  "created_at": now_iso(), "id": self.next_id()}
            return number

    def add_comment(self, repo_name: str, number: int, author: str, body: str,
                    author_type: str = "User") -> dict[str, Any]:
        """A person's comment on PR `number` (the bot's own arrive through the API); returns the stored comment."""
        with self.lock:
            repo = self.repos[repo_name]
            if number not in repo.pulls:
                raise KeyError(f"{repo_name} has no pull request #{number}")
            cid, now = self.next_id(), now_iso()
            comment = {"id": cid, "issue_number": number, "body": body, "author": author,
                       "author_type": author_type, "created_at": now, "updated_at": now, "edits": 0,
                       "association": "COLLABORATOR" if repo.collaborators.get(author) else "NONE"}
            repo.comments[cid] = comment
            return comment

    def merge_pull(self, repo_name: str, number: int, *, sha: str | None = None,
                   message: str | None = None) -> str:
        """Merge PR `number`: its base branch moves to the merge commit; the PR is closed and merged.

        A `sha` the stand-in already holds (a real merge commit, given with `commit(..., sha=...)`) is used
        as it is; otherwise the head's changes are committed onto the base (under `sha`, if given).
        """
        with self.lock:
            repo = self.repos[repo_name]
            pr = repo.pulls[number]
            if pr["state"] != "open":
                raise ValueError(f"{repo_name}#{number} is {pr['state']}, not open")
            if sha is not None and sha in repo.commits:
                repo.branches[pr["base_ref"]] = sha
            else:
                head = repo.commits[repo.branches[pr["head_ref"]]]
                changes = {f["filename"]: head.get(f["filename"]) for f in self.pull_files(repo_name, number)}
                sha = self.commit(repo_name, pr["base_ref"], changes,
                                  message or f"Merge pull request #{number} from {pr['head_ref']}", sha=sha)
            now = now_iso()
            pr.update(state="closed", merged=True, merged_at=now, closed_at=now, merge_commit_sha=sha)
            return sha

    def pull_files(self, repo_name: str, number: int) -> list[dict[str, Any]]:
        """The PR's changed files: its head tree against the base branch, as GitHub lists them."""
        with self.lock:
            repo = self.repos[repo_name]
            pr = repo.pulls[number]
            head = repo.commits[repo.branches[pr["head_ref"]]]
            base = repo.commits[repo.branches[pr["base_ref"]]]
            out = []
            for path in sorted(set(head) | set(base)):
                if path not in base:
                    status = "added"
                elif path not in head:
                    status = "removed"
                elif head[path] != base[path]:
                    status = "modified"
                else:
                    continue
                data = head.get(path, base.get(path, b""))
                lines = data.count(b"\n")
                out.append({"filename": path, "status": status, "sha": sha1_hex(data),
                            "additions": lines if status != "removed" else 0,
                            "deletions": lines if status == "removed" else 0, "changes": lines})
            return out

    def set_permission(self, repo_name: str, login: str, role: str) -> None:
        with self.lock:
            self.repos[repo_name].collaborators[login] = role

    def add_team_member(self, org: str, slug: str, login: str) -> None:
        with self.lock:
            self.teams.setdefault((org, slug), set()).add(login)

    # ---- faults ------------------------------------------------------------------------------------
    def fail_next(self, count: int, status: int = 502) -> None:
        with self.lock:
            self.faults.errors.extend([status] * count)

    def lose_next_answers(self, count: int, status: int = 502, methods: tuple[str, ...] = ("POST",)) -> None:
        """The next `count` repository requests with these methods are carried out, then answered `status`."""
        with self.lock:
            self.faults.lost_answers.extend([status] * count)
            self.faults_methods = methods

    def rate_limit_next(self, count: int, retry_after: int = 1, primary: bool = False) -> None:
        with self.lock:
            if primary:
                self.faults.primary_rate_limits += count
            else:
                self.faults.rate_limits += count
            self.faults.retry_after = retry_after

    def slow(self, seconds: float, count: int = 0) -> None:
        """Delay answers by `seconds` (the next `count` requests, or all when count is 0)."""
        with self.lock:
            self.faults.delay, self.faults.delay_next = seconds, count

    # ---- inspection -------------------------------------------------------------------------------
    def wait_until(self, predicate, timeout: float = 30.0) -> bool:
        """Block until predicate(state) is true (checked after each request), or the timeout passes."""
        with self.changed:
            return self.changed.wait_for(lambda: predicate(self), timeout)

    def comments(self, repo_name: str, number: int) -> list[dict[str, Any]]:
        with self.lock:
            return [c for c in self.repos[repo_name].comments.values() if c["issue_number"] == number]

    def check_runs(self, repo_name: str, head_sha: str | None = None, name: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [c for c in self.repos[repo_name].check_runs.values()
                    if (head_sha is None or c["head_sha"] == head_sha) and (name is None or c["name"] == name)]

    def labels(self, repo_name: str, number: int) -> list[str]:
        with self.lock:
            return list(self.repos[repo_name].labels.get(number, []))

    def head_sha(self, repo_name: str, branch: str) -> str:
        with self.lock:
            return self.repos[repo_name].branches[branch]
