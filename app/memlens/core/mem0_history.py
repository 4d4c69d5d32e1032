"""Mem0's own change log (`history.db`, SQLite), read for the inspector and kept in step.

Mem0 answers `Memory.history(id)` from this table, so an edit or delete made in MemLens
is appended here too, in Mem0's own shape, for Mem0 to report it.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from memlens.core.record import format_time, utc_now

FILENAME = "history.db"
ACTOR = "memlens"  # actor_id of the rows MemLens appends; its journal holds the same changes


def default_path() -> Path:
    """Where Mem0 keeps history.db unless its config says otherwise (mem0.configs.base)."""
    return Path(os.environ.get("MEM0_DIR") or Path.home() / ".mem0") / FILENAME


@dataclass(frozen=True)
class Mem0Event:
    event: str
    old_memory: str | None
    new_memory: str | None
    created_at: str | None
    updated_at: str | None
    actor_id: str | None


class Mem0History:
    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def at(cls, path: Path) -> Mem0History | None:
        """Mem0's history at `path`, or None if there is none (or it is not Mem0's)."""
        if not path.is_file():
            return None
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
                db.execute("SELECT memory_id FROM history LIMIT 1")
        except sqlite3.DatabaseError:
            return None  # a history.db that is not Mem0's
        return cls(path)

    @classmethod
    def beside(cls, store_dir: str | Path) -> Mem0History | None:
        return cls.at(Path(store_dir) / FILENAME)

    @classmethod
    def default_for(cls, memory_ids: Sequence[str]) -> Mem0History | None:
        """Mem0's default history ($MEM0_DIR or ~/.mem0), where an agent with Mem0's default
        config keeps it whatever folder or server holds its vectors; taken only if it
        records some of `memory_ids`, as one such file serves every agent on the machine."""
        found = cls.at(default_path())
        return found if found is not None and memory_ids and found.knows(memory_ids) else None

    def knows(self, memory_ids: Sequence[str]) -> bool:
        marks = ",".join("?" * len(memory_ids))
        with sqlite3.connect(f"file:{self.path}?mode=ro", uri=True) as db:
            row = db.execute(f"SELECT 1 FROM history WHERE memory_id IN ({marks}) LIMIT 1", list(memory_ids))
            return row.fetchone() is not None

    def events(self, memory_id: str) -> list[Mem0Event]:
        with sqlite3.connect(f"file:{self.path}?mode=ro", uri=True) as db:
            rows = db.execute(
                "SELECT event, old_memory, new_memory, created_at, updated_at, actor_id "
                "FROM history WHERE memory_id=? ORDER BY updated_at, created_at",
                (memory_id,),
            ).fetchall()
        return [Mem0Event(*r) for r in rows]

    def append(
        self,
        memory_id: str,
        event: str,
        old: str | None,
        new: str | None,
        created_at: str | None,
        updated_at: datetime | None = None,
    ) -> None:
        """One row as Mem0 writes it; `updated_at` is the memory's own (Mem0 stamps the
        memory and its history row with one value), the time of writing for a delete."""
        with sqlite3.connect(str(self.path)) as db:
            db.execute(
                "INSERT INTO history (id, memory_id, old_memory, new_memory, event, created_at, "
                "updated_at, is_deleted, actor_id, role) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    str(uuid.uuid4()),
                    memory_id,
                    old,
                    new,
                    event,
                    created_at,
                    format_time(updated_at or utc_now()),
                    1 if event == "DELETE" else 0,
                    ACTOR,
                    None,
                ),
            )
