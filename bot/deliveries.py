"""Durable delivery records in SQLite (WAL): a redelivered X-GitHub-Delivery changes nothing.

Each accepted delivery is one row, written before the 2xx, holding the body until the worker has
handled it. Rows still `queued` after a crash or shutdown are handed back at the next start, so
an accepted delivery is never lost. A delivery whose handling failed (a locked job store, GitHub
down) is marked `failed`, and a redelivery of it is accepted and handled again: only `done`,
`ignored` and still-`queued` deliveries count as duplicates. Calls are blocking: the server runs
them in a thread, and a file locked past the busy timeout raises `StoreBusy` (intake answers 503).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bot.storage import SqliteFile

SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    id TEXT PRIMARY KEY,
    event TEXT NOT NULL,
    received_at REAL NOT NULL,
    status TEXT NOT NULL,          -- queued | done | failed | ignored
    body BLOB,                     -- kept until handled, then dropped
    finished_at REAL,
    error TEXT
);
CREATE INDEX IF NOT EXISTS deliveries_status ON deliveries(status);
"""
MAX_ERROR_CHARS = 2000
BUSY_TIMEOUT_S = 2.0  # intake answers GitHub within its 10 s; a lock held longer is a 503, not a hang


@dataclass(frozen=True)
class Pending:
    delivery_id: str
    event: str
    body: bytes
    payload: dict | None = None  # already parsed at intake (saves parsing twice); None after a restart


class DeliveryStore:
    """Thread-safe: one connection, one lock (writes are tiny; WAL keeps readers off the writer)."""

    def __init__(self, path: Path | str, busy_timeout_s: float = BUSY_TIMEOUT_S):
        self.path = Path(path)
        self._file = SqliteFile(self.path, busy_timeout_s, SCHEMA)

    def record(self, delivery_id: str, event: str, body: bytes | None, status: str = "queued") -> bool:
        """Insert a new delivery, or take a redelivery of a failed one; False: seen before (do nothing)."""
        cursor = self._file.run(
            "INSERT INTO deliveries (id, event, received_at, status, body) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET status = excluded.status, body = excluded.body, "
            "received_at = excluded.received_at, finished_at = NULL, error = NULL WHERE deliveries.status = 'failed'",
            (delivery_id, event, time.time(), status, body if status == "queued" else None))
        return cursor.rowcount == 1

    def finish(self, delivery_id: str, status: str, error: str = "") -> None:
        """Mark handled (done/failed) and drop the body."""
        self._file.run("UPDATE deliveries SET status=?, body=NULL, finished_at=?, error=? WHERE id=?",
                       (status, time.time(), error[:MAX_ERROR_CHARS] or None, delivery_id))

    def forget(self, delivery_id: str) -> None:
        """Remove a record we could not queue, so GitHub's manual redelivery is accepted later."""
        self._file.run("DELETE FROM deliveries WHERE id=?", (delivery_id,))

    def status(self, delivery_id: str) -> str | None:
        row = self._file.run("SELECT status FROM deliveries WHERE id=?", (delivery_id,)).fetchone()
        return row[0] if row else None

    def pending(self) -> Iterator[Pending]:
        """Deliveries accepted but never handled (oldest first)."""
        rows = self._file.run(
            "SELECT id, event, body FROM deliveries WHERE status='queued' ORDER BY received_at").fetchall()
        for delivery_id, event, body in rows:
            yield Pending(delivery_id, event, bytes(body or b""))

    def counts(self) -> dict[str, int]:
        return dict(self._file.run("SELECT status, COUNT(*) FROM deliveries GROUP BY status").fetchall())

    def close(self) -> None:
        self._file.close()
