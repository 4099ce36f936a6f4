"""Durable delivery records in SQLite (WAL): a redelivered X-GitHub-Delivery changes nothing.

Each accepted delivery is one row, written before the 2xx, holding the body until the worker has
handled it. Rows still `queued` after a crash or shutdown are handed back at the next start, so
an accepted delivery is never lost.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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


@dataclass(frozen=True)
class Pending:
    delivery_id: str
    event: str
    body: bytes
    payload: dict | None = None  # already parsed at intake (saves parsing twice); None after a restart


class DeliveryStore:
    """Thread-safe: one connection, one lock (writes are tiny; WAL keeps readers off the writer)."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: survives a process crash
        self._db.executescript(SCHEMA)

    def record(self, delivery_id: str, event: str, body: bytes | None, status: str = "queued") -> bool:
        """Insert a new delivery; False when this id was seen before (a redelivery: do nothing)."""
        with self._lock:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO deliveries (id, event, received_at, status, body) VALUES (?, ?, ?, ?, ?)",
                (delivery_id, event, time.time(), status, body if status == "queued" else None))
            return cursor.rowcount == 1

    def finish(self, delivery_id: str, status: str, error: str = "") -> None:
        """Mark handled (done/failed) and drop the body."""
        with self._lock:
            self._db.execute("UPDATE deliveries SET status=?, body=NULL, finished_at=?, error=? WHERE id=?",
                             (status, time.time(), error[:MAX_ERROR_CHARS] or None, delivery_id))

    def forget(self, delivery_id: str) -> None:
        """Remove a record we could not queue, so GitHub's manual redelivery is accepted later."""
        with self._lock:
            self._db.execute("DELETE FROM deliveries WHERE id=?", (delivery_id,))

    def status(self, delivery_id: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT status FROM deliveries WHERE id=?", (delivery_id,)).fetchone()
        return row[0] if row else None

    def pending(self) -> Iterator[Pending]:
        """Deliveries accepted but never handled (oldest first)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, event, body FROM deliveries WHERE status='queued' ORDER BY received_at").fetchall()
        for delivery_id, event, body in rows:
            yield Pending(delivery_id, event, bytes(body or b""))

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._db.execute("SELECT status, COUNT(*) FROM deliveries GROUP BY status").fetchall())

    def close(self) -> None:
        with self._lock:
            self._db.close()
