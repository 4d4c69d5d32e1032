"""Retrieval traces: every search MemLens runs (and those imported from elsewhere), kept.

A trace answers "what did the agent see, and why?" after the fact: the query, the exact
vector it was embedded to, the filter and k, and each hit with a snapshot of its text at
that moment (the memory may be edited later). Traces live in a SQLite file beside the
journal; a retention limit keeps the file from growing without end, enforced on insert
so that nothing has to run in the background.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from memlens.core.query import Filter, SearchHit
from memlens.core.ranking import Blend, effective
from memlens.core.record import Status, parse_time
from memlens.core.sqlite_file import SqliteFile

log = logging.getLogger(__name__)

#: Origins MemLens itself writes; plugins use "plugin:<name>", live agents "agent:<session>".
GUI, CLI = "gui", "cli"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS traces (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    ts REAL NOT NULL,
    collection TEXT,
    origin TEXT NOT NULL,
    session_id TEXT,
    query TEXT NOT NULL,
    model TEXT,
    embedding BLOB,
    filter TEXT,
    k INTEGER NOT NULL,
    threshold REAL,
    latency_ms REAL,
    source TEXT
);
CREATE INDEX IF NOT EXISTS traces_ts ON traces(ts);
CREATE INDEX IF NOT EXISTS traces_origin ON traces(origin, ts);
CREATE INDEX IF NOT EXISTS traces_session ON traces(session_id, ts);
CREATE TABLE IF NOT EXISTS trace_hits (
    trace_id TEXT NOT NULL,
    rank INTEGER NOT NULL,
    memory_id TEXT NOT NULL,
    distance REAL,
    score REAL,
    text TEXT,
    components TEXT,
    PRIMARY KEY (trace_id, rank)
);
CREATE INDEX IF NOT EXISTS trace_hits_memory ON trace_hits(memory_id);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT);
"""
DEFAULT_MAX_TRACES = 10_000


class TraceImportError(ValueError):
    """A file that cannot be read as traces; the message names the place and the field."""


# -- filters as JSON -------------------------------------------------------------
def filter_to_json(flt: Filter | None) -> str | None:
    """A `Filter` as JSON (sets sorted, so equal filters give equal text); None stays None."""
    if flt is None:
        return None
    return json.dumps(
        {
            "users": sorted(flt.users),
            "agents": sorted(flt.agents),
            "sessions": sorted(flt.sessions),
            "kinds": sorted(flt.kinds),
            "tags": sorted(flt.tags),
            "statuses": None if flt.statuses is None else sorted(s.value for s in flt.statuses),
            "since": flt.since.isoformat() if flt.since else None,
            "until": flt.until.isoformat() if flt.until else None,
            "text": flt.text,
        },
        ensure_ascii=False,
    )


def filter_from_json(text: str | None) -> Filter | None:
    """Inverse of `filter_to_json`; raises ValueError naming the bad field."""
    if text is None:
        return None
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("a filter must be a JSON object")
    kwargs: dict[str, Any] = {}
    for name in ("users", "agents", "sessions", "kinds", "tags"):
        values = data.get(name) or []
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ValueError(f"filter field '{name}' must be a list of strings")
        kwargs[name] = frozenset(values)
    if data.get("statuses") is not None:
        try:
            kwargs["statuses"] = frozenset(Status(s) for s in data["statuses"])
        except (ValueError, TypeError):
            raise ValueError(f"filter field 'statuses' is invalid: {data['statuses']!r}") from None
    for name in ("since", "until"):
        if data.get(name) is not None:
            when = parse_time(data[name])
            if when is None:
                raise ValueError(f"filter field '{name}' is not an ISO-8601 time: {data[name]!r}")
            kwargs[name] = when
    kwargs["text"] = str(data.get("text") or "")
    return Filter(**kwargs)


