"""memlens.client: the JSON it sends is MemLens' own event schema, it stays light, and it
never lets MemLens' absence, slowness or refusal reach the agent."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest
from ingest_support import free_port

from memlens.client import connect, connection, wire
from memlens.plugin_api import (
    EVENT_SCHEMA_VERSION,
    EVENT_TYPES,
    MemoryAdded,
    MessageExchanged,
    RetrievalPerformed,
    SessionEnded,
    SessionStarted,
    SessionStatus,
    events,
)


@pytest.fixture
def live(ingest):
    """(client, received): a client of the running endpoint, and a function returning the
    events MemLens received (read back with event_from_dict) once it has all of them."""
    harness, plugin = ingest
    client = connect(plugin.url, plugin.token)

    def received(session_id: str) -> list:
        assert client.flush(30)
        harness.wait_for(lambda: harness.of(SessionEnded, session_id))
        return [e for e in harness.events if e.session_id == session_id]

    yield client, received
    client.close()


def test_schema_is_the_plugin_apis():
    assert wire.SCHEMA_VERSION == EVENT_SCHEMA_VERSION
    assert set(wire.KINDS) == set(EVENT_TYPES) - {"message.delta"}  # the client sends whole messages
    assert tuple(events.ROLES) == wire.ROLES


def test_every_event_the_client_sends_reads_back_in_memlens(live):
    client, received = live
    s = client.session("reader-agent", title="round trip")
    s.message("user", "hello")
    s.memory_added(
        "m1", "Alice lives in Paris", record={"id": "m1", "text": "Alice lives in Paris"}, latency_ms=2
    )
    s.memory_updated("m1", "Alice lives in Lyon", before="Alice lives in Paris")
    s.memory_deleted("m1", "Alice lives in Lyon")
    s.retrieval(
        "where",
        [
            ("m1", 0.9, "Alice lives in Lyon"),
            {"id": "m2", "memory": "tea", "score": 0.5},
            {"id": "m3", "content": "x"},
        ],
        k=5,
        latency_ms=1.5,
    )
    with s.retrieving("timed", k=2) as r:
        r.hits = [{"memory_id": "m4", "distance": 0.3, "text": "y"}]
    s.end()
    events = received(s.id)
    kinds = [type(e) for e in events]
    assert kinds[0] is SessionStarted and kinds[-1] is SessionEnded
    started = events[0]
    assert (started.session.id, started.session.agent, started.session.title) == (
        s.id,
        "reader-agent",
        "round trip",
    )
    assert all(e.session_id == s.id for e in events)
    added = next(e for e in events if isinstance(e, MemoryAdded))
    assert added.record == {"id": "m1", "text": "Alice lives in Paris"}
    where, timed = [e for e in events if isinstance(e, RetrievalPerformed)]
    assert [(h.memory_id, h.rank, h.score, h.text) for h in where.hits] == [
        ("m1", 1, 0.9, "Alice lives in Lyon"),
        ("m2", 2, 0.5, "tea"),
        ("m3", 3, None, "x"),
    ]
    assert (where.k, where.latency_ms) == (5, 1.5)
    assert (timed.k, timed.hits[0].distance) == (2, 0.3) and timed.latency_ms >= 0
    assert events[-1].status == SessionStatus.ENDED


def test_a_hit_without_id_becomes_an_error_line_not_an_exception(live):
    client, received = live
    with client.session("careless-agent") as s:
        s.retrieval("q", [{"score": 0.4, "text": "no id"}])
    last = received(s.id)[-2]
    assert isinstance(last, MessageExchanged) and last.role == "error" and "no memory id" in last.text


def test_a_failing_session_block_ends_failed_and_the_exception_still_reaches_the_agent(live):
    client, received = live
    with pytest.raises(KeyError), client.session("crashy") as s:
        raise KeyError("boom")
    end = received(s.id)[-1]
    assert end.session_id == s.id and end.status == SessionStatus.FAILED and "KeyError" in end.error


def test_importing_the_client_pulls_in_nothing_heavy():
    code = (
        "import sys, memlens.client, memlens.client.mem0; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('numpy', 'chromadb', 'PySide6', 'torch', 'mem0') "
        "or m.startswith(('memlens.core', 'memlens.plugin'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_data_folder_is_memlens_own(monkeypatch, tmp_path):
    from memlens.core import workspace

    assert connection.data_dir() == workspace.data_dir()
    monkeypatch.delenv("MEMLENS_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert connection.data_dir() == workspace.data_dir()


def test_events_wait_for_memlens_and_a_gap_is_reported_in_the_session(memlens_harness, caplog):
    """MemLens starts after the agent: buffered events arrive; those that overflowed the
    buffer are counted, the agent was warned once, and the session says what is missing."""
    from memlens_ingest import IngestPlugin

    port = free_port()
    caplog.set_level(logging.WARNING, logger="memlens.client")
    client = connect(f"http://127.0.0.1:{port}", capacity=5)  # token: MemLens' file, read when sending
    s = client.session("early-agent")
    for n in range(8):
        s.message("user", f"message {n}")
    assert client.flush(1) is False  # nobody listens: at once, not after the timeout
    assert client.dropped == 4  # 9 events, 5 kept
    warnings = [r.message for r in caplog.records]
    assert len(warnings) == 1 and "dropping events" in warnings[0]  # told once, not per event

    memlens_harness.activate(IngestPlugin(), "ingest", settings={"port": port, "autostart": True})
    assert client.flush(30) is True
    host = memlens_harness.host
    memlens_harness.wait_for(
        lambda: any("dropped" in m.text for m in memlens_harness.of(MessageExchanged, s.id))
    )
    texts = [m.text for m in memlens_harness.of(MessageExchanged, s.id)]
    assert texts[:4] == ["message 0", "message 1", "message 2", "message 3"]  # the ones kept, in order
    assert "4 event(s) of this session were dropped" in texts[-1]
    assert host.sessions.get(s.id).agent == "early-agent"
    client.close()
    host.plugin("ingest").stop()


def test_a_wrong_token_costs_the_events_not_the_agent(ingest, caplog):
    harness, plugin = ingest
    caplog.set_level(logging.WARNING, logger="memlens.client")
    client = connect(plugin.url, token="wrong")
    with client.session("locked-out") as s:
        s.message("user", "hello")
    assert client.flush(10) is True  # delivered as far as it goes: refused, so dropped
    assert client.dropped == 3 and client.sent == 0
    assert "HTTP 401" in caplog.records[0].message
    assert harness.host.sessions.get(s.id) is None
    client.close()


def test_a_batch_too_large_is_split_and_an_event_too_large_is_dropped(memlens_harness, caplog):
    from memlens_ingest import IngestPlugin

    plugin = memlens_harness.activate(
        IngestPlugin(), "ingest", settings={"port": 0, "autostart": True, "max_body": 4000}
    )
    caplog.set_level(logging.WARNING, logger="memlens.client")
    client = connect(plugin.url, plugin.token)
    s = client.session("chatty-agent")
    for n in range(20):  # ~300 bytes each: together far over the limit, one by one well under it
        s.message("user", f"{n:02d} " + "word " * 50)
    s.message("user", "x" * 5000)  # over the limit on its own
    s.end()
    assert client.flush(30)
    assert client.dropped == 1 and "HTTP 413" in caplog.records[0].message
    memlens_harness.wait_for(lambda: memlens_harness.of(SessionEnded, s.id))
    texts = [m.text[:2] for m in memlens_harness.of(MessageExchanged, s.id) if m.role == "user"]
    assert texts == [f"{n:02d}" for n in range(20)]  # all of them, in order
    client.close()
    plugin.stop()


def test_memlens_restarting_between_events_costs_no_event_and_no_error():
    """The client keeps its connection open; MemLens closing it (a restart) is met with one
    fresh connection at once, not a failure and a back-off."""
    from memlens_ingest.endpoint import IngestEndpoint

    received: list = []
    first = IngestEndpoint("t0ken", lambda item: received.append(item.event))
    url = first.start()
    client = connect(url, "t0ken")
    s = client.session("steady-agent")
    s.message("user", "before")
    assert client.flush(30)
    first.stop()
    second = IngestEndpoint("t0ken", lambda item: received.append(item.event), port=first.port)
    second.start()
    try:
        s.message("user", "after")
        assert client.flush(30)
        assert client.last_error is None and client.dropped == 0
        client.close()
        second.stop()
        assert [getattr(e, "text", None) for e in received] == [None, "before", "after", None]
    finally:
        second.stop()
