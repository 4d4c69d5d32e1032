"""Pinned queries: retrieval regression tests a curator keeps beside the store.

A pinned query says "for this question, these memories must come back (and these must
not)". Curating a memory store changes what agents retrieve; re-running the pinned
queries after a clean-up shows at once whether an answer an agent relies on was lost.
Each failing memory comes with its why-not, so the report says what to fix.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from memlens.core.query import Filter
from memlens.core.ranking import Blend, blend_of, weights
from memlens.core.service import MemoryService
from memlens.core.sqlite_file import SqliteFile
from memlens.core.traces import CLI, Trace, filter_from_json, filter_to_json, search_trace
from memlens.core.why_not import WhyNot, explain

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pinned (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    collection TEXT,
    query TEXT NOT NULL,
    must TEXT NOT NULL,
    must_not TEXT NOT NULL,
    k INTEGER NOT NULL,
    filter TEXT,
    created REAL NOT NULL
);
"""


@dataclass(frozen=True)
class PinnedQuery:
    query: str
    must: tuple[str, ...] = ()
    must_not: tuple[str, ...] = ()
    k: int = 10
    filter: Filter = field(default_factory=Filter)
    collection: str | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    # Checked the way it was pinned: a query an agent ranks with a blend is re-run with it.
    blend: Blend | None = None

    def __post_init__(self) -> None:
        if not self.query.strip():
            raise ValueError("a pinned query needs query text")
        if self.k < 1:
            raise ValueError("k must be at least 1")
        if not self.must and not self.must_not:
            raise ValueError("a pinned query needs at least one memory it must (or must not) return")
        both = sorted(set(self.must) & set(self.must_not))
        if both:
            raise ValueError(f"{both[0]!r} cannot be both required and forbidden")
        if len(self.must) > self.k:
            raise ValueError(f"{len(self.must)} memories must be returned but k is only {self.k}")

    def expects(self) -> str:
        """'must return m1, m2; must not return m4': what the pin checks, in words."""
        parts = [f"must return {', '.join(self.must)}"] if self.must else []
        parts += [f"must not return {', '.join(self.must_not)}"] if self.must_not else []
        return "; ".join(parts)

    def line(self) -> str:
        """One line for a list of pins: short id, collection, query, what it checks, and
        the filter and blend it runs with when it has them."""
        extra = "" if self.filter.is_default else f"; filter: {self.filter.describe()}"
        extra += f"; ranked by {weights(self.blend)}" if self.blend else ""
        where = self.collection or "-"
        return f"{self.id[:8]}  {where}  {self.query!r} (k={self.k}): {self.expects()}{extra}"


@dataclass(frozen=True)
class PinnedResult:
    """One run. `returned` is the top k in rank order; `why` explains each missing or
    unexpected memory (cause and exact rank)."""

    pinned: PinnedQuery
    returned: tuple[str, ...]
    missing: tuple[str, ...]
    unexpected: tuple[str, ...]
    why: dict[str, WhyNot] = field(default_factory=dict)
    trace: Trace | None = None

    @property
    def passed(self) -> bool:
        return not self.missing and not self.unexpected

    def line(self) -> str:
        """One line for a terminal or a log: PASS/FAIL, the query, what went wrong."""
        ranked = f", ranked by {weights(self.pinned.blend)}" if self.pinned.blend else ""
        head = f"{'PASS' if self.passed else 'FAIL'}  {self.pinned.query!r} (k={self.pinned.k}{ranked})"
        if self.passed:
            n = len(self.pinned.must)
            return f"{head}: {n} required returned, {len(self.pinned.must_not)} forbidden kept out"
        parts = []
        for mid in self.missing:
            w = self.why.get(mid)
            parts.append(f"missing {mid}" + (f" [{w.cause}: {w.message}]" if w else ""))
        for mid in self.unexpected:
            parts.append(f"unexpected {mid} at rank {self.returned.index(mid) + 1}")
        return f"{head}: " + "; ".join(parts)


