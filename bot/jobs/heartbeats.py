"""Which workers are alive and what each is doing, for the triager's page (`GET /status`).

A job's lease only says who holds a running job; an idle worker holds none and would be invisible.
So every worker also writes a heartbeat row (its id, when it last polled or renewed a lease, and the
job it is running) into the job store's SQLite file. Rows of workers silent for a day are dropped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.storage import SqliteFile

BUSY_TIMEOUT_S = 30.0
FORGET_AFTER_S = 24 * 3600.0  # a worker silent this long is gone, not merely late
MAX_WORKERS_LISTED = 200
SCHEMA = "CREATE TABLE IF NOT EXISTS worker_heartbeats (worker TEXT PRIMARY KEY, seen_at REAL NOT NULL, " \
         "job_id INTEGER, started_at REAL NOT NULL)"


@dataclass(frozen=True)
class Heartbeat:
    worker: str  # host:pid:random, as the job lease names it
    seen_at: float  # last poll or lease renewal (unix seconds)
    job_id: int | None  # the job it runs now; None when idle
    started_at: float  # when this worker first beat


class WorkerHeartbeats:
    """Thread-safe (one connection, one lock); shares the jobs database file through SQLite locking."""

    def __init__(self, path: Path | str, clock: Callable[[], float] = time.time,
                 busy_timeout_s: float = BUSY_TIMEOUT_S):
        self.path, self.clock = Path(path), clock
        self._file = SqliteFile(self.path, busy_timeout_s, SCHEMA)

    def beat(self, worker: str, job_id: int | None) -> None:
        """Record that `worker` is alive now, running `job_id` (None: idle, polling)."""
        now = self.clock()
        self._file.run("INSERT INTO worker_heartbeats (worker, seen_at, job_id, started_at) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT(worker) DO UPDATE SET seen_at = excluded.seen_at, job_id = excluded.job_id",
                       (worker, now, job_id, now))

    def gone(self, worker: str) -> None:
        """A worker that stops cleanly removes its row (a crashed one ages out)."""
        self._file.run("DELETE FROM worker_heartbeats WHERE worker = ?", (worker,))

    def workers(self) -> list[Heartbeat]:
        """The workers heard from within FORGET_AFTER_S, most recently seen first."""
        self._file.run("DELETE FROM worker_heartbeats WHERE seen_at < ?", (self.clock() - FORGET_AFTER_S,))
        rows = self._file.run("SELECT worker, seen_at, job_id, started_at FROM worker_heartbeats "
                              "ORDER BY seen_at DESC LIMIT ?", (MAX_WORKERS_LISTED,)).fetchall()
        return [Heartbeat(*row) for row in rows]

    def close(self) -> None:
        self._file.close()
