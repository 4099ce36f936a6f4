"""Strangers get at most one reply per pull request per hour, remembered in SQLite across restarts.

A user without permission to run commands can still make the bot speak: every refusal is a comment
under the bot's name. The throttle answers "may the bot reply to a stranger on this PR now?" and
records the answer in the same transaction, so two deliveries cannot both get a yes.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from bot.storage import SqliteFile

WINDOW_S = 3600.0  # one reply to strangers per pull request per this many seconds
BUSY_TIMEOUT_S = 5.0  # how long a check waits for a locked file before saying no
SCHEMA = "CREATE TABLE IF NOT EXISTS stranger_replies (repo TEXT NOT NULL, pr INTEGER NOT NULL, " \
         "replied_at REAL NOT NULL, PRIMARY KEY (repo, pr))"


class ReplyThrottle:
    """Thread-safe (one connection, one lock); several processes share the file through SQLite locking."""

    def __init__(self, path: Path | str, window_s: float = WINDOW_S, clock: Callable[[], float] = time.time,
                 busy_timeout_s: float = BUSY_TIMEOUT_S):
        self.path, self.window_s, self.clock = Path(path), window_s, clock
        self._file = SqliteFile(self.path, busy_timeout_s, SCHEMA)

    def allow(self, repo: str, pr: int) -> bool:
        """True (and remembered) when the last reply to a stranger on this PR is older than the window."""
        now = self.clock()
        try:
            cursor = self._file.run(
                "INSERT INTO stranger_replies (repo, pr, replied_at) VALUES (?, ?, ?) ON CONFLICT (repo, pr) "
                "DO UPDATE SET replied_at = excluded.replied_at WHERE replied_at <= ?",
                (repo, pr, now, now - self.window_s))
            return cursor.rowcount == 1
        except sqlite3.OperationalError:  # locked (StoreBusy is one): silence is the safe answer to a stranger
            return False

    def close(self) -> None:
        self._file.close()
