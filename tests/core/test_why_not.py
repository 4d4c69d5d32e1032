"""The retrieval debugger on real stores: each why-not cause produced for real, exact
ranks checked against an independent brute force, and replays after edits."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import chromadb
import numpy as np
import pytest
from chromadb.config import Settings

from memlens.core.importers.mem0_search import read_mem0_search
from memlens.core.query import Filter
from memlens.core.record import MemoryRecord, Status
from memlens.core.store import StoredMemory, StoreError
from memlens.core.traces import Trace, TraceHit
from memlens.core.why_not import distances, explain, replay, replay_session, why_not
from tests_support import run_cli

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def rec(i: int, text: str, **kw) -> MemoryRecord:
    base = dict(user_id="alice", created_at=T0)
    base.update(kw)
    return MemoryRecord(id=f"m{i}", text=text, **base)


SEED = [
    rec(1, "Alice is allergic to peanuts and carries an EpiPen."),
    rec(2, "Alice's daughter Maya plays the violin."),
    rec(3, "Bob prefers window seats on long flights.", user_id="bob"),
    rec(4, "Bob moved to Lisbon in 2021.", user_id="bob"),
    rec(5, "Carol writes her data pipelines in Python with pandas.", user_id="carol"),
    rec(6, "Alice had a severe reaction to a peanut snack at school.", user_id="alice"),
]


@pytest.fixture
def seeded(service):
    service.add(SEED)
    return service


def last_trace(service) -> Trace:
    return service.traces.find(limit=1)[0]


def brute_force_ranks(service, query_vector, ids) -> list[str]:
    """Ids by exact distance, computed here without the code under test."""
    got = service.store.get(ids, with_embeddings=True)
    vectors = np.stack([g.embedding for g in got]).astype(np.float64)
    q = np.asarray(query_vector, dtype=np.float64)
    cos = 1 - vectors @ q / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(q))
    return [got[i].record.id for i in np.argsort(cos, kind="stable")]


# -- causes ---------------------------------------------------------------------------
def test_returned_beyond_k_and_missing_with_exact_ranks(seeded):
    everything = seeded.semantic_search("food allergy", k=6)
    hits = seeded.semantic_search("food allergy", k=2)
    trace = last_trace(seeded)

    first = why_not(seeded, trace, hits[0].record.id)
    assert (first.cause, first.trace_rank, first.rank) == ("returned", 1, 1)
    assert "returned at rank 1" in first.message

    outside = everything[4]  # exact rank 5 of 6
    w = why_not(seeded, trace, outside.record.id)
    assert w.cause == "beyond_k" and w.rank == 5 and w.k == 2
    assert w.distance == pytest.approx(outside.distance, abs=1e-5)
    assert w.score == pytest.approx(outside.score, abs=1e-5)
    assert "ranks #5" in w.message and "top 2" in w.message

    gone = why_not(seeded, trace, "no-such-id")
    assert gone.cause == "missing" and "no memory 'no-such-id'" in gone.message


def test_status_is_checked_before_rank(seeded):
    seeded.set_status(["m2"], Status.ARCHIVED)
    seeded.semantic_search("violin lessons", k=3)
    w = why_not(seeded, last_trace(seeded), "m2")
    assert w.cause == "status" and w.field == "status"
    assert "archived" in w.message and "hidden from search by default" in w.message
    assert w.rank == 1  # it would have come first


def test_filter_names_the_field_and_the_values(seeded):
    seeded.semantic_search("long flights seat", k=3, flt=Filter(users=frozenset({"alice"})))
    w = why_not(seeded, last_trace(seeded), "m3")
    assert w.cause == "filter" and w.field == "user_id"
    assert "its user_id is 'bob' but the filter wants {'alice'}" in w.message
    assert w.rank == 1 and w.rank_overall == 1  # the best match, had the filter let it in


def test_a_memory_edited_after_the_trace_is_changed_since(seeded):
    seeded.semantic_search("Bob's new home city", k=1)
    trace = last_trace(seeded)
    assert trace.ids == ["m4"]
    seeded.edit("m3", text="Bob's new home city is Porto.")
    w = why_not(seeded, trace, "m3")
    assert w.cause == "changed_since" and w.changed_since and w.rank == 1
    assert "after this trace" in w.message

    seeded.edit("m4", text="Bob collects stamps.")
    w = why_not(seeded, trace, "m4")
    assert w.cause == "returned" and w.changed_since and "changed since" in w.message
    # ...and where the edit has put it now, so the reader need not search again.
    assert f"Now it ranks #{w.rank} (distance {w.distance:.4f})" in w.message and w.rank > 1


def test_a_rank_freed_by_a_later_change_is_not_blamed_on_the_index(seeded):
    hits = seeded.semantic_search("peanut allergy", k=1)
    trace = last_trace(seeded)
    runner_up = seeded.semantic_search("peanut allergy", k=2)[1].record.id
    seeded.delete([hits[0].record.id])
    w = why_not(seeded, trace, runner_up)
    assert w.cause == "beyond_k" and w.rank == 1
    assert "the collection has changed since" in w.message


def test_index_miss_on_an_approximate_hnsw_index(store_dir, make_service):
    # An index built to be approximate: one neighbour searched, two links per node.
    client = chromadb.PersistentClient(path=str(store_dir), settings=Settings(anonymized_telemetry=False))
    client.create_collection(
        "approx",
        metadata={"memlens_schema": 1},
        configuration={"hnsw": {"space": "cosine", "ef_search": 1, "max_neighbors": 2, "ef_construction": 2}},
        embedding_function=None,
    )
    service = make_service("approx")
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((2000, 384)).astype(np.float32)
    records = [MemoryRecord(id=f"v{i}", text=f"point {i}", created_at=T0) for i in range(2000)]
    for start in range(0, 2000, 500):
        service.store.upsert(
            [
                StoredMemory(r, v)
                for r, v in zip(records[start : start + 500], vectors[start : start + 500], strict=True)
            ]
        )
    service.load()

    hits = service.semantic_search("where did I park the car", k=10)
    trace = last_trace(service)
    exact = brute_force_ranks(service, trace.embedding, [r.id for r in records])
    returned = {h.record.id for h in hits}
    missed = [mid for mid in exact[:10] if mid not in returned]
    assert missed, "the approximate index returned the exact top 10; no miss to explain"

    answers = explain(service, trace, missed)
    for mid in missed:
        w = answers[mid]
        assert w.cause == "index_miss", w.message
        assert w.rank == exact.index(mid) + 1 <= 10
        assert "approximate (HNSW) index did not return it" in w.message
    # The index still misses it: it is not a stale trace.
    assert missed[0] not in {h.id for h in service.store.query(trace.embedding, 10)}

    # The same retrieval reported without its vector (as agents and imports do): MemLens
    # asks its own index before blaming it, and the index misses it again.
    unvectored = Trace(trace.query, trace.k, hits=trace.hits, origin="agent:s1", collection="approx")
    w = why_not(service, unvectored, missed[0])
    assert w.cause == "index_miss" and w.reembedded
    assert "does not return it: an index miss" in w.message


def test_a_memory_another_retriever_left_out_is_not_called_an_index_miss(seeded):
    # An agent searched its own store and reported hits without the query's vector.
    trace = Trace(
        "Alice's peanut allergy",
        k=2,
        hits=(TraceHit("m3", 1, score=0.4), TraceHit("m4", 2, score=0.3)),
        origin="agent:travel-1",
        collection="memories",
    )
    w = why_not(seeded, trace, "m1")
    assert w.cause == "other_retriever" and w.reembedded and w.rank == 1
    assert "MemLens' index returns it at #1" in w.message and "agent:travel-1" in w.message
    again = replay(seeded, trace)
    assert again.reembedded and "re-embedded with the current model" in again.caveat
    assert replay(seeded, last_trace_of(seeded, "peanut allergy")).caveat is None


def last_trace_of(service, query: str) -> Trace:
    service.semantic_search(query, k=2)
    return service.traces.find(limit=1)[0]


def test_a_retriever_that_mixes_in_other_signals_reports_a_reranking(seeded, embedder):
    vector = embedder.encode(["food allergy"])[0]
    trace = Trace(
        "food allergy",
        k=2,
        hits=(
            TraceHit("m4", 1, score=0.9, components={"similarity": 0.2, "bm25": 0.7}),
            TraceHit("m3", 2, score=0.8, components={"similarity": 0.2, "bm25": 0.6}),
        ),
        origin="import:mem0",
        embedding=vector,
    )
    w = why_not(seeded, trace, "m1")
    assert w.cause == "reranked" and w.rank <= 2 and "bm25" in w.message


def test_a_trace_from_another_model_or_collection_is_refused_clearly(seeded):
    trace = Trace("q", 3, embedding=np.ones(8, dtype=np.float32), model="tiny-8d")
    with pytest.raises(StoreError, match="8-dimensional query vector"):
        why_not(seeded, trace, "m1")
    elsewhere = Trace("q", 3, collection="other")
    with pytest.raises(StoreError, match="recorded on collection 'other'"):
        replay(seeded, elsewhere)


def test_distances_match_chroma_in_every_space():
    v = np.array([[1.0, 0.0], [0.0, 2.0]], dtype=np.float32)
    q = np.array([1.0, 1.0], dtype=np.float32)
    assert distances(v, q, "cosine") == pytest.approx([1 - 1 / np.sqrt(2), 1 - 1 / np.sqrt(2)])
    assert distances(v, q, "l2") == pytest.approx([1.0, 2.0])  # squared, as Chroma's l2
    assert distances(v, q, "ip") == pytest.approx([0.0, -1.0])


def test_why_not_on_a_real_mem0_search(mem0_memory, make_service, tmp_path):
    ids = {
        text: mem0_memory.add(text, user_id=user, infer=False)["results"][0]["id"]
        for text, user in [
            ("Alice is allergic to peanuts", "alice"),
            ("Alice likes green tea", "alice"),
            ("Alice lives in Paris", "alice"),
            ("Bob is allergic to shellfish", "bob"),
        ]
    }
    probe = mem0_memory.search("food allergy", filters={"user_id": "alice"}, top_k=3, threshold=0.0)
    scores = [r["score"] for r in probe["results"]]
    gate = (scores[0] + scores[1]) / 2
    result = mem0_memory.search(
        "food allergy", filters={"user_id": "alice"}, top_k=3, threshold=gate, explain=True
    )
    assert len(result["results"]) == 1
    path = tmp_path / "search.json"
    path.write_text(json.dumps(result))
    trace = read_mem0_search(path, "food allergy", flt=Filter(users=frozenset({"alice"})))
    assert trace.threshold == pytest.approx(gate)
    service = make_service(path=mem0_memory.store_path)
    assert service.store.distance == "l2"

    second = probe["results"][1]["id"]
    answers = explain(
        service, trace, [ids["Alice is allergic to peanuts"], second, ids["Bob is allergic to shellfish"]]
    )
    assert answers[ids["Alice is allergic to peanuts"]].cause == "returned"
    below = answers[second]
    assert below.cause == "threshold" and below.rank == 2
    assert below.score == pytest.approx(scores[1], abs=1e-4)  # our exact distance is Mem0's score
    bob = answers[ids["Bob is allergic to shellfish"]]
    assert bob.cause == "filter" and "its user_id is 'bob' but the filter wants {'alice'}" in bob.message

    # Deleted from a Mem0 store, it leaves the store for MemLens' trash: still explained.
    service.delete([second])
    gone = why_not(service, trace, second)
    assert gone.cause == "status" and "deleted" in gone.message
    assert gone.score == pytest.approx(scores[1], abs=1e-4)


# -- replay ---------------------------------------------------------------------------
def test_replay_shows_an_edited_memory_leaving_the_top_k(seeded):
    seeded.semantic_search("musical instrument practice", k=2)
    trace = last_trace(seeded)
    assert trace.ids[0] == "m2"
    same = replay(seeded, trace)
    assert not same.changed and same.unchanged == tuple(trace.ids)

    seeded.edit("m2", text="Alice's daughter Maya is allergic to cats.")
    after = replay(seeded, trace)
    assert after.left == ("m2",) and len(after.entered) == 1
    assert after.changed and not after.reembedded
    assert after.hits[0].memory_id == trace.ids[1]
    assert after.moved == ((trace.ids[1], 2, 1),)


def test_replay_a_whole_session_and_the_commands(seeded, store_dir, capsys):
    seeded.semantic_search("peanut allergy", k=2, origin="agent:s-9", session_id="s-9")
    seeded.semantic_search("where does Bob live", k=2, origin="agent:s-9", session_id="s-9")
    seeded.semantic_search("violin", k=2)
    runs = replay_session(seeded, seeded.traces, "s-9")
    assert [r.trace.query for r in runs] == ["peanut allergy", "where does Bob live"]

    seeded.set_status(["m4"], Status.ARCHIVED)
    code, out, _ = run_cli(capsys, "replay", "--session", "s-9", "--store", str(store_dir))
    assert code == 0
    lines = out.splitlines()
    assert "'peanut allergy'" in lines[0] and "2 unchanged" in lines[0]
    assert "'where does Bob live'" in lines[1] and "-m4 left (was 1)" in lines[1]

    bob = seeded.traces.find(text="bob")[0]
    code, out, _ = run_cli(capsys, "why-not", bob.id[:8], "m4", "m5", "--store", str(store_dir))
    assert code == 0
    assert out.splitlines()[0].startswith("m4: returned: It was returned at rank 1.")
    assert out.splitlines()[1].startswith("m5: beyond_k: ")

    code, _, err = run_cli(capsys, "why-not", "zzzz", "m4", "--store", str(store_dir))
    assert code == 1 and "'zzzz' matches no trace" in err
