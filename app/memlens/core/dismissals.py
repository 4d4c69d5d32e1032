"""Pairs a user looked at and said "these are fine": not offered again as duplicates or conflicts."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS dismissed (
    collection TEXT NOT NULL,
    kind TEXT NOT NULL,
    a TEXT NOT NULL,
    b TEXT NOT NULL,
    reason TEXT,
    ts REAL NOT NULL,
    PRIMARY KEY (collection, kind, a, b)
);
"""


class Dismissals:
    """Stored beside the journal (same SQLite file), per collection and kind."""

    def __init__(self, path: Path, collection: str) -> None:
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self.collection = collection

    def dismiss(self, kind: str, ids: list[str], reason: str | None = None) -> None:
        """Dismiss every pair among `ids` (a cluster of three dismisses three pairs)."""
        pairs = [(a, b) for i, a in enumerate(sorted(ids)) for b in sorted(ids)[i + 1 :]]
        with self._lock:
            self._db.executemany(
                "INSERT OR REPLACE INTO dismissed VALUES (?,?,?,?,?,?)",
                [(self.collection, kind, a, b, reason, time.time()) for a, b in pairs],
            )

    def undismiss(self, kind: str, ids: list[str]) -> None:
        pairs = [(a, b) for i, a in enumerate(sorted(ids)) for b in sorted(ids)[i + 1 :]]
        with self._lock:
            self._db.executemany(
                "DELETE FROM dismissed WHERE collection=? AND kind=? AND a=? AND b=?",
                [(self.collection, kind, a, b) for a, b in pairs],
            )

    def pairs(self, kind: str) -> set[frozenset[str]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT a, b FROM dismissed WHERE collection=? AND kind=?", (self.collection, kind)
            ).fetchall()
        return {frozenset(r) for r in rows}
