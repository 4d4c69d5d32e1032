"""Every session MemLens has heard of in this run, and what happened in each.

Fed with events from any thread (plugins here, agents in other processes); read by the
window. Deltas of a message being streamed are kept as its text so far, until the whole
message replaces them.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass

from memlens.plugin_api.events import (
    Event,
    MemoryAdded,
    MemoryDeleted,
    MemoryUpdated,
    MessageDelta,
    MessageExchanged,
    RetrievalPerformed,
    Session,
    SessionEnded,
    SessionStarted,
    SessionStatus,
)

UNKNOWN_AGENT = "unknown agent"
ADDED, UPDATED, DELETED = "added", "updated", "deleted"


@dataclass(frozen=True)
class Partial:
    """A message being streamed: the text received so far."""

    message_id: str
    role: str
    text: str


@dataclass
class _Log:
    session: Session
    events: list[Event]
    partials: dict[str, Partial]
    memories: dict[str, str]  # memory id -> what the session last did to it
    retrievals: int = 0


class SessionRegistry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._logs: dict[str, _Log] = {}

    def apply(self, event: Event) -> None:
        with self._lock:
            log = self._logs.get(event.session_id)
            if isinstance(event, SessionStarted):
                if log is None:
                    self._logs[event.session_id] = _Log(event.session, [event], {}, {})
                else:  # events came before the start (another process): keep them
                    log.session = event.session
                    log.events.insert(0, event)
                return
            if log is None:  # an agent elsewhere that never said it started
                log = self._logs[event.session_id] = _Log(
                    Session(id=event.session_id, agent=UNKNOWN_AGENT, started_at=event.time), [], {}, {}
                )
            if isinstance(event, MessageDelta):
                old = log.partials.get(event.message_id)
                log.partials[event.message_id] = Partial(
                    event.message_id, event.role, (old.text if old else "") + event.delta
                )
                if old is None:
                    log.events.append(event)  # marks where the message sits in the transcript
                return
            log.events.append(event)
            if isinstance(event, MessageExchanged):
                log.partials.pop(event.message_id, None)
            elif isinstance(event, SessionEnded):
                log.session = dataclasses.replace(log.session, status=event.status, ended_at=event.time)
            elif isinstance(event, RetrievalPerformed):
                log.retrievals += 1
            elif isinstance(event, MemoryAdded):
                log.memories[event.memory_id] = ADDED
            elif isinstance(event, MemoryUpdated):
                # A memory the session made and then changed is still one it made.
                made_here = log.memories.get(event.memory_id) == ADDED
                log.memories[event.memory_id] = ADDED if made_here else UPDATED
            elif isinstance(event, MemoryDeleted):
                log.memories[event.memory_id] = DELETED

    # -- reading -------------------------------------------------------------------------
    def sessions(self) -> list[Session]:
        """Newest first."""
        with self._lock:
            return sorted((g.session for g in self._logs.values()), key=lambda s: s.started_at, reverse=True)

    def get(self, session_id: str) -> Session | None:
        with self._lock:
            log = self._logs.get(session_id)
            return log.session if log else None

    def live(self) -> list[Session]:
        return [s for s in self.sessions() if s.status == SessionStatus.LIVE]

    def transcript(self, session_id: str) -> list[Event | Partial]:
        """The session's events in order, a message still streaming as its `Partial`,
        and the first delta of a finished message dropped (the message itself follows)."""
        with self._lock:
            log = self._logs.get(session_id)
            if log is None:
                return []
            out: list[Event | Partial] = []
            for e in log.events:
                if isinstance(e, MessageDelta):
                    partial = log.partials.get(e.message_id)
                    if partial is not None:
                        out.append(partial)
                else:
                    out.append(e)
            return out

    def memories(self, session_id: str) -> dict[str, str]:
        """Memory id -> "added" / "updated" / "deleted": what the session did to it last."""
        with self._lock:
            log = self._logs.get(session_id)
            return dict(log.memories) if log else {}

    def counts(self, session_id: str) -> tuple[int, int, int]:
        """(messages, retrievals, memories written)."""
        with self._lock:
            log = self._logs.get(session_id)
            if log is None:
                return 0, 0, 0
            messages = sum(isinstance(e, MessageExchanged) for e in log.events)
            return messages, log.retrievals, len(log.memories)
