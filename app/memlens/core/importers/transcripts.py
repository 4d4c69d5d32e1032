"""Conversation transcripts to episodic memories, whatever file they came from.

Every transcript importer (MemoryBank, the generic sessions JSON, OpenAI chat messages)
reads its format into `Session`s and hands them here, so the memories they make look
alike: one memory per user turn (the reply that followed is kept with it as context),
or, when the file lists memories already extracted, one per listed memory with the turns
it cites as evidence. Each memory keeps its source turns for the inspector and for
support checks, belongs to the session's user, and is dated by its turn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from memlens.core.jsonl import LineError
from memlens.core.record import MemoryRecord

USER_ROLES = frozenset({"user"})
ROLES = frozenset({"user", "assistant", "system", "developer", "tool", "function"})
_STEP = timedelta(seconds=30)  # between undated turns, so a session keeps its order


@dataclass(frozen=True)
class Turn:
    role: str
    text: str
    id: str
    speaker: str | None = None
    time: datetime | None = None
    line: int = 0

    def as_source(self) -> dict[str, Any]:
        out: dict[str, Any] = {"role": self.speaker or self.role, "text": self.text, "message_id": self.id}
        if self.time is not None:
            out["time"] = self.time.isoformat()
        return out


@dataclass(frozen=True)
class ListedMemory:
    """A memory the file states outright, with the ids of the turns it rests on."""

    text: str
    evidence: tuple[str, ...] = ()
    kind: str = "episodic"
    tags: tuple[str, ...] = ()
    importance: float | None = None
    line: int = 0


@dataclass
class Session:
    id: str
    turns: list[Turn]
    user_id: str | None = None
    agent_id: str | None = None
    started_at: datetime | None = None
    memories: list[ListedMemory] | None = None
    line: int = 0
    extra_source: dict[str, Any] = field(default_factory=dict)


def _turn_times(session: Session, default_time: datetime) -> list[datetime]:
    start = session.started_at or default_time
    return [t.time or start + _STEP * n for n, t in enumerate(session.turns)]


def session_records(
    session: Session, dataset: str, id_prefix: str, default_time: datetime
) -> tuple[list[MemoryRecord], list[LineError]]:
    """The memories of one session (see the module doc), and what could not be used."""
    times = _turn_times(session, default_time)
    base_source = {"type": "conversation", "dataset": dataset, "session": session.id, **session.extra_source}
    records: list[MemoryRecord] = []
    errors: list[LineError] = []

    def record(suffix: str, text: str, when: datetime, turns: list[Turn], **fields: Any) -> MemoryRecord:
        return MemoryRecord(
            id=f"{id_prefix}:{session.id}:{suffix}",
            text=text,
            user_id=session.user_id or next((t.speaker for t in turns if t.role in USER_ROLES), None),
            agent_id=session.agent_id,
            session_id=session.id,
            created_at=when,
            updated_at=when,
            source={**base_source, "turns": [t.as_source() for t in turns]},
            **fields,
        )

    if session.memories is not None:
        by_id = {t.id: (t, times[n]) for n, t in enumerate(session.turns)}
        for k, memory in enumerate(session.memories, start=1):
            missing = [e for e in memory.evidence if e not in by_id]
            if missing:
                errors.append(
                    LineError(memory.line, f"session {session.id!r}: evidence {missing} names no turn")
                )
                continue
            cited = [by_id[e] for e in memory.evidence]
            when = max((w for _, w in cited), default=session.started_at or default_time)
            records.append(
                record(
                    f"m{k}",
                    memory.text,
                    when,
                    [t for t, _ in cited],
                    kind=memory.kind,
                    tags=memory.tags,
                    importance=memory.importance,
                )
            )
        return records, errors

    for n, turn in enumerate(session.turns):
        if turn.role not in USER_ROLES:
            continue
        if not turn.text.strip():
            errors.append(LineError(turn.line, f"session {session.id!r}: turn {turn.id!r} has no text"))
            continue
        replies = []
        for later in session.turns[n + 1 :]:
            if later.role in USER_ROLES:
                break
            if later.role == "assistant" and later.text.strip():
                replies.append(later)
        records.append(record(turn.id, turn.text, times[n], [turn, *replies], kind="episodic"))
    return records, errors
