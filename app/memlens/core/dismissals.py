"""Pairs a user looked at and said "these are fine": not offered again as duplicates or conflicts.

Keeping a cluster (or both sides of a conflict) is a journaled step like any other: a
group with one "dismiss" operation per memory, the memories left as they are, and its
pairs recorded against that group in the journal's own SQLite file. A pair counts as
dismissed while its group is applied, so undo and redo of the step (and a crash that cut
it short) need no code of their own here.
"""

from __future__ import annotations

from collections.abc import Sequence

from memlens.core.journal import APPLIED
from memlens.core.service import Change, MemoryService
from memlens.core.sqlite_file import SqliteFile

_SCHEMA = """
CREATE TABLE IF NOT EXISTS dismissed_pairs (
    group_id TEXT NOT NULL,
    collection TEXT NOT NULL,
    kind TEXT NOT NULL,
    a TEXT NOT NULL,
    b TEXT NOT NULL,
    PRIMARY KEY (group_id, a, b)
);
CREATE INDEX IF NOT EXISTS dismissed_pairs_kind ON dismissed_pairs(collection, kind);
"""
DUPLICATE, CONFLICT = "duplicate", "conflict"
_LABELS = {DUPLICATE: "Keep {n} memories as distinct", CONFLICT: "Keep both: not a conflict"}


def _pairs(ids: Sequence[str]) -> list[tuple[str, str]]:
    ordered = sorted(set(ids))
    return [(a, b) for i, a in enumerate(ordered) for b in ordered[i + 1 :]]


class Dismissals(SqliteFile):
    """The dismissed pairs of one collection, beside its journal."""

    def __init__(self, service: MemoryService) -> None:
        super().__init__(service.journal.path, _SCHEMA, durable=True)
        self.service = service
        self.collection = service.store.collection

    def dismiss(
        self, kind: str, ids: Sequence[str], reason: str | None = None, actor: str = "user"
    ) -> Change:
        """Dismiss every pair among `ids` (a cluster of three dismisses three pairs), as one
        undo step."""
        if kind not in _LABELS:
            raise ValueError(f"unknown dismissal kind {kind!r}; one of {', '.join(_LABELS)}")
        pairs = _pairs(ids)
        if not pairs:
            raise ValueError("a dismissal needs two or more different memories")
        label = _LABELS[kind].format(n=len(ids))
        change = self.service.annotate(list(dict.fromkeys(ids)), "dismiss", label, actor, reason)
        with self._tx() as db:
            db.executemany(
                "INSERT OR REPLACE INTO dismissed_pairs VALUES (?,?,?,?,?)",
                [(change.group_id, self.collection, kind, a, b) for a, b in pairs],
            )
        return change

    def pairs(self, kind: str) -> set[frozenset[str]]:
        """The pairs dismissed by steps that are applied now (not undone)."""
        rows = self._rows(
            "SELECT d.a, d.b FROM dismissed_pairs d JOIN groups g ON g.id = d.group_id "
            "WHERE d.collection=? AND d.kind=? AND g.state=?",
            (self.collection, kind, APPLIED),
        )
        return {frozenset(r) for r in rows}
