"""Session events travel as JSON (to agents in other processes and back) without loss."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from memlens.plugin_api import (
    EVENT_SCHEMA_VERSION,
    EVENT_TYPES,
    MemoryAdded,
    MemoryDeleted,
    MemoryUpdated,
    MessageDelta,
    MessageExchanged,
    RetrievalPerformed,
    RetrievedMemory,
    Session,
    SessionEnded,
    SessionStarted,
    SessionStatus,
    event_from_dict,
    new_session_id,
)

WHEN = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def one_of_each() -> list:
    session = Session(id="chat-1", agent="Chat agent", started_at=WHEN, plugin="chat-agent", title="t")
    return [
        SessionStarted.of(session),
        MessageExchanged(session_id="chat-1", role="user", text="I moved to <b>Lyon</b>", time=WHEN),
        MessageDelta(session_id="chat-1", message_id="m2", delta="Noted", time=WHEN),
        RetrievalPerformed(
            session_id="chat-1",
            query="where do I live",
            k=5,
            hits=(RetrievedMemory(memory_id="a", rank=1, score=0.8, distance=0.2, text="Lives in Paris"),),
            trace_id="tr1",
            latency_ms=12.5,
            time=WHEN,
        ),
        MemoryAdded(session_id="chat-1", memory_id="b", text="Lives in Lyon", record={"id": "b"}, time=WHEN),
        MemoryUpdated(session_id="chat-1", memory_id="a", text="Lived in Paris", before_text="Lives there"),
        MemoryDeleted(session_id="chat-1", memory_id="c", text=None, time=WHEN),
        SessionEnded(session_id="chat-1", status=SessionStatus.FAILED, error="boom", time=WHEN),
    ]


def test_every_event_kind_round_trips_through_json_text():
    events = one_of_each()
    assert {e.KIND for e in events} == set(EVENT_TYPES)
    for event in events:
        wire = json.dumps(event.to_dict())
        data = json.loads(wire)
        assert data["v"] == EVENT_SCHEMA_VERSION and data["kind"] == event.KIND
        assert event_from_dict(data) == event


def test_session_ids_are_readable_and_unique():
    a, b = new_session_id("Chat agent"), new_session_id("Chat agent")
    assert a.startswith("chat-agent-") and a != b
    assert Session(id=a, agent="x").actor == f"agent:{a}"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"v": 99, "kind": "message"}, "schema version 99 is newer"),
        ({"kind": "memory.exploded", "session_id": "s"}, "unknown event kind 'memory.exploded'"),
        ({"kind": "memory.added", "session_id": "s", "text": "x"}, "missing field 'memory_id'"),
        ({"kind": "retrieval", "session_id": "s", "query": "q", "k": "five"}, "field 'k' must be a int"),
        ({"kind": "message", "session_id": "s", "role": "user", "text": "", "time": "today"}, "ISO-8601"),
        ({"kind": "session.ended", "session_id": "s", "status": "exploded"}, "must be one of live, ended"),
        (["not", "an", "object"], "must be a JSON object"),
    ],
)
def test_bad_events_are_refused_with_a_reason(data, message):
    with pytest.raises(ValueError, match=message):
        event_from_dict(data)


def test_fields_a_newer_minor_writer_adds_are_ignored():
    event = MemoryDeleted(session_id="s", memory_id="m")
    assert event_from_dict(event.to_dict() | {"confidence": 0.4}) == event
