"""bot.storage.SqliteFile, the one way every bot store opens its file, runs statements and transactions."""

from __future__ import annotations

import sqlite3
import time

import pytest

from bot.storage import SqliteFile, StorageError, StoreBusy

SCHEMA = "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL);"


def test_a_transaction_that_raises_leaves_nothing_behind(tmp_path):
    store = SqliteFile(tmp_path / "notes.sqlite3", 1.0, SCHEMA)
    with pytest.raises(ValueError):
        with store.transaction() as db:
            db.execute("INSERT INTO notes (text) VALUES ('half-written')")
            raise ValueError("the caller failed half-way")
    with store.transaction() as db:
        db.execute("INSERT INTO notes (text) VALUES ('kept')")
    assert [row[0] for row in store.run("SELECT text FROM notes")] == ["kept"]
    store.close()


def test_a_file_locked_by_another_process_is_store_busy_after_the_timeout(tmp_path):
    path = tmp_path / "notes.sqlite3"
    store = SqliteFile(path, 0.2, SCHEMA)
    holder = sqlite3.connect(str(path), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    started = time.monotonic()
    with pytest.raises(StoreBusy, match="notes.sqlite3"):
        store.run("INSERT INTO notes (text) VALUES ('x')")
    with pytest.raises(StoreBusy):
        with store.transaction():
            pass
    assert time.monotonic() - started < 5
    holder.execute("ROLLBACK")
    store.run("INSERT INTO notes (text) VALUES ('after the lock')")
    assert store.run("SELECT COUNT(*) FROM notes").fetchone() == (1,)
    holder.close()
    store.close()


def test_a_file_that_is_not_sqlite_is_one_line_naming_it(tmp_path):
    path = tmp_path / "jobs.sqlite3"
    path.write_bytes(b"not a database, just text " * 100)
    with pytest.raises(StorageError, match="jobs.sqlite3") as caught:
        SqliteFile(path, 0.2, SCHEMA)
    assert "\n" not in str(caught.value)