# -- the records ---------------------------------------------------------------------
@dataclass(frozen=True)
class TraceHit:
    """One returned memory. `text` is a snapshot taken when the retrieval happened.

    `components` breaks the score down when the retriever said how it was made
    (e.g. {"similarity": 0.71, "bm25": 0.4}); MemLens' own search only has similarity.
    """

    memory_id: str
    rank: int
    distance: float | None = None
    score: float | None = None
    text: str | None = None
    components: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class Trace:
    """One retrieval. `filter=None` means unknown (imported); `embedding=None` means the
    vector was not recorded, and analysis has to re-embed `query`."""

    query: str
    k: int
    hits: tuple[TraceHit, ...] = ()
    origin: str = GUI
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    model: str | None = None
    embedding: np.ndarray | None = None
    filter: Filter | None = None
    threshold: float | None = None
    latency_ms: float | None = None
    session_id: str | None = None
    collection: str | None = None
    source: dict[str, Any] = field(default_factory=dict)  # where an imported trace came from

    @property
    def ids(self) -> list[str]:
        return [h.memory_id for h in self.hits]

    def hit(self, memory_id: str) -> TraceHit | None:
        return next((h for h in self.hits if h.memory_id == memory_id), None)


def search_trace(
    query: str,
    vector: np.ndarray,
    k: int,
    flt: Filter,
    hits: Sequence[SearchHit],
    latency_ms: float | None,
    *,
    origin: str = GUI,
    session_id: str | None = None,
    collection: str | None = None,
    model: str | None = None,
    blend: Blend | None = None,
) -> Trace:
    """The trace of one MemLens search (not stored: see `TraceStore.add`). A blended
    search keeps its weights in `source`, so why-not and replay can score as it did."""
    blend = effective(blend)
    return Trace(
        query=query,
        k=k,
        hits=tuple(
            TraceHit(h.record.id, h.rank, h.distance, h.score, h.record.text, _parts(h)) for h in hits
        ),
        source={"blend": blend.to_dict()} if blend else {},
        origin=origin,
        model=model,
        embedding=np.asarray(vector, dtype=np.float32),
        filter=flt,
        latency_ms=latency_ms,
        session_id=session_id,
        collection=collection,
    )


def _parts(hit: SearchHit) -> dict[str, float]:
    return hit.components or {"similarity": hit.score}


_COLS = (
    "id, ts, collection, origin, session_id, query, model, embedding, filter, k, "
    "threshold, latency_ms, source"
)


