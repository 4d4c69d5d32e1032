"""One SQLite file shared across threads behind a lock, in WAL mode: the journal, traces,
pinned queries and session logs each keep theirs in one."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any


class SqliteFile:
    def __init__(self, path: str | Path, schema: str, durable: bool = False) -> None:
        """`durable`: every commit reaches the disk before returning (the journal, which
        must survive a crash to roll back or finish interrupted work)."""
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA busy_timeout=5000")  # another process (CLI, serve) may hold it
        self._db.execute("PRAGMA journal_mode=WAL")
        if durable:
            self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(schema)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, list(args)).fetchall()
