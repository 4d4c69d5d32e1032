"""Live agent sessions and what happens in them, as plain JSON-ready dataclasses.

Every event belongs to a session (one conversation of one agent). The same events reach
MemLens from plugins running inside it and, as JSON, from agents in other processes, so
each class round-trips through `to_dict()` / `event_from_dict()`. A dict carries the
schema version in "v"; a reader refuses a newer major version with a clear message and
ignores fields it does not know (a newer minor writer may add some).
"""

from __future__ import annotations

import dataclasses
import functools
import re
import types
import typing
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from memlens.core.record import format_time, parse_time, utc_now

#: Version of the JSON form of sessions and events.
EVENT_SCHEMA_VERSION = 1

# Message roles. "notice" and "error" are lines the agent (or MemLens) adds to the
# transcript for the person watching: what was skipped, what failed.
USER, ASSISTANT, SYSTEM, TOOL, NOTICE, ERROR = "user", "assistant", "system", "tool", "notice", "error"
ROLES = (USER, ASSISTANT, SYSTEM, TOOL, NOTICE, ERROR)


class SessionStatus(StrEnum):
    LIVE = "live"
    ENDED = "ended"
    FAILED = "failed"


def new_session_id(agent: str) -> str:
    """A readable unique id: the agent's name as a slug and 8 hex digits ("chat-agent-3f2a1c9e")."""
    slug = re.sub(r"[^a-z0-9]+", "-", agent.lower()).strip("-")[:32] or "session"
    return f"{slug}-{uuid.uuid4().hex[:8]}"


def session_actor(session_id: str) -> str:
    """Who the journal and the trace store name for a session's writes and retrievals."""
    return f"agent:{session_id}"