class PinnedStore(SqliteFile):
    """Pinned queries in a SQLite file (the traces file: they travel with the store)."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(path, _SCHEMA)
        with self._tx() as db:  # files pinned before blends existed lack the column
            columns = {row[1] for row in db.execute("PRAGMA table_info(pinned)")}
            if "blend" not in columns:
                db.execute("ALTER TABLE pinned ADD COLUMN blend TEXT")

    def add(self, pinned: PinnedQuery) -> PinnedQuery:
        with self._tx() as db:
            db.execute(
                "INSERT INTO pinned(id, collection, query, must, must_not, k, filter, created, blend) "
                "VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    pinned.id,
                    pinned.collection,
                    pinned.query,
                    json.dumps(list(pinned.must)),
                    json.dumps(list(pinned.must_not)),
                    pinned.k,
                    filter_to_json(pinned.filter),
                    pinned.created.timestamp() if pinned.created else time.time(),
                    json.dumps(pinned.blend.to_dict()) if pinned.blend else None,
                ),
            )
        return pinned

    def resolve(self, id_or_prefix: str) -> PinnedQuery:
        """The pinned query with this id or unique id prefix (as a person types it, from
        `memlens pins`); KeyError otherwise."""
        found = [p for p in self.all() if p.id.startswith(id_or_prefix)] if id_or_prefix else []
        exact = [p for p in found if p.id == id_or_prefix]
        if len(exact or found) != 1:
            what = "matches more than one pinned query" if found else "matches no pinned query"
            raise KeyError(f"{id_or_prefix!r} {what} in {self.path}.")
        return (exact or found)[0]

    def remove(self, pinned_id: str) -> bool:
        with self._tx() as db:
            return db.execute("DELETE FROM pinned WHERE id=?", (pinned_id,)).rowcount > 0

    def all(self, collection: str | None = None) -> list[PinnedQuery]:
        """Pinned queries in the order they were pinned (those of `collection` when given)."""
        sql = "SELECT id, collection, query, must, must_not, k, filter, created, blend FROM pinned"
        args: list = []
        if collection is not None:
            sql += " WHERE collection = ?"
            args.append(collection)
        return [
            PinnedQuery(
                query=query,
                must=tuple(json.loads(must)),
                must_not=tuple(json.loads(must_not)),
                k=k,
                filter=filter_from_json(flt) or Filter(),
                collection=col,
                id=pid,
                created=datetime.fromtimestamp(created, UTC),
                blend=blend_of({"blend": json.loads(blend)}) if blend else None,
            )
            for pid, col, query, must, must_not, k, flt, created, blend in self._rows(
                sql + " ORDER BY seq", args
            )
        ]


def check_one(service: MemoryService, pinned: PinnedQuery, origin: str = CLI) -> PinnedResult:
    """Run one pinned query through the service (recorded as a trace when traces are on)."""
    started = time.perf_counter()
    vector = service.embedder.encode([pinned.query])[0]
    hits = service.search_vector(vector, pinned.k, pinned.filter, text=pinned.query, blend=pinned.blend)
    trace = search_trace(
        pinned.query,
        vector,
        pinned.k,
        pinned.filter,
        hits,
        (time.perf_counter() - started) * 1000.0,
        origin=origin,
        collection=service.store.collection,
        model=service.embedder.name,
        blend=pinned.blend,
    )
    if service.traces is not None:
        service.traces.record(trace)
    returned = tuple(h.record.id for h in hits)
    missing = tuple(m for m in pinned.must if m not in returned)
    unexpected = tuple(m for m in returned if m in set(pinned.must_not))
    why = explain(service, trace, missing) if missing else {}
    return PinnedResult(pinned, returned, missing, unexpected, why, trace)


def check_pinned(
    service: MemoryService, pinned: Sequence[PinnedQuery], origin: str = CLI
) -> list[PinnedResult]:
    """Run every pinned query, in order; see `check_one`."""
    return [check_one(service, p, origin) for p in pinned]
