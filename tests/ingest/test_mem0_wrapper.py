"""The Mem0 wrappers in-process: Mem0's errors are reported and still raised, delete_all
reports each memory, and mem0.AsyncMemory is wrapped the same way."""

from __future__ import annotations

import asyncio

import pytest

from memlens.client import connect
from memlens.client.mem0 import AsyncMemLensMemory, MemLensMemory
from memlens.plugin_api import MemoryAdded, MemoryDeleted, MessageExchanged, RetrievalPerformed, SessionEnded

pytestmark = pytest.mark.slow


def test_errors_are_reported_then_raised_and_delete_all_reports_each_memory(ingest, mem0_memory):
    harness, plugin = ingest
    client = connect(plugin.url, plugin.token)
    memory = MemLensMemory(mem0_memory, client=client, agent="wrapped")
    assert memory.wrapped is mem0_memory and memory.history is not None  # the rest passes through
    a = memory.add("Alice lives in Paris", user_id="alice", infer=False)["results"][0]["id"]
    b = memory.add("Alice likes green tea", user_id="alice", infer=False)["results"][0]["id"]
    with pytest.raises(Exception) as raised:
        memory.update("no-such-memory", "anything")
    memory.delete_all(user_id="alice")
    assert mem0_memory.get_all(filters={"user_id": "alice"})["results"] == []
    memory.close()
    assert client.flush(30)
    sid = memory.session.id
    harness.wait_for(lambda: harness.of(SessionEnded, sid))
    (error,) = [m for m in harness.of(MessageExchanged, sid) if m.role == "error"]
    assert error.text.startswith("Mem0 update failed: ") and str(raised.value) in error.text
    deleted = {(d.memory_id, d.text) for d in harness.of(MemoryDeleted, sid)}
    assert deleted == {(a, "Alice lives in Paris"), (b, "Alice likes green tea")}
    client.close()


def test_async_memory_is_wrapped_too(ingest, tmp_path, embedder, monkeypatch):
    from mem0 import AsyncMemory

    monkeypatch.setenv("OPENAI_API_KEY", "sk-unused")  # Mem0 insists on one; infer=False calls no model

    harness, plugin = ingest
    config = {
        "vector_store": {
            "provider": "chroma",
            "config": {"collection_name": "mem0", "path": str(tmp_path / "m")},
        },
        "embedder": {"provider": "huggingface", "config": {"model": embedder.name, "embedding_dims": 384}},
        "history_db_path": str(tmp_path / "m" / "history.db"),
    }
    client = connect(plugin.url, plugin.token)

    async def agent() -> tuple[str, dict]:
        async with AsyncMemLensMemory(
            AsyncMemory.from_config(config), client=client, agent="async"
        ) as memory:
            added = await memory.add("Bob plays the violin", user_id="bob", infer=False)
            found = await memory.search("what instrument", filters={"user_id": "bob"}, top_k=3)
            await memory.delete(added["results"][0]["id"])
            return memory.session.id, found

    sid, found = asyncio.run(agent())
    assert client.flush(30)
    harness.wait_for(lambda: harness.of(SessionEnded, sid))
    (added,) = harness.of(MemoryAdded, sid)
    assert added.text == "Bob plays the violin" and added.record["user_id"] == "bob"
    (search,) = harness.of(RetrievalPerformed, sid)
    assert search.k == 3 and [h.score for h in search.hits] == pytest.approx([found["results"][0]["score"]])
    (deleted,) = harness.of(MemoryDeleted, sid)
    assert (deleted.memory_id, deleted.text) == (added.memory_id, "Bob plays the violin")
    client.close()
