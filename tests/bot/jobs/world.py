"""A small world for job and command tests: the in-memory GitHub fake, a job store, webhook payloads."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.commands.throttle import ReplyThrottle
from bot.context import Context, Event
from bot.jobs.service import JobService
from bot.jobs.settings import JobSettings
from bot.jobs.store import JobStore
from lab.github.protocol import Comment, PullRequest
from sandbox.fakes.github import FakeGitHub, FakeNotFound

REPO = "acme/taxonomy"
PR = 7
HEAD = "a" * 40
NEW_HEAD = "b" * 40
MAINTAINER = "maya"
STRANGER = "sam"
INSTALLATION = 42
_ids = itertools.count(5000)
WEBHOOK_COMMENTS: dict[int, tuple[int, str, str]] = {}  # comment id -> (number, body, author) of payloads built here


class WorldGitHub(FakeGitHub):
    """The fake, plus the comments that this module's webhook payloads name: on GitHub a comment exists
    before its webhook is sent, so reacting to it works, as it does against the stand-in. They are kept
    apart from `comments_on`, which shows what was seeded and what the bot wrote."""

    def _comment(self, repo: str, comment_id: int):
        try:
            return super()._comment(repo, comment_id)
        except FakeNotFound:
            if repo != REPO or comment_id not in WEBHOOK_COMMENTS:
                raise
            number, body, author = WEBHOOK_COMMENTS[comment_id]
            return [Comment(comment_id, body, author, f"https://github.test/{REPO}/pull/{number}")], 0


@dataclass
class World:
    github: FakeGitHub
    service: JobService
    ctx: Context
    settings: JobSettings

    @property
    def store(self) -> JobStore:
        return self.service.store

    def status_comments(self) -> list:
        return [c for c in self.github.comments_on(REPO, PR) if "arborist:status" in c.body]

    def replies(self) -> list:
        return [c for c in self.github.comments_on(REPO, PR)
                if c.author == self.github.login and "arborist:status" not in c.body]


def add_pull(github: FakeGitHub, number: int) -> None:
    github.add_pull(REPO, PullRequest(number=number, state="open", head_sha=HEAD, head_ref="feature", base_ref="main",
                                      base_sha="c" * 40, author="contributor", head_repo="fork/taxonomy",
                                      html_url=f"https://github.test/{REPO}/pull/{number}"))


def make_world(tmp_path: Path, executor: str = "local", config: str | None = None, **settings: Any) -> World:
    github = WorldGitHub()
    add_pull(github, PR)
    github.set_permission(REPO, MAINTAINER, "maintain")
    github.set_permission(REPO, STRANGER, "read")
    if config is not None:
        github.put_files(REPO, "main", {".github/arborist.yml": config})
    job_settings = JobSettings(executor=executor, data_dir=tmp_path / "data", **settings)
    service = JobService(JobStore(job_settings.db_path), job_settings)
    replies = ReplyThrottle(job_settings.data_dir / "replies.sqlite3")
    return World(github, service, Context(github=github, jobs=service, replies=replies), job_settings)


def comment_payload(body: str, author: str = MAINTAINER, *, comment_id: int | None = None, number: int = PR,
                    state: str = "open", on_pr: bool = True, user_type: str = "User") -> dict[str, Any]:
    issue: dict[str, Any] = {"number": number, "state": state, "title": "Add a leaf", "user": {"login": "contributor"}}
    if on_pr:
        issue["pull_request"] = {"url": f"https://api.github.com/repos/{REPO}/pulls/{number}"}
    cid = comment_id or next(_ids)
    WEBHOOK_COMMENTS[cid] = (number, body, author)
    return {"action": "created", "issue": issue,
            "comment": {"id": cid, "body": body, "user": {"login": author, "type": user_type}},
            "repository": {"full_name": REPO, "default_branch": "main"}, "installation": {"id": INSTALLATION}}


def comment_event(body: str, author: str = MAINTAINER, action: str = "created", **kwargs: Any) -> Event:
    payload = comment_payload(body, author, **kwargs)
    payload["action"] = action
    return Event.from_delivery("issue_comment", f"d-{next(_ids)}", payload)


def synchronize_event(new_sha: str = NEW_HEAD) -> Event:
    payload = {"action": "synchronize", "number": PR, "after": new_sha,
               "pull_request": {"number": PR, "head": {"sha": new_sha}, "state": "open"},
               "repository": {"full_name": REPO}, "installation": {"id": INSTALLATION}}
    return Event.from_delivery("pull_request", f"d-{next(_ids)}", payload)


def push_event(after: str, ref: str = "refs/heads/main", message: str = "Merge pull request #7 from fork/feature") -> Event:
    payload = {"ref": ref, "after": after, "before": "0" * 39 + "1", "deleted": False,
               "commits": [{"id": after, "message": message}],
               "repository": {"full_name": REPO, "default_branch": "main"}, "installation": {"id": INSTALLATION}}
    return Event.from_delivery("push", f"d-{next(_ids)}", payload)
