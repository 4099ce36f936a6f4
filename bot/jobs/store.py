"""The durable job store: one SQLite file (WAL) shared by the bot and its workers.

Every change is one short `BEGIN IMMEDIATE` transaction, so several processes can enqueue, claim
and finish jobs at once. A claim writes a lease (owner + expiry) that the worker renews; every later
write by that worker is fenced on the lease owner, so a worker whose lease was taken over can never
finish the job a second time. Expired leases are reaped: the job goes back to the queue while it
has attempts left, and fails otherwise. A file still locked after the busy timeout raises
`bot.storage.StoreBusy` (a transient failure: the caller says so and a redelivery tries again).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.jobs.model import ACTIVE, CANCELLED, FAILED, FINAL, KINDS, QUEUED, RUNNING, Job
from bot.storage import SqliteFile

BUSY_TIMEOUT_MS = 30_000  # how long a writer waits for another process's transaction
SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL, repo TEXT NOT NULL, pr INTEGER, sha TEXT NOT NULL,
    args TEXT NOT NULL DEFAULT '{}', requested_by TEXT NOT NULL DEFAULT '', installation_id INTEGER,
    dedupe_key TEXT UNIQUE,
    state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, max_attempts INTEGER NOT NULL DEFAULT 3,
    lease_owner TEXT, lease_expires REAL, cancel_requested INTEGER NOT NULL DEFAULT 0,
    reason TEXT NOT NULL DEFAULT '', progress TEXT NOT NULL DEFAULT '', fraction REAL,
    result_title TEXT NOT NULL DEFAULT '', result_md TEXT NOT NULL DEFAULT '',
    log_url TEXT NOT NULL DEFAULT '', artifacts_url TEXT NOT NULL DEFAULT '',
    status_comment_id INTEGER, check_run_id INTEGER, run_id INTEGER,
    created_at REAL NOT NULL, updated_at REAL NOT NULL, started_at REAL, finished_at REAL
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state, id);
CREATE INDEX IF NOT EXISTS jobs_pr ON jobs (repo, pr, id);
CREATE TABLE IF NOT EXISTS pr_status (
    repo TEXT NOT NULL, pr INTEGER NOT NULL, comment_id INTEGER NOT NULL, PRIMARY KEY (repo, pr)
);
"""
ADMITTED, SEEN, SAME, PR_FULL, USER_FULL = "admitted", "seen", "same", "pr-full", "user-full"
UPDATABLE = {"progress", "fraction", "log_url", "artifacts_url", "status_comment_id", "check_run_id", "run_id",
             "result_title", "result_md", "reason"}


