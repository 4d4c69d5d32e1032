"""From an accepted item to the window: keep a retrieval as a trace, then publish the event.

Runs on the endpoint's delivering thread, one item at a time in arrival order, so a
session's events reach the Sessions panel in the order the agent sent them.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid

from memlens.core.traces import Trace, TraceHit
from memlens.plugin_api import (
    EventPublisher,
    MemoryStoreView,
    RetrievalPerformed,
    Session,
    SessionStarted,
    StoreUnavailable,
    session_actor,
)
from memlens_ingest.incoming import Item

log = logging.getLogger(__name__)


def trace_of(event: RetrievalPerformed) -> Trace | None:
    """The trace of a retrieval an agent reported (None without a query: nothing to replay)."""
    if not event.query.strip():
        return None
    return Trace(
        query=event.query,
        k=event.k,
        hits=tuple(TraceHit(h.memory_id, h.rank, h.distance, h.score, h.text) for h in event.hits),
        origin=session_actor(event.session_id),
        time=event.time,
        id=uuid.uuid4().hex,
        latency_ms=event.latency_ms,
        session_id=event.session_id,
        source={"via": "memlens.client"},
    )


def keep_trace(store: MemoryStoreView, trace: Trace) -> Trace | None:
    """File `trace` under the collection open in MemLens; None when none is open (the
    retrieval is still shown in its session) or the trace file refused it (logged)."""
    try:
        return store.record_trace(trace)
    except StoreUnavailable:
        return None


class Delivery:
    """Publishes items as events; a session an OpenTelemetry agent never announced is
    started with the agent's name, so the panel shows who it is."""

    def __init__(self, store: MemoryStoreView, events: EventPublisher) -> None:
        self.store = store
        self.events = events
        self._seen: set[str] = set()
        self.traces_kept = 0

    def __call__(self, item: Item) -> None:
        event = item.event
        sid = event.session_id
        if isinstance(event, SessionStarted):
            self._seen.add(sid)
        elif sid not in self._seen:
            self._seen.add(sid)
            if item.agent:
                session = Session(id=sid, agent=item.agent, started_at=event.time)
                self.events.publish(SessionStarted.of(session))
        if isinstance(event, RetrievalPerformed) and event.trace_id is None:
            trace = item.trace or trace_of(event)
            kept = keep_trace(self.store, trace) if trace is not None else None
            if kept is not None:
                self.traces_kept += 1
                event = dataclasses.replace(event, trace_id=kept.id)
        self.events.publish(event)
