"""MemLens opens stores written by Mem0 and LangChain, shows them right, and edits them
so that the owning library still reads correct data."""

from __future__ import annotations

import json
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
    # Mem0 keeps a keyword-search form of the text (lemmas with spaCy, the text without it).
    assert mem0_memory.vector_store.get(tea_id).payload["text_lemmatized"] == "Alice likes green tea"

    service = make_service(path=mem0_memory.store_path)
    service.edit(tea_id, text="Alice likes oolong tea", reason="she corrected it")
    service.delete([city_id])
    assert mem0_memory.vector_store.get(tea_id).payload["text_lemmatized"] == "Alice likes oolong tea"

    got = {m["id"]: m for m in mem0_memory.get_all(filters={"user_id": "alice"})["results"]}
    assert set(got) == {tea_id}
    assert got[tea_id]["memory"] == "Alice likes oolong tea"
    assert got[tea_id]["metadata"] == {"topic": "drinks"}  # no MemLens keys leak into Mem0's view
    import hashlib

    assert got[tea_id]["hash"] == hashlib.md5(b"Alice likes oolong tea").hexdigest()
    assert got[tea_id]["updated_at"] > got[tea_id]["created_at"]
    hits = mem0_memory.search("which tea does she drink", filters={"user_id": "alice"})["results"]
    assert hits[0]["memory"] == "Alice likes oolong tea"
    events = [(h["event"], h["new_memory"], h["actor_id"]) for h in mem0_memory.history(tea_id)]
    assert events == [("ADD", "Alice likes green tea", None), ("UPDATE", "Alice likes oolong tea", "memlens")]
    # One time for the memory and its history row, as Mem0 writes them.
    from datetime import datetime

    update_row = mem0_memory.history(tea_id)[-1]["updated_at"]
    assert datetime.fromisoformat(str(update_row)) == datetime.fromisoformat(got[tea_id]["updated_at"])

    # Deleted from Mem0's view, but still in MemLens' trash and restorable.
    assert service.get(city_id).status == Status.DELETED
    service.restore([city_id])
    assert city_id in {m["id"] for m in mem0_memory.get_all(filters={"user_id": "alice"})["results"]}
    assert [(h["event"], h["actor_id"]) for h in mem0_memory.history(city_id)] == [
        ("ADD", None),
        ("DELETE", "memlens"),
        ("ADD", "memlens"),  # back in Mem0's view: Mem0's history says so
    ]
    assert mem0_memory.history(city_id)[-1]["new_memory"] == "Alice lives in Paris"


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


def _mem0_view(memory, user: str = "alice") -> dict[str, dict]:
    return {m["id"]: m for m in memory.get_all(filters={"user_id": user})["results"]}


def test_mem0_reads_back_a_memlens_merge_and_its_undo(mem0_memory, make_service):
    import hashlib

    from memlens.core.merge import merge

    tea = mem0_memory.add("Alice likes green tea", user_id="alice", infer=False, metadata={"topic": "drinks"})
    tea2 = mem0_memory.add("Alice drinks green tea every morning", user_id="alice", infer=False)
    city = mem0_memory.add("Alice lives in Paris", user_id="alice", infer=False)
    tea_id, tea2_id, city_id = (r["results"][0]["id"] for r in (tea, tea2, city))
    before = _mem0_view(mem0_memory)

    service = make_service(path=mem0_memory.store_path)
    _change, merged = merge(service, [tea_id, tea2_id], "Alice drinks green tea every morning and likes it")

    view = _mem0_view(mem0_memory)
    assert set(view) == {merged.id, city_id}  # the sources left Mem0's view
    got = view[merged.id]
    assert got["memory"] == "Alice drinks green tea every morning and likes it"
    assert got["hash"] == hashlib.md5(got["memory"].encode()).hexdigest()
    assert got["user_id"] == "alice"
    assert got["created_at"] == before[tea_id]["created_at"]  # the earliest source's time
    assert got["updated_at"] >= got["created_at"]
    assert got["metadata"]["topic"] == "drinks"
    hits = mem0_memory.search("what does Alice drink", filters={"user_id": "alice"})["results"]
    assert hits[0]["id"] == merged.id
    assert [h["event"] for h in mem0_memory.history(tea_id)] == ["ADD", "DELETE"]
    assert [h["event"] for h in mem0_memory.history(merged.id)] == ["ADD"]
    # The sources wait in MemLens' trash, archived, and come back with an undo.
    assert {service.get(i).status for i in (tea_id, tea2_id)} == {Status.ARCHIVED}
    service.undo()
    assert set(_mem0_view(mem0_memory)) == {tea_id, tea2_id, city_id}
    assert _mem0_view(mem0_memory)[tea_id]["memory"] == "Alice likes green tea"


