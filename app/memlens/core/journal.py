"""The append-only journal: every change is written here before it touches the store.

A *group* is one user action (an edit, a bulk delete, an import); it holds one operation
per memory with the state before and after, embeddings included, so that undo and redo
replay states without the model. Group states:

    pending -> applied <-> undone -> discarded (a new action after an undo)
    pending -> rolled_back (a crash cut it short; rolled back on the next open)

The journal also keeps the trash of foreign stores: a memory deleted from a Mem0 or
LangChain store leaves that store (so its owner no longer returns it) and waits here.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from memlens.core.record import MemoryRecord
from memlens.core.sqlite_file import SqliteFile

_SCHEMA = """
CREATE TABLE IF NOT EXISTS groups (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    collection TEXT NOT NULL,
    label TEXT NOT NULL,
    actor TEXT NOT NULL,
    reason TEXT,
    ts REAL NOT NULL,
    state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS operations (
    group_id TEXT NOT NULL REFERENCES groups(id),
    idx INTEGER NOT NULL,
    op TEXT NOT NULL,
    memory_id TEXT NOT NULL,
    before TEXT,
    after TEXT,
    before_emb BLOB,
    after_emb BLOB,
    PRIMARY KEY (group_id, idx)
);
CREATE INDEX IF NOT EXISTS operations_memory ON operations(memory_id);
CREATE TABLE IF NOT EXISTS trash (
    collection TEXT NOT NULL,
    memory_id TEXT NOT NULL,
    record TEXT NOT NULL,
    embedding BLOB,
    PRIMARY KEY (collection, memory_id)
);
"""

PENDING, APPLIED, UNDONE, DISCARDED, ROLLED_BACK = (
    "pending",
    "applied",
    "undone",
    "discarded",
    "rolled_back",
)


@dataclass(frozen=True)
class State:
    """A memory as it was or will be; `record=None` means absent from the store."""

    record: MemoryRecord | None
    embedding: np.ndarray | None = None


@dataclass(frozen=True)
class Operation:
    op: str
    memory_id: str
    before: State
    after: State


@dataclass(frozen=True)
class Group:
    seq: int
    id: str
    collection: str
    label: str
    actor: str
    reason: str | None
    ts: float
    state: str


@dataclass(frozen=True)
class HistoryEntry:
    ts: float
    op: str
    label: str
    actor: str
    reason: str | None
    state: str
    before: MemoryRecord | None
    after: MemoryRecord | None


def _dump_record(record: MemoryRecord | None) -> str | None:
    return None if record is None else json.dumps(record.to_dict(), ensure_ascii=False)


def _load_record(text: str | None) -> MemoryRecord | None:
    return None if text is None else MemoryRecord.from_dict(json.loads(text))


def _dump_emb(emb: np.ndarray | None) -> bytes | None:
    return None if emb is None else np.asarray(emb, dtype=np.float32).tobytes()


def _load_emb(blob: bytes | None) -> np.ndarray | None:
    return None if blob is None else np.frombuffer(blob, dtype=np.float32).copy()


class Journal(SqliteFile):
    def __init__(self, path: str | Path) -> None:
        super().__init__(path, _SCHEMA, durable=True)

    # -- writing ---------------------------------------------------------------
    def begin(
        self, collection: str, label: str, operations: Sequence[Operation], actor: str, reason: str | None
    ) -> str:
        """Record a pending group (durably, before the store is touched); returns its id."""
        gid = uuid.uuid4().hex
        with self._tx() as db:
            # A new action forgets what was undone, as every editor's redo does.
            db.execute(
                "UPDATE groups SET state=? WHERE collection=? AND state=?", (DISCARDED, collection, UNDONE)
            )
            db.execute(
                "INSERT INTO groups(id, collection, label, actor, reason, ts, state) VALUES (?,?,?,?,?,?,?)",
                (gid, collection, label, actor, reason, time.time(), PENDING),
            )
            db.executemany(
                "INSERT INTO operations VALUES (?,?,?,?,?,?,?,?)",
                [
                    (
                        gid,
                        n,
                        o.op,
                        o.memory_id,
                        _dump_record(o.before.record),
                        _dump_record(o.after.record),
                        _dump_emb(o.before.embedding),
                        _dump_emb(o.after.embedding),
                    )
                    for n, o in enumerate(operations)
                ],
            )
        return gid

    def fill_embeddings(self, group_id: str, embeddings: Sequence[tuple[int, np.ndarray]]) -> None:
        """Record after-embeddings of a pending group's operations (by position) as a large
        add embeds them, chunk by chunk; a group left pending is rolled back, never redone,
        so one that never got them all loses nothing."""
        with self._tx() as db:
            db.executemany(
                "UPDATE operations SET after_emb=? WHERE group_id=? AND idx=?",
                [(_dump_emb(emb), group_id, n) for n, emb in embeddings],
            )

    def set_state(self, group_id: str, state: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE groups SET state=? WHERE id=?", (state, group_id))

    # -- reading ---------------------------------------------------------------
    def _group(self, row: tuple) -> Group:
        return Group(*row)

    _GROUP_COLS = "seq, id, collection, label, actor, reason, ts, state"

    def groups(self, collection: str, states: Sequence[str] | None = None) -> list[Group]:
        sql = f"SELECT {self._GROUP_COLS} FROM groups WHERE collection=?"
        args: list = [collection]
        if states:
            sql += f" AND state IN ({','.join('?' * len(states))})"
            args += list(states)
        with self._lock:
            return [self._group(r) for r in self._db.execute(sql + " ORDER BY seq", args)]

    def operations(self, group_id: str) -> list[Operation]:
        with self._lock:
            rows = self._db.execute(
                "SELECT op, memory_id, before, after, before_emb, after_emb FROM operations "
                "WHERE group_id=? ORDER BY idx",
                (group_id,),
            ).fetchall()
        return [
            Operation(op, mid, State(_load_record(b), _load_emb(be)), State(_load_record(a), _load_emb(ae)))
            for op, mid, b, a, be, ae in rows
        ]

    def last_applied(self, collection: str) -> Group | None:
        groups = self.groups(collection, [APPLIED])
        return groups[-1] if groups else None

    def next_undone(self, collection: str) -> Group | None:
        """The group redo would re-apply: the earliest undone one."""
        groups = self.groups(collection, [UNDONE])
        return groups[0] if groups else None

    def history(self, collection: str, memory_id: str) -> list[HistoryEntry]:
        with self._lock:
            rows = self._db.execute(
                "SELECT g.ts, o.op, g.label, g.actor, g.reason, g.state, o.before, o.after "
                "FROM operations o JOIN groups g ON g.id=o.group_id "
                "WHERE g.collection=? AND o.memory_id=? ORDER BY g.seq",
                (collection, memory_id),
            ).fetchall()
        return [
            HistoryEntry(ts, op, label, actor, reason, state, _load_record(b), _load_record(a))
            for ts, op, label, actor, reason, state, b, a in rows
        ]

    # -- time: what the timeline and "as of" read -------------------------------
    _MARKS_SQL = """
        SELECT g.id, g.ts, g.label, o.memory_id,
               json_extract(o.before, '$.status'), json_extract(o.after, '$.status'),
               json_extract(o.before, '$.text') IS NOT json_extract(o.after, '$.text'),
               json_remove(o.before, '$.updated_at', '$.version')
                   IS NOT json_remove(o.after, '$.updated_at', '$.version'),
               json_extract(o.after, '$.source.type'), json_extract(o.after, '$.source.merged_from')
        FROM operations o JOIN groups g ON g.id = o.group_id
        WHERE g.collection = ? AND g.state = ?
          AND (o.before IS NOT NULL OR json_extract(o.after, '$.source.type') = 'merge')
        ORDER BY g.seq, o.idx"""

    _BEFORES_SQL = """
        SELECT o.memory_id, o.before, json_extract(o.after, '$.source.type')
        FROM operations o JOIN groups g ON g.id = o.group_id
        WHERE g.collection = ? AND g.state = ? AND g.ts > ?
          AND (o.before IS NOT NULL OR json_extract(o.after, '$.source.type') = 'merge')
        ORDER BY g.seq DESC, o.idx DESC"""

    def change_marks(self, collection: str) -> list[tuple]:
        """Applied operations that change an existing memory or make a merged one, oldest
        first: (group id, ts, label, memory id, status before, status after, text changed,
        anything changed, source type after, merged_from after as JSON). Plain adds are left
        out: their mark is the memory's created_at. Fields are extracted in SQLite so a
        100,000-memory import group costs no record or vector parsing."""
        with self._lock:
            return self._db.execute(self._MARKS_SQL, (collection, APPLIED)).fetchall()

    def befores_after(self, collection: str, ts: float) -> list[tuple]:
        """(memory id, state before as JSON, source type after) of the same operations
        applied after `ts`, newest first: walking them undoes the store back to `ts`."""
        with self._lock:
            return self._db.execute(self._BEFORES_SQL, (collection, APPLIED, ts)).fetchall()

    # -- trash of foreign stores -----------------------------------------------
    def trash_put(self, collection: str, states: Sequence[State]) -> None:
        if not states:
            return
        with self._tx() as db:
            db.executemany(
                "INSERT OR REPLACE INTO trash VALUES (?,?,?,?)",
                [(collection, s.record.id, _dump_record(s.record), _dump_emb(s.embedding)) for s in states],
            )

    def trash_remove(self, collection: str, memory_ids: Sequence[str]) -> None:
        if not memory_ids:
            return
        with self._tx() as db:
            db.executemany(
                "DELETE FROM trash WHERE collection=? AND memory_id=?", [(collection, m) for m in memory_ids]
            )

    def trash(self, collection: str) -> list[State]:
        with self._lock:
            rows = self._db.execute(
                "SELECT record, embedding FROM trash WHERE collection=?", (collection,)
            ).fetchall()
        return [State(_load_record(r), _load_emb(e)) for r, e in rows]