class JobStore:
    """Thread-safe within a process (one connection, one lock), process-safe through SQLite locking."""

    def __init__(self, path: Path | str, clock: Callable[[], float] = time.time,
                 busy_timeout_s: float = BUSY_TIMEOUT_MS / 1000):
        self.path = Path(path)
        self.clock = clock
        self._file = SqliteFile(self.path, busy_timeout_s, SCHEMA)
        self._lock, self._db = self._file.lock, self._file.db  # reads: the connection under its lock
        self._tx = self._file.transaction  # writes: one BEGIN IMMEDIATE transaction each
        self._db.row_factory = sqlite3.Row

    def close(self) -> None:
        self._file.close()

    def _get(self, db: sqlite3.Connection, job_id: int) -> Job:
        row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise KeyError(f"no job {job_id}")
        return Job.from_row(row)

    # ---- reading ---------------------------------------------------------------------------------
    def get(self, job_id: int) -> Job:
        with self._lock:
            return self._get(self._db, job_id)

    def jobs(self, state: str | None = None, repo: str | None = None, pr: int | None = None,
             kind: str | None = None) -> list[Job]:
        query, params = "SELECT * FROM jobs WHERE 1=1", []
        for column, value in (("state", state), ("repo", repo), ("pr", pr), ("kind", kind)):
            if value is not None:
                query += f" AND {column} = ?"
                params.append(value)
        with self._lock:
            return [Job.from_row(r) for r in self._db.execute(query + " ORDER BY id", params)]

    def recent(self, limit: int, kind: str | None = None) -> list[Job]:
        """The newest finished jobs (of `kind`), newest first: bounded, for the status page."""
        query, params = f"SELECT * FROM jobs WHERE state IN ({','.join('?' * len(FINAL))})", list(FINAL)
        if kind is not None:
            query, params = query + " AND kind = ?", [*params, kind]
        with self._lock:
            return [Job.from_row(r) for r in self._db.execute(query + " ORDER BY id DESC LIMIT ?", [*params, limit])]

    def queue_position(self, job_id: int) -> int | None:
        """1 for the next job a worker will claim; None when the job is not queued."""
        with self._lock:
            job = self._get(self._db, job_id)
            if job.state != QUEUED:
                return None
            (ahead,) = self._db.execute("SELECT COUNT(*) FROM jobs WHERE state = ? AND id < ?",
                                        (QUEUED, job_id)).fetchone()
            return int(ahead) + 1

    def pr_comment(self, repo: str, pr: int) -> int | None:
        with self._lock:
            row = self._db.execute("SELECT comment_id FROM pr_status WHERE repo = ? AND pr = ?", (repo, pr)).fetchone()
            return int(row[0]) if row else None

    def set_pr_comment(self, repo: str, pr: int, comment_id: int) -> None:
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO pr_status (repo, pr, comment_id) VALUES (?, ?, ?)", (repo, pr, comment_id))

    # ---- writing ---------------------------------------------------------------------------------
    def enqueue(self, kind: str, repo: str, sha: str, *, pr: int | None = None, args: dict[str, Any] | None = None,
                requested_by: str = "", installation_id: int | None = None, dedupe_key: str | None = None,
                max_attempts: int = 3) -> tuple[Job, bool]:
        """Add a queued job; with a `dedupe_key` already used, return that job and False instead."""
        if kind not in KINDS:
            raise ValueError(f"unknown job kind {kind!r}")
        with self._tx() as db:
            if dedupe_key is not None:
                row = db.execute("SELECT id FROM jobs WHERE dedupe_key = ?", (dedupe_key,)).fetchone()
                if row is not None:
                    return self._get(db, row[0]), False
            return self._insert(db, kind, repo, sha, pr, args, requested_by, installation_id, dedupe_key,
                                max_attempts), True

    def _insert(self, db: sqlite3.Connection, kind: str, repo: str, sha: str, pr: int | None,
                args: dict[str, Any] | None, requested_by: str, installation_id: int | None, dedupe_key: str | None,
                max_attempts: int) -> Job:
        now = self.clock()
        cur = db.execute(
            "INSERT INTO jobs (kind, repo, pr, sha, args, requested_by, installation_id, dedupe_key, state,"
            " max_attempts, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (kind, repo, pr, sha, json.dumps(args or {}, sort_keys=True), requested_by, installation_id,
             dedupe_key, QUEUED, max_attempts, now, now))
        return self._get(db, int(cur.lastrowid or 0))

    def admit(self, kind: str, repo: str, sha: str, *, pr: int, args: dict[str, Any], requested_by: str,
              dedupe_key: str, per_pr: int, per_user: int, installation_id: int | None = None,
              max_attempts: int = 3) -> tuple[str, Job | None]:
        """Enqueue a command's job unless it is a redelivery (SEEN), the same as an active job on this PR
        and commit (SAME), or over the PR's or the user's limit of active jobs (PR_FULL, USER_FULL)."""
        wanted = json.loads(json.dumps(args, sort_keys=True))
        with self._tx() as db:
            row = db.execute("SELECT id FROM jobs WHERE dedupe_key = ?", (dedupe_key,)).fetchone()
            if row is not None:
                return SEEN, self._get(db, row[0])
            active = [Job.from_row(r) for r in db.execute(
                "SELECT * FROM jobs WHERE kind = ? AND state IN (?, ?) AND ((repo = ? AND pr = ?) OR requested_by = ?)"
                " ORDER BY id", (kind, *ACTIVE, repo, pr, requested_by))]
            on_pr = [j for j in active if j.repo == repo and j.pr == pr]
            same = next((j for j in on_pr if j.sha == sha and j.args == wanted), None)
            if same is not None:
                return SAME, same
            if len(on_pr) >= per_pr:
                return PR_FULL, None
            if sum(j.requested_by == requested_by for j in active) >= per_user:
                return USER_FULL, None
            return ADMITTED, self._insert(db, kind, repo, sha, pr, args, requested_by, installation_id, dedupe_key,
                                          max_attempts)

    def enqueue_coalescing(self, kind: str, repo: str, sha: str, *, args: dict[str, Any] | None = None,
                           installation_id: int | None = None, max_attempts: int = 3,
                           replace: tuple[str, ...] = ()) -> tuple[Job, bool]:
        """One queued job of `kind` per repo: a newer SHA replaces the queued one's (returns it, False).
        List arguments are unioned with the queued job's, except the keys in `replace` (taken as given)."""
        now = self.clock()
        with self._tx() as db:
            row = db.execute("SELECT * FROM jobs WHERE kind = ? AND repo = ? AND state = ? ORDER BY id DESC LIMIT 1",
                             (kind, repo, QUEUED)).fetchone()
            if row is not None:
                merged = json.loads(row["args"] or "{}")
                for key, value in (args or {}).items():
                    if isinstance(value, list) and key not in replace:
                        merged[key] = sorted(set(merged.get(key, [])) | set(value))
                    else:
                        merged[key] = value
                db.execute("UPDATE jobs SET sha = ?, args = ?, updated_at = ? WHERE id = ?",
                           (sha, json.dumps(merged, sort_keys=True), now, row["id"]))
                return self._get(db, row["id"]), False
            cur = db.execute(
                "INSERT INTO jobs (kind, repo, sha, args, installation_id, state, max_attempts, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (kind, repo, sha, json.dumps(args or {}, sort_keys=True), installation_id, QUEUED, max_attempts,
                 now, now))
            return self._get(db, int(cur.lastrowid or 0)), True

    def update(self, job_id: int, **values: Any) -> Job:
        """Set bookkeeping fields (links, GitHub ids, progress) that do not change the state."""
        unknown = set(values) - UPDATABLE
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        with self._tx() as db:
            if values:
                sets = ", ".join(f"{k} = ?" for k in values)
                db.execute(f"UPDATE jobs SET {sets}, updated_at = ? WHERE id = ?",
                           (*values.values(), self.clock(), job_id))
            return self._get(db, job_id)

    def reap_expired(self) -> list[Job]:
        """Running jobs whose lease ran out: requeued with attempts left, else failed (or cancelled)."""
        now = self.clock()
        changed = []
        with self._tx() as db:
            rows = db.execute("SELECT * FROM jobs WHERE state = ? AND lease_expires < ?", (RUNNING, now)).fetchall()
            for row in rows:
                job = Job.from_row(row)
                if job.cancel_requested:
                    state, reason = CANCELLED, job.reason or "cancelled while its worker was gone"
                elif job.attempts >= job.max_attempts:
                    state, reason = FAILED, f"its worker stopped answering {job.attempts} times; giving up"
                else:
                    state, reason = QUEUED, f"its worker stopped answering (attempt {job.attempts})"
                finished = now if state != QUEUED else None
                db.execute("UPDATE jobs SET state = ?, reason = ?, lease_owner = NULL, lease_expires = NULL,"
                           " progress = '', fraction = NULL, updated_at = ?, finished_at = ? WHERE id = ?",
                           (state, reason, now, finished, job.id))
                changed.append(self._get(db, job.id))
        return changed

    def claim(self, owner: str, lease_s: float, kinds: tuple[str, ...] = KINDS) -> Job | None:
        """Take the oldest queued job of these kinds: running, leased to `owner`, one more attempt."""
        now = self.clock()
        marks = ",".join("?" * len(kinds))
        with self._tx() as db:
            row = db.execute(f"SELECT id FROM jobs WHERE state = ? AND kind IN ({marks}) ORDER BY id LIMIT 1",
                             (QUEUED, *kinds)).fetchone()
            if row is None:
                return None
            db.execute("UPDATE jobs SET state = ?, lease_owner = ?, lease_expires = ?, attempts = attempts + 1,"
                       " started_at = ?, updated_at = ?, progress = '', fraction = NULL WHERE id = ?",
                       (RUNNING, owner, now + lease_s, now, now, row[0]))
            return self._get(db, row[0])

    def heartbeat(self, job_id: int, owner: str, lease_s: float) -> Job | None:
        """Extend the lease; None when the job is no longer ours (reaped and claimed elsewhere)."""
        now = self.clock()
        with self._tx() as db:
            cur = db.execute("UPDATE jobs SET lease_expires = ?, updated_at = ? WHERE id = ? AND state = ?"
                             " AND lease_owner = ?", (now + lease_s, now, job_id, RUNNING, owner))
            return self._get(db, job_id) if cur.rowcount == 1 else None

    def set_progress(self, job_id: int, owner: str, text: str, fraction: float | None) -> Job | None:
        with self._tx() as db:
            cur = db.execute("UPDATE jobs SET progress = ?, fraction = ?, updated_at = ? WHERE id = ? AND state = ?"
                             " AND lease_owner = ?", (text[:500], fraction, self.clock(), job_id, RUNNING, owner))
            return self._get(db, job_id) if cur.rowcount == 1 else None

    def finish(self, job_id: int, owner: str | None, state: str, *, reason: str = "", result_title: str = "",
               result_md: str = "", artifacts_url: str = "", log_url: str | None = None) -> Job | None:
        """Move a running job to a final state; fenced on the lease owner (None: the actions executor)."""
        if state not in FINAL:
            raise ValueError(f"{state!r} is not a final state")
        now = self.clock()
        owner_clause = "lease_owner = ?" if owner is not None else "lease_owner IS NULL"
        with self._tx() as db:
            params: tuple[Any, ...] = (state, reason, result_title, result_md, artifacts_url, now, now)
            log_set = ""
            if log_url is not None:
                log_set, params = ", log_url = ?", (*params, log_url)
            cur = db.execute(
                "UPDATE jobs SET state = ?, reason = ?, result_title = ?, result_md = ?, artifacts_url = ?,"
                f" lease_owner = NULL, lease_expires = NULL, finished_at = ?, updated_at = ?{log_set}"
                f" WHERE id = ? AND state IN (?, ?) AND {owner_clause}",
                (*params, job_id, RUNNING, QUEUED if owner is None else RUNNING,
                 *((owner,) if owner is not None else ())))
            return self._get(db, job_id) if cur.rowcount == 1 else None

    def release(self, job_id: int, owner: str, reason: str) -> Job | None:
        """A worker shutting down gives its job back: queued again, the attempt not counted."""
        return self._back_to_queue(job_id, owner, reason, count_attempt=False)

    def requeue(self, job_id: int, owner: str, reason: str) -> Job | None:
        """An attempt lost to the infrastructure (not the step's own failure): queued again, the attempt
        counted; fenced on the lease. The caller fails the job instead when no attempts are left."""
        return self._back_to_queue(job_id, owner, reason, count_attempt=True)

    def _back_to_queue(self, job_id: int, owner: str, reason: str, *, count_attempt: bool) -> Job | None:
        """Running and leased to `owner` -> queued, lease and progress cleared; None when the lease is not `owner`'s."""
        uncount = "" if count_attempt else " attempts = MAX(attempts - 1, 0),"
        now = self.clock()
        with self._tx() as db:
            cur = db.execute(f"UPDATE jobs SET state = ?,{uncount} reason = ?, lease_owner = NULL, lease_expires = NULL,"
                             " progress = '', fraction = NULL, updated_at = ? WHERE id = ? AND state = ?"
                             " AND lease_owner = ?", (QUEUED, reason, now, job_id, RUNNING, owner))
            return self._get(db, job_id) if cur.rowcount == 1 else None

    def start_external(self, job_id: int, run_id: int | None, log_url: str = "") -> Job | None:
        """The actions executor saw the workflow start: queued -> running, no lease (GitHub runs it)."""
        now = self.clock()
        with self._tx() as db:
            cur = db.execute("UPDATE jobs SET state = ?, attempts = attempts + 1, started_at = ?, updated_at = ?,"
                             " run_id = COALESCE(?, run_id), log_url = CASE WHEN ? = '' THEN log_url ELSE ? END"
                             " WHERE id = ? AND state = ?", (RUNNING, now, now, run_id, log_url, log_url, job_id, QUEUED))
            return self._get(db, job_id) if cur.rowcount == 1 else None

    def cancel(self, job_id: int, reason: str, *, force: bool = False) -> Job:
        """Queued: cancelled now. Running: flagged, its worker stops the step (force: cancelled now)."""
        now = self.clock()
        with self._tx() as db:
            job = self._get(db, job_id)
            if job.state == QUEUED or (job.state == RUNNING and force):
                db.execute("UPDATE jobs SET state = ?, reason = ?, lease_owner = NULL, lease_expires = NULL,"
                           " finished_at = ?, updated_at = ? WHERE id = ?", (CANCELLED, reason, now, now, job_id))
            elif job.state == RUNNING:
                db.execute("UPDATE jobs SET cancel_requested = 1, reason = ?, updated_at = ? WHERE id = ?",
                           (reason, now, job_id))
            return self._get(db, job_id)

    def retry(self, job_id: int) -> Job:
        """A failed or cancelled job goes back to the queue with a fresh set of attempts."""
        now = self.clock()
        with self._tx() as db:
            job = self._get(db, job_id)
            if job.state not in (FAILED, CANCELLED):
                raise ValueError(f"job {job_id} is {job.state}; only failed or cancelled jobs can be retried")
            db.execute("UPDATE jobs SET state = ?, attempts = 0, cancel_requested = 0, reason = '', progress = '',"
                       " fraction = NULL, result_title = '', result_md = '', run_id = NULL, started_at = NULL,"
                       " finished_at = NULL, updated_at = ? WHERE id = ?", (QUEUED, now, job_id))
            return self._get(db, job_id)

    def active_for_pr(self, repo: str, pr: int) -> list[Job]:
        return [j for j in self.jobs(repo=repo, pr=pr) if j.state in ACTIVE]