# -- JSON conversion ---------------------------------------------------------------------
def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, _Json):
        return value.to_dict()
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any, hint: Any, where: str) -> Any:
    """Turn a JSON value back into the type a field is declared with."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None:
            return None
        return _decode(value, args[0], where)
    if hint is datetime:
        when = parse_time(value)
        if when is None:
            raise ValueError(f"{where} is not an ISO-8601 time: {value!r}")
        return when
    if isinstance(hint, type) and issubclass(hint, StrEnum):
        try:
            return hint(value)
        except ValueError:
            raise ValueError(f"{where} must be one of {', '.join(m.value for m in hint)}") from None
    if isinstance(hint, type) and issubclass(hint, _Json):
        return hint.from_dict(value)
    if origin is tuple:
        item = typing.get_args(hint)[0]
        if not isinstance(value, list | tuple):
            raise ValueError(f"{where} must be a list")
        return tuple(_decode(v, item, f"{where}[{n}]") for n, v in enumerate(value))
    if hint is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if origin is dict and not isinstance(value, dict):
        raise ValueError(f"{where} must be an object")
    if hint in (str, int, dict) and not isinstance(value, hint):
        raise ValueError(f"{where} must be a {hint.__name__}, not {type(value).__name__}")
    return value


@functools.cache
def _type_hints(cls: type) -> dict[str, Any]:
    # Resolving string annotations costs more than decoding an event: once per class.
    return typing.get_type_hints(cls)


class _Json:
    """to_dict / from_dict for the dataclasses below, driven by their type hints."""

    KIND: ClassVar[str] = ""

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _encode(getattr(self, f.name)) for f in dataclasses.fields(self)}  # type: ignore[arg-type]

    @classmethod
    def from_dict(cls, data: dict[str, Any]):
        name = cls.KIND or cls.__name__
        if not isinstance(data, dict):
            raise ValueError(f"{name} must be a JSON object")
        hints = _type_hints(cls)
        kwargs = {}
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            if f.name in data:
                kwargs[f.name] = _decode(data[f.name], hints[f.name], f"{name} field '{f.name}'")
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ValueError(f"{name} is missing field '{f.name}'")
        return cls(**kwargs)


# -- sessions ------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class Session(_Json):
    """One conversation of one agent, as the Sessions panel lists it."""

    id: str
    agent: str
    started_at: datetime = field(default_factory=utc_now)
    status: SessionStatus = SessionStatus.LIVE
    plugin: str | None = None  # the plugin running the agent; None for an agent elsewhere
    title: str | None = None
    ended_at: datetime | None = None

    @property
    def actor(self) -> str:
        return session_actor(self.id)


@dataclass(frozen=True, kw_only=True)
class RetrievedMemory(_Json):
    """One hit of a retrieval, with the text it had when it was retrieved."""

    memory_id: str
    rank: int
    score: float | None = None
    distance: float | None = None
    text: str | None = None


# -- events --------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class Event(_Json):
    session_id: str
    time: datetime = field(default_factory=utc_now)

    def to_dict(self) -> dict[str, Any]:
        return {"v": EVENT_SCHEMA_VERSION, "kind": self.KIND, **super().to_dict()}


@dataclass(frozen=True, kw_only=True)
class SessionStarted(Event):
    KIND: ClassVar[str] = "session.started"
    session: Session

    @classmethod
    def of(cls, session: Session) -> SessionStarted:
        return cls(session_id=session.id, session=session, time=session.started_at)


@dataclass(frozen=True, kw_only=True)
class SessionEnded(Event):
    KIND: ClassVar[str] = "session.ended"
    status: SessionStatus = SessionStatus.ENDED
    error: str | None = None


@dataclass(frozen=True, kw_only=True)
class MessageDelta(Event):
    """A piece of a message still being written (a streamed answer)."""

    KIND: ClassVar[str] = "message.delta"
    message_id: str
    role: str = ASSISTANT
    delta: str


@dataclass(frozen=True, kw_only=True)
class MessageExchanged(Event):
    """A whole message: what the user said, what the agent answered, a notice or an error.
    After deltas, the final message with the same `message_id` carries the full text."""

    KIND: ClassVar[str] = "message"
    message_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    role: str
    text: str


@dataclass(frozen=True, kw_only=True)
class MemoryAdded(Event):
    KIND: ClassVar[str] = "memory.added"
    memory_id: str
    text: str
    record: dict[str, Any] | None = None  # the whole record (MemoryRecord.to_dict), when known


@dataclass(frozen=True, kw_only=True)
class MemoryUpdated(Event):
    KIND: ClassVar[str] = "memory.updated"
    memory_id: str
    text: str
    before_text: str | None = None


@dataclass(frozen=True, kw_only=True)
class MemoryDeleted(Event):
    KIND: ClassVar[str] = "memory.deleted"
    memory_id: str
    text: str | None = None


@dataclass(frozen=True, kw_only=True)
class RetrievalPerformed(Event):
    """A retrieval the session made; `trace_id` names its trace when MemLens recorded one."""

    KIND: ClassVar[str] = "retrieval"
    query: str
    k: int
    hits: tuple[RetrievedMemory, ...] = ()
    trace_id: str | None = None
    latency_ms: float | None = None


MEMORY_EVENTS = (MemoryAdded, MemoryUpdated, MemoryDeleted)
EVENT_TYPES: dict[str, type[Event]] = {
    cls.KIND: cls
    for cls in (
        SessionStarted,
        SessionEnded,
        MessageDelta,
        MessageExchanged,
        MemoryAdded,
        MemoryUpdated,
        MemoryDeleted,
        RetrievalPerformed,
    )
}


def event_from_dict(data: dict[str, Any]) -> Event:
    """Read one event written by `Event.to_dict()` (here or in another process).

    Raises ValueError naming what is wrong: not an object, a newer schema, an unknown
    kind, a missing or mistyped field.
    """
    if not isinstance(data, dict):
        raise ValueError("an event must be a JSON object")
    version = data.get("v", EVENT_SCHEMA_VERSION)
    if not isinstance(version, int) or version < 1:
        raise ValueError(f"event field 'v' must be a positive integer, not {version!r}")
    if version > EVENT_SCHEMA_VERSION:
        raise ValueError(
            f"event schema version {version} is newer than this MemLens reads ({EVENT_SCHEMA_VERSION}); "
            "update MemLens"
        )
    kind = data.get("kind")
    cls = EVENT_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ValueError(f"unknown event kind {kind!r}; one of {', '.join(EVENT_TYPES)}")
    return cls.from_dict({k: v for k, v in data.items() if k not in ("v", "kind")})
