"""The store as a plugin sees it: the collection open in MemLens, through its service.

Every write is journaled (undoable, with the plugin or session as actor) and every search
is recorded as a retrieval trace, exactly as if the user had done it in the window. The
curation actions of the window (merge, status changes, supersede, keep one, dismissals,
bulk changes; API 1.1) are here too, each one undo step. When the user opens another
collection, the facade follows it; with none open, calls raise `StoreUnavailable` with a
message fit for the user.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Mapping, Sequence
from contextlib import closing
from datetime import datetime
from typing import TYPE_CHECKING, Any

from memlens.core.bulk import BulkChange
from memlens.core.bulk import apply as apply_bulk
from memlens.core.bulk import preview as preview_bulk
from memlens.core.conflicts import Conflict, find_conflicts
from memlens.core.conflicts import correct as correct_texts
from memlens.core.conflicts import supersede as supersede_memory
from memlens.core.dismissals import CONFLICT, DUPLICATE, Dismissals
from memlens.core.duplicates import DEFAULT_THRESHOLD, FLOOR, Cluster, DuplicateFinder
from memlens.core.duplicates import keep_one as keep_one_of
from memlens.core.merge import merge as merge_memories
from memlens.core.query import Filter, SearchHit
from memlens.core.ranking import Blend
from memlens.core.record import MemoryRecord, Status
from memlens.core.traces import Trace

if TYPE_CHECKING:
    from memlens.core.service import MemoryService


class StoreUnavailable(RuntimeError):
    """No collection is open in MemLens (or it was closed)."""


class MemoryStoreView:
    """Reads, searches and journaled writes on the open collection.

    `actor` names the plugin in the journal ("plugin:<name>"); a session's handle passes
    its own actor ("agent:<session id>") so the history says which conversation wrote what.
    """

    def __init__(self, service: Callable[[], MemoryService | None], actor: str) -> None:
        self._service = service
        self.actor = actor

    def for_actor(self, actor: str) -> MemoryStoreView:
        """The same store, writing under another name (a session's)."""
        return MemoryStoreView(self._service, actor)

    def _open(self) -> MemoryService:
        service = self._service()
        if service is None or not service.loaded:
            raise StoreUnavailable("No memory store is open in MemLens: open a store and a collection first.")
        return service

    # -- reading ---------------------------------------------------------------------------
    @property
    def available(self) -> bool:
        service = self._service()
        return service is not None and service.loaded

    @property
    def collection(self) -> str:
        return self._open().store.collection

    def count(self) -> int:
        """Memories in the collection, trash included."""
        return len(self._open())

    def get(self, memory_id: str) -> MemoryRecord | None:
        return self._open().get(memory_id)

    def list(self, flt: Filter = Filter(), limit: int | None = 100) -> list[MemoryRecord]:
        """Memories the filter lets through, newest first (active ones by default)."""
        service = self._open()
        ids = service.select(flt)
        return service.records(ids if limit is None else ids[:limit])

    def search(
        self,
        query: str,
        k: int = 5,
        flt: Filter = Filter(),
        *,
        origin: str | None = None,
        session_id: str | None = None,
        blend: Blend | None = None,
    ) -> list[SearchHit]:
        """Search by meaning (re-ranked by `blend` when given); recorded as a trace
        (origin: the plugin, unless given)."""
        hits, _trace = self.search_traced(query, k, flt, origin=origin, session_id=session_id, blend=blend)
        return hits

    def search_traced(
        self,
        query: str,
        k: int = 5,
        flt: Filter = Filter(),
        *,
        origin: str | None = None,
        session_id: str | None = None,
        blend: Blend | None = None,
    ) -> tuple[list[SearchHit], Trace | None]:
        """`search`, also returning the trace it recorded (None when no trace store is attached)."""
        service = self._open()
        hits = service.semantic_search(
            query, k, flt, origin=origin or self.actor, session_id=session_id, blend=blend
        )
        trace = None
        if service.traces is not None and query.strip():
            # The service records the trace but does not return it: the newest trace of
            # this origin and session is ours (a session searches one turn at a time).
            found = service.traces.find(
                collection=service.store.collection,
                origin=origin or self.actor,
                session_id=session_id,
                limit=1,
            )
            trace = found[0] if found and found[0].query == query else None
        return hits, trace

    def record_trace(self, trace: Trace) -> Trace | None:
        """Keep a retrieval an agent made elsewhere (its own vector store) as a trace of the
        open collection; None when the trace file refused it."""
        service = self._open()
        if service.traces is None:
            return None
        return service.traces.record(dataclasses.replace(trace, collection=service.store.collection))

    # -- writing ---------------------------------------------------------------------------
    def add(
        self,
        text: str,
        *,
        actor: str | None = None,
        reason: str | None = None,
        label: str | None = None,
        **fields: Any,
    ) -> MemoryRecord:
        """Embed and add one memory (one undo step). `fields` are MemoryRecord fields."""
        if not text.strip():
            raise ValueError("a memory needs some text")
        service = self._open()
        record = MemoryRecord(id=fields.pop("id", None) or str(uuid.uuid4()), text=text, **fields)
        service.add([record], actor=actor or self.actor, reason=reason, label=label)
        return service.get(record.id) or record

    def update(
        self,
        memory_id: str,
        *,
        actor: str | None = None,
        reason: str | None = None,
        **fields: Any,
    ) -> MemoryRecord:
        """Change fields of one memory (a new text is re-embedded); one undo step."""
        service = self._open()
        service.edit(memory_id, actor=actor or self.actor, reason=reason, **fields)
        return service.get(memory_id)  # type: ignore[return-value]

    def delete(
        self, memory_ids: Sequence[str], *, actor: str | None = None, reason: str | None = None
    ) -> None:
        """Soft delete: the memories go to MemLens' trash and can be restored."""
        self._open().delete(list(memory_ids), actor=actor or self.actor, reason=reason)

    def flag(self, memory_ids: Sequence[str], *, actor: str | None = None, reason: str | None = None) -> None:
        """Mark memories as suspect; they head the Review tab, with `reason` shown."""
        self._open().set_status(list(memory_ids), Status.FLAGGED, actor=actor or self.actor, reason=reason)

    # -- curating (API 1.1) ----------------------------------------------------------------
    def duplicates(self, threshold: float = DEFAULT_THRESHOLD) -> list[Cluster]:
        """Clusters of near-duplicate current memories, as the Duplicates tab lists them
        (dismissed pairs left out). Slow on a large collection: it asks the index for each."""
        service = self._open()
        with closing(Dismissals(service)) as dismissals:
            dismissed = dismissals.pairs(DUPLICATE)
        return DuplicateFinder(service, floor=min(threshold, FLOOR)).clusters(threshold, dismissed)

    def conflicts(self) -> list[Conflict]:
        """Pairs of memories that disagree (`a` the older), as the Conflicts tab lists them
        without a language model (dismissed and superseded pairs left out)."""
        service = self._open()
        with closing(Dismissals(service)) as dismissals:
            return find_conflicts(service, dismissed=dismissals.pairs(CONFLICT))

    def _set_status(
        self, memory_ids: Sequence[str], status: Status, actor: str | None, reason: str | None
    ) -> None:
        self._open().set_status(list(memory_ids), status, actor=actor or self.actor, reason=reason)

    def archive(
        self, memory_ids: Sequence[str], *, actor: str | None = None, reason: str | None = None
    ) -> None:
        """Hide memories without deleting them (listed in the Trash, restorable)."""
        self._set_status(memory_ids, Status.ARCHIVED, actor, reason)

    def verify(
        self, memory_ids: Sequence[str], *, actor: str | None = None, reason: str | None = None
    ) -> None:
        """Mark memories as checked and true (they leave the Review tab)."""
        self._set_status(memory_ids, Status.VERIFIED, actor, reason)

    def restore(
        self, memory_ids: Sequence[str], *, actor: str | None = None, reason: str | None = None
    ) -> None:
        """Make memories current again: out of the trash or the archive, or no longer flagged."""
        self._set_status(memory_ids, Status.ACTIVE, actor, reason)

    def merge(
        self,
        memory_ids: Sequence[str],
        text: str | None = None,
        *,
        actor: str | None = None,
        reason: str | None = None,
    ) -> MemoryRecord:
        """Merge two or more current memories into a new one (`text`, else the most complete
        source text); the sources are archived and links to them re-pointed. Returns the new
        memory; raises `MergeRefused` (a ValueError) naming what is wrong, writing nothing."""
        service = self._open()
        _change, merged = merge_memories(service, list(memory_ids), text, actor or self.actor, reason)
        return service.get(merged.id) or merged

    def keep_one(
        self,
        keep_id: str,
        other_ids: Sequence[str],
        *,
        actor: str | None = None,
        reason: str | None = None,
    ) -> None:
        """Of near-duplicates, keep `keep_id` and archive the others (restorable); links to
        them point at the kept one. Raises `KeepOneRefused` (a ValueError), writing nothing."""
        keep_one_of(self._open(), keep_id, list(other_ids), actor or self.actor, reason)

    def supersede(
        self,
        old_id: str,
        new_id: str,
        *,
        when: datetime | None = None,
        actor: str | None = None,
        reason: str | None = None,
    ) -> MemoryRecord:
        """Resolve a conflict by keeping both, `old_id` valid only until `new_id` was learned
        (or until `when`). Returns the superseded memory, its `valid_to` set."""
        service = self._open()
        supersede_memory(service, old_id, new_id, reason, when, actor or self.actor)
        return service.get(old_id)  # type: ignore[return-value]

    def correct(
        self, texts: Mapping[str, str], *, actor: str | None = None, reason: str | None = None
    ) -> list[MemoryRecord]:
        """New texts for several memories at once (both sides of a conflict), one undo step;
        returns them as stored."""
        service = self._open()
        correct_texts(service, texts, actor or self.actor, reason)
        return service.records(texts)

    def _dismiss(self, kind: str, memory_ids: Sequence[str], actor: str | None, reason: str | None) -> None:
        with closing(Dismissals(self._open())) as dismissals:
            dismissals.dismiss(kind, memory_ids, reason, actor or self.actor)

    def dismiss_duplicates(
        self, memory_ids: Sequence[str], *, actor: str | None = None, reason: str | None = None
    ) -> None:
        """Say these memories are different facts: no pair of them is offered as duplicates
        again (the window's "Keep all"); undoing the step offers them again."""
        self._dismiss(DUPLICATE, memory_ids, actor, reason)

    def dismiss_conflict(
        self, a_id: str, b_id: str, *, actor: str | None = None, reason: str | None = None
    ) -> None:
        """Say both memories are true: the pair is not offered as a conflict again (the
        window's "Keep both"); undoing the step offers it again."""
        self._dismiss(CONFLICT, [a_id, b_id], actor, reason)

    def bulk_preview(
        self, memory_ids: Sequence[str], change: BulkChange
    ) -> list[tuple[MemoryRecord, MemoryRecord]]:
        """Exactly the memories `change` would alter, (before, after); nothing is written."""
        return preview_bulk(self._open(), list(memory_ids), change)

    def bulk(
        self,
        memory_ids: Sequence[str],
        change: BulkChange,
        *,
        actor: str | None = None,
        reason: str | None = None,
    ) -> list[MemoryRecord]:
        """Retag, reassign, archive or delete many memories as one undo step; returns the
        memories that changed, as stored now (those already so are left out)."""
        service = self._open()
        applied = apply_bulk(service, list(memory_ids), change, actor or self.actor, reason)
        return service.records(applied.ids)
