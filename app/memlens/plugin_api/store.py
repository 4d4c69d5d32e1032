"""The store as a plugin sees it: the collection open in MemLens, through its service.

Every write is journaled (undoable, with the plugin or session as actor) and every search
is recorded as a retrieval trace, exactly as if the user had done it in the window. When
the user opens another collection, the facade follows it; with none open, calls raise
`StoreUnavailable` with a message fit for the user.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

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