def test_mem0_keeps_working_on_memories_memlens_annotated(mem0_memory, make_service):
    tea_id = mem0_memory.add("Alice likes green tea", user_id="alice", infer=False)["results"][0]["id"]
    service = make_service(path=mem0_memory.store_path)
    service.set_status([tea_id], Status.FLAGGED, reason="check it")
    service.edit(tea_id, tags=("drinks",))

    # Mem0 updates the memory itself afterwards: MemLens' annotations survive, Mem0's keys are right.
    mem0_memory.update(tea_id, "Alice likes jasmine tea")
    got = _mem0_view(mem0_memory)[tea_id]
    assert got["memory"] == "Alice likes jasmine tea"
    assert got["metadata"] == {"memlens_status": "flagged", "memlens_tags": ["drinks"]}
    reopened = make_service(path=mem0_memory.store_path)
    record = reopened.get(tea_id)
    assert (record.text, record.status, record.tags) == (
        "Alice likes jasmine tea",
        Status.FLAGGED,
        ("drinks",),
    )
    assert [e.event for e in reopened.mem0_events(tea_id)] == ["ADD", "UPDATE"]


def test_langchain_reads_back_a_memlens_merge(langchain_store, make_service):
    from memlens.core.merge import merge

    ids = langchain_store.add_texts(
        ["Bob is allergic to peanuts", "Bob must avoid peanuts", "Bob works at ACME"],
        metadatas=[{"source": "chat"}, {"source": "email"}, {"source": "chat"}],
    )
    service = make_service(path=langchain_store.store_path)
    merge(service, ids[:2], "Bob is allergic to peanuts and must avoid them")
    docs = langchain_store.similarity_search("peanut allergy", k=3)
    assert [d.page_content for d in docs][:2] == [
        "Bob is allergic to peanuts and must avoid them",
        "Bob works at ACME",
    ]
    assert len(docs) == 2  # the merged sources are gone from LangChain's view
    # Caller metadata carried over; the lineage kept in one namespaced key LangChain ignores.
    assert set(docs[0].metadata) == {"source", "memlens_source"}
    assert docs[0].metadata["source"] in ("chat", "email")
    assert json.loads(docs[0].metadata["memlens_source"])["merged_from"] == sorted(ids[:2])


def test_mem0_entity_collection_is_not_offered(mem0_memory, make_service):
    """Mem0 with spaCy keeps extracted entities in "<collection>_entities" (built here in
    Mem0's layout, since spaCy is not installed): bookkeeping, not memories."""
    import chromadb
    from chromadb.config import Settings

    mem0_memory.add("Alice met Bob in Paris", user_id="alice", infer=False)
    client = chromadb.PersistentClient(
        str(mem0_memory.store_path), settings=Settings(anonymized_telemetry=False)
    )
    client.get_or_create_collection("mem0_entities", embedding_function=None).add(
        ids=["e1"],
        embeddings=[[0.1] * 384],
        metadatas=[{"data": "Paris", "entity_type": "GPE", "linked_memory_ids": ["x"], "user_id": "alice"}],
    )
    client.get_or_create_collection("notes", embedding_function=None)
    service = make_service(path=mem0_memory.store_path)
    assert [c.name for c in service.store._backend.collections()] == ["mem0", "notes"]


def test_a_plain_chroma_collection_is_not_called_langchain(langchain_store, make_service, capsys):
    """langchain-chroma and chromadb with embedding_function=None lay a collection out the
    same way: only LangChain's default name tells them apart, so other names are shown as
    compatible; a collection with timestamps is not LangChain's layout at all."""
    from memlens.core.profiles import LANGCHAIN_COMPATIBLE
    from tests_support import run_cli

    langchain_store.add_texts(["Bob is allergic to peanuts"], metadatas=[{"source": "chat"}])
    client = langchain_store._client  # one client per folder and process
    vector = [[0.1] * 384]
    client.create_collection("notes", embedding_function=None).add(
        ids=["n1"], documents=["Carol plays chess"], metadatas=[{"source": "crm"}], embeddings=vector
    )
    client.create_collection("events", embedding_function=None).add(
        ids=["e1"],
        documents=["Dan moved to Oslo"],
        metadatas=[{"user_id": "dan", "created_at": "2024-05-01T09:00:00+00:00"}],
        embeddings=vector,
    )

    profiles = {name: make_service(name, langchain_store.store_path).store for name in ("notes", "events")}
    assert profiles["notes"].profile == LANGCHAIN_COMPATIBLE
    assert profiles["events"].profile == "generic"
    events = make_service("events", langchain_store.store_path)
    assert events.get("e1").created_at == datetime(2024, 5, 1, 9, tzinfo=UTC)
    assert events.get("e1").user_id == "dan"

    code, out, _err = run_cli(capsys, "stats", "--store", str(langchain_store.store_path))
    assert code == 0
    shown = {line.split()[0]: line for line in out.splitlines() if line.split()}
    assert "LangChain" in shown["langchain"] and "compatible" not in shown["langchain"]
    assert "Chroma (LangChain-compatible)" in shown["notes"]
    assert "Chroma " in shown["events"] and "LangChain" not in shown["events"]

    # Compatible means written as LangChain writes: caller metadata only, nothing added.
    notes = make_service("notes", langchain_store.store_path)
    notes.edit("n1", text="Carol plays chess on Fridays")
    assert client.get_collection("notes").get(ids=["n1"])["metadatas"] == [{"source": "crm"}]
