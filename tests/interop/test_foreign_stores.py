"""MemLens opens stores written by Mem0 and LangChain, shows them right, and edits them
so that the owning library still reads correct data."""

from __future__ import annotations

from datetime import UTC, datetime

from memlens.core.query import Filter
from memlens.core.record import Status


def test_mem0_store_is_detected_and_mapped(mem0_memory, make_service):
    added = mem0_memory.add(
        "Alice likes green tea", user_id="alice", infer=False, metadata={"topic": "drinks"}
    )
    mem0_memory.add("Bob runs on Sundays", user_id="bob", agent_id="coach", run_id="r7", infer=False)
    alice_id = added["results"][0]["id"]
    native = {m["id"]: m for m in mem0_memory.get_all(filters={"user_id": "alice"})["results"]}

    service = make_service(path=mem0_memory.store_path)
    assert service.store.profile == "mem0"
    assert [c.name for c in service.store._backend.collections()] == ["mem0"]  # mem0migrations hidden
    alice = service.get(alice_id)
    assert alice.text == "Alice likes green tea"
    assert alice.user_id == "alice"
    assert alice.created_at == datetime.fromisoformat(native[alice_id]["created_at"])
    assert alice.created_at.tzinfo is not None and alice.created_at <= datetime.now(UTC)
    assert alice.extra["topic"] == "drinks"
    bob = service.records(service.select(Filter(users=frozenset({"bob"}))))[0]
    assert (bob.agent_id, bob.session_id) == ("coach", "r7")
    assert [e.event for e in service.mem0_events(alice_id)] == ["ADD"]


def test_mem0_reads_back_memlens_edits_and_deletes(mem0_memory, make_service):
    tea = mem0_memory.add("Alice likes green tea", user_id="alice", infer=False, metadata={"topic": "drinks"})
    city = mem0_memory.add("Alice lives in Paris", user_id="alice", infer=False)
    tea_id, city_id = tea["results"][0]["id"], city["results"][0]["id"]

    service = make_service(path=mem0_memory.store_path)
    service.edit(tea_id, text="Alice likes oolong tea", reason="she corrected it")
    service.delete([city_id])

    got = {m["id"]: m for m in mem0_memory.get_all(filters={"user_id": "alice"})["results"]}
    assert set(got) == {tea_id}
    assert got[tea_id]["memory"] == "Alice likes oolong tea"
    assert got[tea_id]["metadata"] == {"topic": "drinks"}  # no MemLens keys leak into Mem0's view
    import hashlib

    assert got[tea_id]["hash"] == hashlib.md5(b"Alice likes oolong tea").hexdigest()
    assert got[tea_id]["updated_at"] > got[tea_id]["created_at"]
    hits = mem0_memory.search("which tea does she drink", filters={"user_id": "alice"})["results"]
    assert hits[0]["memory"] == "Alice likes oolong tea"
    events = [(h["event"], h["new_memory"]) for h in mem0_memory.history(tea_id)]
    assert events == [("ADD", "Alice likes green tea"), ("UPDATE", "Alice likes oolong tea")]

    # Deleted from Mem0's view, but still in MemLens' trash and restorable.
    assert service.get(city_id).status == Status.DELETED
    service.restore([city_id])
    assert city_id in {m["id"] for m in mem0_memory.get_all(filters={"user_id": "alice"})["results"]}


def test_langchain_store_is_detected_and_edits_read_back(langchain_store, make_service):
    ids = langchain_store.add_texts(
        ["Bob is allergic to peanuts", "Bob works at ACME"],
        metadatas=[{"source": "chat", "user": "bob"}, {"source": "chat"}],
    )
    service = make_service(path=langchain_store.store_path)
    assert service.store.profile == "langchain"
    record = service.get(ids[0])
    assert record.text == "Bob is allergic to peanuts"
    assert record.extra == {"source": "chat", "user": "bob"}
    assert record.created_at is None  # LangChain keeps no timestamps; MemLens invents none

    service.edit(ids[0], text="Bob is allergic to shellfish")
    service.delete([ids[1]])
    docs = langchain_store.similarity_search("seafood allergy", k=2)
    assert [d.page_content for d in docs] == ["Bob is allergic to shellfish"]
    assert docs[0].metadata == {"source": "chat", "user": "bob"}
