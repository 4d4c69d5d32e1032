"""Agents in processes of their own stream their sessions into MemLens while they run:
the Sessions panel's registry shows them live, and every retrieval becomes a trace."""

from __future__ import annotations

import pytest
from ingest_support import agent_env, free_port

from memlens.plugin_api import (
    MemoryAdded,
    MemoryDeleted,
    MemoryUpdated,
    MessageExchanged,
    RetrievalPerformed,
    SessionStatus,
)
from memlens.plugin_host import Partial


def messages(host, session_id: str) -> list[tuple[str, str]]:
    return [
        (e.role, e.text)
        for e in host.sessions.transcript(session_id)
        if isinstance(e, MessageExchanged) and not isinstance(e, Partial)
    ]


def test_client_agent_session_appears_live_with_its_retrievals_as_traces(ingest, start_agent):
    harness, _plugin = ingest
    host, service = harness.host, harness.service
    # No URL or token given: the agent finds both where MemLens wrote them.
    agent = start_agent("notes_agent.py", env=agent_env())

    first = agent.send("Alice lives in Paris")
    sid = first["session"]
    assert first["delivered"]  # MemLens took the turn's events; they reach the panel next
    harness.wait_for(lambda: len(messages(host, sid)) == 2)
    # The agent is still running: its session is live, with the turn it just had.
    session = host.sessions.get(sid)
    assert session is not None and session.status == SessionStatus.LIVE
    assert (session.agent, session.title, session.plugin) == ("notes-agent", "a test conversation", None)
    assert messages(host, sid) == [
        ("user", "Alice lives in Paris"),
        ("assistant", "Noted (0 related note(s))."),
    ]

    agent.send("Alice likes green tea")
    third = agent.send("Where Alice lives?")
    assert third["delivered"]
    harness.wait_for(lambda: len(harness.of(RetrievalPerformed, sid)) == 3)
    retrievals = harness.of(RetrievalPerformed, sid)
    assert [r.query for r in retrievals] == [
        "Alice lives in Paris",
        "Alice likes green tea",
        "Where Alice lives?",
    ]
    last = retrievals[-1]
    assert [h.memory_id for h in last.hits][:2] == ["note-1", "note-2"]  # the agent's own ranking
    assert last.hits[0].text == "Alice lives in Paris" and last.hits[0].score > last.hits[1].score
    assert last.latency_ms is not None and last.trace_id is not None

    # Each retrieval is a trace of the open collection, filed under the session.
    trace = service.traces.get(last.trace_id)
    assert trace.query == "Where Alice lives?" and trace.session_id == sid
    assert trace.origin == f"agent:{sid}" and trace.collection == service.store.collection
    assert [(h.memory_id, h.text) for h in trace.hits][:1] == [("note-1", "Alice lives in Paris")]
    assert service.traces.count(session_id=sid) == 3

    agent.send("update note-1 Alice lives in Lyon")
    agent.send("delete note-2")
    summary = agent.finish()
    assert summary["dropped"] == 0 and summary["sent"] > 0
    assert summary["heavy"] == []  # the client pulled in neither numpy, Chroma, Qt nor MemLens' engine

    harness.wait_for(lambda: host.sessions.get(sid).status == SessionStatus.ENDED)
    assert host.sessions.memories(sid) == {"note-1": "added", "note-2": "deleted", "note-3": "added"}
    updated = harness.of(MemoryUpdated, sid)[0]
    assert (updated.before_text, updated.text) == ("Alice lives in Paris", "Alice lives in Lyon")
    added = harness.of(MemoryAdded, sid)[0]
    assert added.record["user_id"] == "alice"


@pytest.mark.slow
def test_mem0_agent_wrapped_streams_adds_searches_updates_and_deletes(ingest, start_agent, tmp_path):
    harness, _plugin = ingest
    host, service = harness.host, harness.service
    agent = start_agent("mem0_agent.py", "--path", str(tmp_path / "mem0-store"), env=agent_env())
    ready = agent.read()
    sid = ready["session"]

    paris = agent.send('{"op": "add", "text": "Alice lives in Paris", "user_id": "alice"}')["id"]
    tea = agent.send('{"op": "add", "text": "Alice likes green tea", "user_id": "alice"}')["id"]
    found = agent.send('{"op": "search", "query": "where does alice live", "user_id": "alice"}')
    agent.send(f'{{"op": "update", "id": "{paris}", "text": "Alice lives in Lyon"}}')
    agent.send(f'{{"op": "delete", "id": "{tea}"}}')
    assert agent.finish()["dropped"] == 0

    harness.wait_for(lambda: host.sessions.get(sid).status == SessionStatus.ENDED)
    assert host.sessions.get(sid).agent == "mem0-agent"
    added = harness.of(MemoryAdded, sid)
    assert [(a.memory_id, a.text) for a in added] == [
        (paris, "Alice lives in Paris"),
        (tea, "Alice likes green tea"),
    ]
    assert added[0].record["user_id"] == "alice"

    # The search as Mem0 answered it: its ids, its scores, in its order.
    (search,) = harness.of(RetrievalPerformed, sid)
    mem0_results = found["results"]
    assert [h.memory_id for h in search.hits] == [r["id"] for r in mem0_results]
    assert [h.score for h in search.hits] == pytest.approx([r["score"] for r in mem0_results])
    assert search.hits[0].memory_id == paris and search.latency_ms > 0
    trace = service.traces.get(search.trace_id)
    assert trace.session_id == sid and trace.hits[0].text == "Alice lives in Paris"

    (update,) = harness.of(MemoryUpdated, sid)
    assert (update.memory_id, update.before_text, update.text) == (
        paris,
        "Alice lives in Paris",
        "Alice lives in Lyon",
    )
    (delete,) = harness.of(MemoryDeleted, sid)
    assert (delete.memory_id, delete.text) == (tea, "Alice likes green tea")


def test_agent_runs_normally_when_memlens_is_not_running(start_agent, tmp_path):
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens here
    agent = start_agent("notes_agent.py", "4", env=agent_env(url, "some-token"))
    answers = [agent.send(line) for line in ("Alice lives in Paris", "Where Alice lives?")]
    assert [a["turn"] for a in answers] == [1, 2]
    assert not any(a["delivered"] for a in answers)
    summary = agent.finish()
    # Every event was counted as dropped (the buffer holds 4), and the agent still did its work.
    assert summary["sent"] == 0 and summary["dropped"] == 1 + 2 * 4 + 1
    log = agent.log.read_text()
    assert log.count("MemLens client: dropping events") == 1  # told once
    assert url in log
