"""The recommended set-up for editing a running agent's memory (docs/LIVE_AGENTS.md): the
agent (Mem0, wrapped) and MemLens share a Chroma server. The agent's session streams in,
the user's edit in MemLens is in the agent's next search, and that search is a trace
showing the edited text."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from ingest_support import agent_env

from memlens.core.chroma_store import ChromaBackend
from memlens.core.server_spec import ServerSpec
from memlens.core.workspace import open_service
from memlens.plugin_api import MemoryAdded, RetrievalPerformed
from memlens.plugin_api.testing import PluginHarness
from memlens.plugin_host import PluginHost

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "interop"))
from processes import ChromaServer


@pytest.fixture
def chroma_server(tmp_path):
    server = ChromaServer(tmp_path / "chroma-db").start()
    yield server
    server.stop()


@pytest.mark.slow
def test_a_users_edit_reaches_the_running_agent_whose_session_streams_in(
    chroma_server, start_agent, embedder, tmp_path
):
    from memlens_ingest import IngestPlugin

    host = PluginHost(None, discover_entries=lambda: ([], []))
    harness = PluginHarness(host, None)
    harness.activate(IngestPlugin(), "ingest", settings={"port": 0, "autostart": True})
    try:
        agent = start_agent("mem0_agent.py", "--server", chroma_server.url, env=agent_env())
        sid = agent.read()["session"]
        paris = agent.send('{"op": "add", "text": "Alice lives in Paris", "user_id": "alice"}')["id"]
        harness.wait_for(lambda: harness.of(MemoryAdded, sid))  # shown while no store is open yet

        # MemLens opens the same collection on the server (the agent keeps running).
        spec = ServerSpec.parse(chroma_server.url)
        service = open_service(
            ChromaBackend.connect(spec),
            embedder,
            "mem0",
            create=False,
            mem0_history=tmp_path / "agent-history.db",
        )
        service.load()
        host.set_service(service)
        assert service.store.profile == "mem0" and service.get(paris).text == "Alice lives in Paris"

        service.edit(paris, text="Alice lives in Lyon")  # the user corrects the agent's memory
        found = agent.send('{"op": "search", "query": "where does alice live", "user_id": "alice"}')
        assert found["results"][0]["memory"] == "Alice lives in Lyon"  # the agent's next search has it

        harness.wait_for(lambda: harness.of(RetrievalPerformed, sid))
        (search,) = harness.of(RetrievalPerformed, sid)
        assert (search.hits[0].memory_id, search.hits[0].text) == (paris, "Alice lives in Lyon")
        trace = service.traces.get(search.trace_id)
        assert trace.collection == "mem0" and trace.hits[0].text == "Alice lives in Lyon"

        # What the agent adds next is in MemLens' index as soon as its event arrives.
        cat = agent.send('{"op": "add", "text": "Alice has a cat named Tom", "user_id": "alice"}')["id"]
        harness.wait_for(lambda: len(harness.of(MemoryAdded, sid)) == 2)
        service.sync_from_store([cat])  # what the window does for the event (test_ingest_window.py)
        assert service.get(cat).text == "Alice has a cat named Tom"
        history = agent.send(f'{{"op": "history", "id": "{paris}"}}')["results"]
        assert [h["new_memory"] for h in history][-1] == "Alice lives in Lyon"  # Mem0's own history
        agent.finish()
    finally:
        host.shutdown()
