"""Opening the bot's SQLite files one way: WAL, a bounded busy timeout, and a one-line error for a bad file.

A corrupt or foreign file must stop start-up with one line that names it (not a traceback), and a
file another process holds locked must make a caller wait a bounded time, never forever. Every store
(jobs, deliveries, approvals, heartbeats, reply throttle) holds one `SqliteFile`: one connection, one
lock, its tables created at open, statements and transactions that turn a lock into `StoreBusy`.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class StorageError(RuntimeError):
    """A database file cannot be used (corrupt, not SQLite, unreadable); the message names the file."""


class StoreBusy(sqlite3.OperationalError):
    """A database file stayed locked past the busy timeout: a transient failure, worth a retry."""


def open_sqlite(path: Path, busy_timeout_s: float) -> sqlite3.Connection:
    """A connection in autocommit mode with WAL, or StorageError naming `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        db = sqlite3.connect(str(path), timeout=busy_timeout_s, isolation_level=None, check_same_thread=False)
        db.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: survives a process crash
        db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise StorageError(f"{path}: locked by another process for more than {busy_timeout_s:g} s") from None
        raise StorageError(f"{path}: cannot be opened as a SQLite database ({exc})") from None
    except sqlite3.DatabaseError as exc:
        raise StorageError(f"{path}: not a usable SQLite database ({exc}); move it aside to start afresh") from None
    return db


def busy(path: Path, exc: sqlite3.OperationalError) -> Exception:
    """The exception to raise for an OperationalError: StoreBusy when the file was locked."""
    text = str(exc)
    if "locked" in text or "busy" in text:
        return StoreBusy(f"{path.name} is locked by another process ({text})")
    return exc


class SqliteFile:
    """One connection and one lock over a SQLite file: thread-safe in a process, process-safe through SQLite."""

    def __init__(self, path: Path | str, busy_timeout_s: float, schema: str):
        """Open `path` (see open_sqlite) and create `schema`'s tables and indexes where missing."""
        self.path = Path(path)
        self.lock = threading.RLock()
        self.db = open_sqlite(self.path, busy_timeout_s)
        self.db.executescript(schema)

    def run(self, query: str, params: tuple | list = ()) -> sqlite3.Cursor:
        """One statement under the lock (autocommit); a file still locked raises StoreBusy."""
        with self.lock:
            try:
                return self.db.execute(query, params)
            except sqlite3.OperationalError as exc:
                raise busy(self.path, exc) from None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A `BEGIN IMMEDIATE` transaction under the lock: committed at the end, rolled back on any error."""
        with self.lock:
            try:
                self.db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise busy(self.path, exc) from None
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            try:
                self.db.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                self.db.execute("ROLLBACK")
                raise busy(self.path, exc) from None

    def close(self) -> None:
        with self.lock:
            self.db.close()
