"""Opening the bot's SQLite files one way: WAL, a bounded busy timeout, and a one-line error for a bad file.

A corrupt or foreign file must stop start-up with one line that names it (not a traceback), and a
file another process holds locked must make a caller wait a bounded time, never forever.
"""

from __future__ import annotations

import sqlite3
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
