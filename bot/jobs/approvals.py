"""Maintainers' `/approve` of a pull request, remembered in the job store's SQLite file across restarts.

With `retrain.require_approval: true` a leaf a PR changed is trained on only when that PR is
approved. An approval names the commit it saw: a later push to the PR withdraws it (new content
needs a new look), while a merge keeps it. The retrain job is handed the approved PR numbers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.storage import SqliteFile

BUSY_TIMEOUT_S = 30.0  # how long a write waits for another process's transaction
MAX_APPROVED_LISTED = 5000  # the newest approvals handed to a retrain (its command line stays bounded)
SCHEMA = "CREATE TABLE IF NOT EXISTS approvals (repo TEXT NOT NULL, pr INTEGER NOT NULL, sha TEXT NOT NULL, " \
         "approved_by TEXT NOT NULL, approved_at REAL NOT NULL, PRIMARY KEY (repo, pr))"


@dataclass(frozen=True)
class Approval:
    repo: str
    pr: int
    sha: str  # the PR head the maintainer approved
    approved_by: str
    approved_at: float


class ApprovalStore:
    """Thread-safe (one connection, one lock); shares the jobs database file through SQLite locking."""

    def __init__(self, path: Path | str, clock: Callable[[], float] = time.time,
                 busy_timeout_s: float = BUSY_TIMEOUT_S):
        self.path, self.clock = Path(path), clock
        self._file = SqliteFile(self.path, busy_timeout_s, SCHEMA)

    def get(self, repo: str, pr: int) -> Approval | None:
        row = self._file.run("SELECT repo, pr, sha, approved_by, approved_at FROM approvals "
                             "WHERE repo = ? AND pr = ?", (repo, pr)).fetchone()
        return Approval(*row) if row else None

    def approve(self, repo: str, pr: int, sha: str, by: str) -> tuple[Approval, bool]:
        """Record the approval of `sha`; an approval of the same commit already there is returned with False."""
        existing = self.get(repo, pr)
        if existing is not None and existing.sha == sha:
            return existing, False
        self._file.run("INSERT OR REPLACE INTO approvals (repo, pr, sha, approved_by, approved_at) "
                       "VALUES (?, ?, ?, ?, ?)", (repo, pr, sha, by, self.clock()))
        approval = self.get(repo, pr)
        assert approval is not None
        return approval, True

    def withdraw(self, repo: str, pr: int, keep_sha: str) -> Approval | None:
        """A push to the PR: drop its approval unless it names the new head; returns what was dropped."""
        existing = self.get(repo, pr)
        if existing is None or existing.sha == keep_sha:
            return None
        self._file.run("DELETE FROM approvals WHERE repo = ? AND pr = ? AND sha = ?", (repo, pr, existing.sha))
        return existing

    def approved_prs(self, repo: str) -> list[int]:
        """The repository's approved PR numbers (the newest MAX_APPROVED_LISTED), ascending."""
        rows = self._file.run("SELECT pr FROM approvals WHERE repo = ? ORDER BY approved_at DESC, pr DESC LIMIT ?",
                              (repo, MAX_APPROVED_LISTED)).fetchall()
        return sorted(int(r[0]) for r in rows)

    def close(self) -> None:
        self._file.close()
