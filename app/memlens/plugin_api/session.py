"""A live session as the agent running it holds it: talk, retrieve, remember, forget.

Each call does the work through the store facade (journaled with the session as actor,
retrievals recorded as traces with the session as origin) and publishes the matching
event, so the window shows it as it happens.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from typing import Any, Protocol

from memlens.core.query import Filter, SearchHit
from memlens.core.ranking import Blend
from memlens.core.record import MemoryRecord
from memlens.plugin_api.events import (
    ASSISTANT,
    ERROR,
    NOTICE,
    USER,
    Event,
    MemoryAdded,
    MemoryDeleted,
    MemoryUpdated,
    MessageDelta,
    MessageExchanged,
    RetrievalPerformed,
    RetrievedMemory,
    Session,
    SessionEnded,
    SessionStatus,
)
from memlens.plugin_api.store import MemoryStoreView


class EventPublisher(Protocol):
    """Takes events from any thread; MemLens shows them in the window."""

    def publish(self, event: Event) -> None: ...


class SessionHandle:
    def __init__(self, info: Session, store: MemoryStoreView, events: EventPublisher) -> None:
        self.info = info
        self.store = store
        self.events = events
        self._lock = threading.Lock()
        self._messages: list[MessageExchanged] = []
        self.ended = False

    @property
    def id(self) -> str:
        return self.info.id

    @property
    def actor(self) -> str:
        return self.info.actor

    @property
    def messages(self) -> list[MessageExchanged]:
        """The conversation so far (user and assistant messages), oldest first."""
        with self._lock:
            return list(self._messages)

    # -- talking ---------------------------------------------------------------------------
    def say(self, role: str, text: str, message_id: str | None = None) -> MessageExchanged:
        message = MessageExchanged(
            session_id=self.id, role=role, text=text, message_id=message_id or uuid.uuid4().hex[:12]
        )
        if role in (USER, ASSISTANT):
            with self._lock:
                self._messages.append(message)
        self.events.publish(message)
        return message

    def stream(self, role: str = ASSISTANT) -> MessageStream:
        """A message written piece by piece: `write()` each piece, then `close()` (or use `with`)."""
        return MessageStream(self, role)

    def notice(self, text: str) -> None:
        """A line for the person watching: what was skipped or decided."""
        self.say(NOTICE, text)

    def error(self, text: str) -> None:
        self.say(ERROR, text)

    # -- memory ----------------------------------------------------------------------------
    def search(
        self, query: str, k: int = 5, flt: Filter = Filter(), blend: Blend | None = None
    ) -> list[SearchHit]:
        """Retrieve memories (re-ranked by `blend` when given); recorded as a trace of this
        session, each signal's part of each score included, and shown as it happens."""
        hits, trace = self.store.search_traced(
            query, k, flt, origin=self.actor, session_id=self.id, blend=blend
        )
        self.events.publish(
            RetrievalPerformed(
                session_id=self.id,
                query=query,
                k=k,
                hits=tuple(
                    RetrievedMemory(
                        memory_id=h.record.id,
                        rank=h.rank,
                        score=h.score,
                        distance=h.distance,
                        text=h.record.text,
                    )
                    for h in hits
                ),
                trace_id=trace.id if trace else None,
                latency_ms=trace.latency_ms if trace else None,
            )
        )
        return hits

    def add(self, text: str, reason: str | None = None, **fields: Any) -> MemoryRecord:
        """Remember something new; the memory's `session_id` is this session unless given."""
        fields.setdefault("session_id", self.id)
        record = self.store.add(
            text, actor=self.actor, reason=reason, label=f"{self.info.agent}: remember", **fields
        )
        self.events.publish(
            MemoryAdded(session_id=self.id, memory_id=record.id, text=record.text, record=record.to_dict())
        )
        return record

    def update(self, memory_id: str, reason: str | None = None, **fields: Any) -> MemoryRecord:
        before = self.store.get(memory_id)
        if before is None:
            raise KeyError(f"No memory with id {memory_id!r} in the open collection.")
        record = self.store.update(memory_id, actor=self.actor, reason=reason, **fields)
        self.events.publish(
            MemoryUpdated(session_id=self.id, memory_id=memory_id, text=record.text, before_text=before.text)
        )
        return record

    def delete(self, memory_ids: Sequence[str], reason: str | None = None) -> None:
        records = {mid: self.store.get(mid) for mid in memory_ids}
        missing = [mid for mid, r in records.items() if r is None]
        if missing:
            raise KeyError(f"No memory with id {missing[0]!r} in the open collection.")
        self.store.delete(list(memory_ids), actor=self.actor, reason=reason)
        for mid, r in records.items():
            self.events.publish(MemoryDeleted(session_id=self.id, memory_id=mid, text=r.text if r else None))

    # -- the end ---------------------------------------------------------------------------
    def end(self, status: SessionStatus = SessionStatus.ENDED, error: str | None = None) -> None:
        if self.ended:
            return
        self.ended = True
        self.events.publish(SessionEnded(session_id=self.id, status=status, error=error))


class MessageStream:
    """Publishes each piece as a delta and, on close, the whole message once."""

    def __init__(self, session: SessionHandle, role: str) -> None:
        self.session = session
        self.role = role
        self.message_id = uuid.uuid4().hex[:12]
        self.parts: list[str] = []
        self.closed = False

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def write(self, piece: str) -> None:
        if not piece:
            return
        self.parts.append(piece)
        self.session.events.publish(
            MessageDelta(session_id=self.session.id, message_id=self.message_id, role=self.role, delta=piece)
        )

    def close(self) -> MessageExchanged | None:
        """Publish the whole message (nothing when no piece came)."""
        if self.closed:
            return None
        self.closed = True
        if not self.parts:
            return None
        return self.session.say(self.role, self.text, message_id=self.message_id)

    def __enter__(self) -> MessageStream:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