class TraceStore(SqliteFile):
    """Traces in one SQLite file. Keeps at most `max_traces` (the newest) and, when
    `max_age_days` is set, none older than that; None lifts a limit.

    The retention chosen by the user (`set_retention(..., persist=True)`, from the window
    or `memlens traces --keep`) is saved in the file itself, so every process recording
    into it (GUI, CLI, plugins) honours the same limits.
    """

    def __init__(self, path: str | Path) -> None:
        super().__init__(path, _SCHEMA)
        saved = dict(self._rows("SELECT key, value FROM settings"))
        retention = json.loads(saved.get("retention", "null")) or {}
        self.set_retention(
            retention.get("max_traces", DEFAULT_MAX_TRACES), retention.get("max_age_days"), enforce=False
        )

    def set_retention(
        self, max_traces: int | None, max_age_days: float | None, enforce: bool = True, persist: bool = False
    ) -> None:
        if max_traces is not None and max_traces < 1:
            raise ValueError("max_traces must be at least 1 (or None for no limit)")
        if max_age_days is not None and max_age_days <= 0:
            raise ValueError("max_age_days must be positive (or None for no limit)")
        self.max_traces, self.max_age_days = max_traces, max_age_days
        if persist:
            value = json.dumps({"max_traces": max_traces, "max_age_days": max_age_days})
            with self._tx() as db:
                db.execute("INSERT OR REPLACE INTO settings VALUES ('retention', ?)", (value,))
        if enforce:
            with self._tx() as db:
                self._enforce(db)

    def retention_text(self) -> str:
        count = "no count limit" if self.max_traces is None else f"the newest {self.max_traces:,}"
        age = "" if self.max_age_days is None else f", none older than {self.max_age_days:g} days"
        return f"keeps {count}{age}"

    # -- writing ---------------------------------------------------------------
    def add(self, trace: Trace) -> Trace:
        self.add_many([trace])
        return trace

    def add_many(self, traces: Sequence[Trace]) -> int:
        """Store traces in one transaction; returns how many are new and kept by retention.

        A trace whose id is already stored is left as it is, so importing a file twice
        adds nothing the second time.
        """
        if not traces:
            return 0
        with self._tx() as db:
            added = [t.id for t in traces if self._insert(db, t)]
            self._enforce(db)
            kept = 0
            for start in range(0, len(added), 500):
                chunk = added[start : start + 500]
                kept += db.execute(
                    f"SELECT count(*) FROM traces WHERE id IN ({','.join('?' * len(chunk))})", chunk
                ).fetchone()[0]
            return kept

    def record_search(
        self,
        query: str,
        vector: np.ndarray,
        k: int,
        flt: Filter,
        hits: Sequence[SearchHit],
        latency_ms: float | None,
        **context: Any,
    ) -> Trace | None:
        """Store the trace of a search (see `record`)."""
        return self.record(search_trace(query, vector, k, flt, hits, latency_ms, **context))

    def record(self, trace: Trace) -> Trace | None:
        """Store a trace as a side effect of a search. A trace that cannot be written must
        not fail the search the user asked for: the error is logged and None returned."""
        try:
            return self.add(trace)
        except sqlite3.Error as exc:
            log.warning("Could not record a retrieval trace in %s: %s", self.path, exc)
            return None

    def delete(self, ids: Sequence[str]) -> None:
        with self._tx() as db:
            self._delete(db, list(ids))

    @staticmethod
    def _insert(db: sqlite3.Connection, t: Trace) -> bool:
        emb = None if t.embedding is None else np.asarray(t.embedding, dtype=np.float32).tobytes()
        cur = db.execute(
            f"INSERT OR IGNORE INTO traces({_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                t.id,
                t.time.timestamp(),
                t.collection,
                t.origin,
                t.session_id,
                t.query,
                t.model,
                emb,
                filter_to_json(t.filter),
                t.k,
                t.threshold,
                t.latency_ms,
                json.dumps(t.source, ensure_ascii=False) if t.source else None,
            ),
        )
        if cur.rowcount == 0:
            return False
        db.executemany(
            "INSERT INTO trace_hits VALUES (?,?,?,?,?,?,?)",
            [
                (
                    t.id,
                    h.rank,
                    h.memory_id,
                    h.distance,
                    h.score,
                    h.text,
                    json.dumps(h.components) if h.components else None,
                )
                for h in t.hits
            ],
        )
        return True

    def _enforce(self, db: sqlite3.Connection) -> None:
        doomed: list[str] = []
        if self.max_age_days is not None:
            cutoff = time.time() - self.max_age_days * 86400.0
            doomed += [r[0] for r in db.execute("SELECT id FROM traces WHERE ts < ?", (cutoff,))]
        if self.max_traces is not None:
            doomed += [
                r[0]
                for r in db.execute(
                    "SELECT id FROM traces ORDER BY ts DESC, seq DESC LIMIT -1 OFFSET ?", (self.max_traces,)
                )
            ]
        self._delete(db, doomed)

    @staticmethod
    def _delete(db: sqlite3.Connection, ids: list[str]) -> None:
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            db.execute(f"DELETE FROM trace_hits WHERE trace_id IN ({marks})", chunk)
            db.execute(f"DELETE FROM traces WHERE id IN ({marks})", chunk)

    # -- reading ---------------------------------------------------------------
    def get(self, trace_id: str) -> Trace | None:
        rows = self._rows(f"SELECT {_COLS} FROM traces WHERE id=?", (trace_id,))
        return self._load(rows)[0] if rows else None

    def resolve(self, id_or_prefix: str) -> Trace:
        """The trace with this id or unique id prefix (as a person types it); KeyError otherwise."""
        exact = self.get(id_or_prefix)
        if exact is not None:
            return exact
        pattern = id_or_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = self._rows(f"SELECT {_COLS} FROM traces WHERE id LIKE ? ESCAPE '\\' LIMIT 2", (pattern,))
        if len(rows) != 1 or not id_or_prefix:
            what = "matches more than one trace" if len(rows) > 1 else "matches no trace"
            raise KeyError(f"{id_or_prefix!r} {what} in {self.path}.")
        return self._load(rows)[0]

    def find(
        self,
        *,
        collection: str | None = None,
        origin: str | None = None,
        session_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        text: str | None = None,
        memory_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
        oldest_first: bool = False,
    ) -> list[Trace]:
        """Traces newest first, one page. `origin` ending in ':' matches a prefix
        ("plugin:" = every plugin); `text` is a case-insensitive substring of the query;
        `memory_id` keeps traces that returned that memory."""
        where, args = self._where(collection, origin, session_id, since, until, text, memory_id)
        order = "ASC" if oldest_first else "DESC"
        rows = self._rows(
            f"SELECT {_COLS} FROM traces{where} ORDER BY ts {order}, seq {order} LIMIT ? OFFSET ?",
            [*args, limit, offset],
        )
        return self._load(rows)

    def count(
        self,
        *,
        collection: str | None = None,
        origin: str | None = None,
        session_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        text: str | None = None,
        memory_id: str | None = None,
    ) -> int:
        where, args = self._where(collection, origin, session_id, since, until, text, memory_id)
        return self._rows(f"SELECT count(*) FROM traces{where}", args)[0][0]

    def origins(self, collection: str | None = None) -> list[str]:
        """Who recorded traces (search, plugin:…, agent:…), for a picker."""
        where, args = self._where(collection, None, None, None, None, None, None)
        return [r[0] for r in self._rows(f"SELECT DISTINCT origin FROM traces{where} ORDER BY origin", args)]

    def sessions(self, collection: str | None = None) -> list[str]:
        """Session ids that have traces, for a picker."""
        where, args = self._where(collection, None, None, None, None, None, None)
        extra = " AND" if where else " WHERE"
        return [
            r[0]
            for r in self._rows(
                f"SELECT DISTINCT session_id FROM traces{where}{extra} session_id IS NOT NULL "
                "ORDER BY session_id",
                args,
            )
        ]

    @staticmethod
    def _where(collection, origin, session_id, since, until, text, memory_id) -> tuple[str, list]:
        clauses: list[str] = []
        args: list[Any] = []
        if collection is not None:
            clauses.append("collection = ?")
            args.append(collection)
        if origin:
            if origin.endswith(":"):
                clauses.append("substr(origin, 1, ?) = ?")
                args += [len(origin), origin]
            else:
                clauses.append("origin = ?")
                args.append(origin)
        if session_id is not None:
            clauses.append("session_id = ?")
            args.append(session_id)
        if since is not None:
            clauses.append("ts >= ?")
            args.append(since.timestamp())
        if until is not None:
            clauses.append("ts <= ?")
            args.append(until.timestamp())
        if text:
            clauses.append("instr(lower(query), ?) > 0")
            args.append(text.lower())
        if memory_id is not None:
            clauses.append("id IN (SELECT trace_id FROM trace_hits WHERE memory_id = ?)")
            args.append(memory_id)
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), args

    def _load(self, rows: list[tuple]) -> list[Trace]:
        if not rows:
            return []
        ids = [r[0] for r in rows]
        hits: dict[str, list[TraceHit]] = {i: [] for i in ids}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            for tid, rank, mid, dist, score, text, comps in self._rows(
                "SELECT trace_id, rank, memory_id, distance, score, text, components FROM trace_hits "
                f"WHERE trace_id IN ({','.join('?' * len(chunk))}) ORDER BY trace_id, rank",
                chunk,
            ):
                hits[tid].append(TraceHit(mid, rank, dist, score, text, json.loads(comps) if comps else {}))
        return [_trace(row, hits[row[0]]) for row in rows]


def _trace(row: tuple, hits: list[TraceHit]) -> Trace:
    tid, ts, collection, origin, session, query, model, emb, flt, k, threshold, latency, source = row
    return Trace(
        query=query,
        k=k,
        hits=tuple(hits),
        origin=origin,
        time=datetime.fromtimestamp(ts, UTC),
        id=tid,
        model=model,
        embedding=None if emb is None else np.frombuffer(emb, dtype=np.float32).copy(),
        filter=filter_from_json(flt),
        threshold=threshold,
        latency_ms=latency,
        session_id=session,
        collection=collection,
        source=json.loads(source) if source else {},
    )
