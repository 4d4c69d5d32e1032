"""Search finds what the user just wrote, hides the trash without an id list, and the
collection-wide figures the views show follow every change (bench/ found each at scale)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import chromadb
import numpy as np
from chromadb.config import Settings

from memlens.core.chroma_store import ChromaBackend
from memlens.core.query import Filter
from memlens.core.record import MemoryRecord, Status
from memlens.core.store import StoredMemory
from memlens.core.workspace import open_service

T0 = datetime(2026, 3, 1, tzinfo=UTC)
# Texts far from the random points and from each other: the index has no neighbour near them.
NEW_TEXTS = [
    "Quentin adopted a three-legged greyhound called Biscuit from the shelter",
    "The boiler in the cellar needs a new pressure valve before winter",
    "Priya is learning Icelandic to read the sagas in the original",
    "The choir meets on Thursdays in the old fire station on Mill Lane",
    "Tomas keeps his grandmother's sourdough starter alive in the fridge",
    "The insurance renewal for the camper van is due in the third week of May",
]


def approximate_service(store_dir, make_service, n: int = 2000):
    """A collection whose HNSW index is built to miss: one candidate searched, two links a node."""
    client = chromadb.PersistentClient(path=str(store_dir), settings=Settings(anonymized_telemetry=False))
    client.create_collection(
        "approx",
        metadata={"memlens_schema": 1},
        configuration={"hnsw": {"space": "cosine", "ef_search": 1, "max_neighbors": 2, "ef_construction": 2}},
        embedding_function=None,
    )
    service = make_service("approx")
    vectors = np.random.default_rng(7).standard_normal((n, 384)).astype(np.float32)
    records = [
        MemoryRecord(id=f"v{i}", text=f"point {i}", created_at=T0 + timedelta(minutes=i)) for i in range(n)
    ]
    for start in range(0, n, 500):
        service.store.upsert(
            [
                StoredMemory(r, v)
                for r, v in zip(records[start : start + 500], vectors[start : start + 500], strict=True)
            ]
        )
    service.load()
    return service


def edited_texts() -> list[str]:
    people = ["Quentin", "Priya", "Tomas", "Ingrid", "Kwame", "Lucia"]
    things = [
        "a greyhound called Biscuit",
        "an allotment by the canal",
        "a 1972 camper van",
        "Icelandic lessons",
    ]
    return NEW_TEXTS + [f"{p} has {t}" for p in people for t in things]


def test_a_memory_just_edited_is_found_though_the_index_misses_it(store_dir, make_service, embedder):
    service = approximate_service(store_dir, make_service)
    missed_by_index = 0
    for n, text in enumerate(edited_texts()):
        if missed_by_index >= 3:
            break
        memory_id = f"v{100 + n}"
        service.edit(memory_id, text=text)
        vector = embedder.encode([text])[0]
        if memory_id not in {h.id for h in service.store.query(vector, 5)}:
            missed_by_index += 1
        hits = service.semantic_search(text, k=5)
        assert hits[0].record.id == memory_id and hits[0].record.text == text
        assert abs(hits[0].distance) < 1e-4
    assert missed_by_index, "the index found every edited memory; nothing here tested the merge"


def test_an_edited_memory_is_scored_by_its_newest_text(store_dir, make_service, embedder):
    service = approximate_service(store_dir, make_service, n=500)
    service.edit("v3", text=NEW_TEXTS[0])
    assert service.semantic_search(NEW_TEXTS[0], k=1)[0].record.id == "v3"
    service.edit("v3", text=NEW_TEXTS[1])
    a, b = embedder.encode(NEW_TEXTS[:2])
    between = 1.0 - float(a @ b) / float(np.linalg.norm(a) * np.linalg.norm(b))
    v3 = [h for h in service.semantic_search(NEW_TEXTS[0], k=5) if h.record.id == "v3"]
    assert v3 and v3[0].record.text == NEW_TEXTS[1]
    assert abs(v3[0].distance - between) < 1e-4  # not the 0 of the text it no longer holds
    service.delete(["v3"])
    assert "v3" not in {h.record.id for h in service.semantic_search(NEW_TEXTS[1], k=5)}
    assert (
        service.semantic_search(NEW_TEXTS[1], k=5, flt=Filter(statuses=frozenset({Status.DELETED})))[
            0
        ].record.id
        == "v3"
    )


def test_search_leaves_out_the_trash_and_still_fills_k(service):
    texts = [f"Alice mentioned her {w} plans for the weekend" for w in ("hiking", "cycling", "baking")]
    texts += [f"Bob talked about {w} at work" for w in ("deadlines", "meetings", "budgets", "taxes")]
    service.add([MemoryRecord(id=f"m{i}", text=t, created_at=T0) for i, t in enumerate(texts)])
    top = [h.record.id for h in service.semantic_search("Alice's weekend plans", k=3)]
    service.delete(top[:2])

    hits = service.semantic_search("Alice's weekend plans", k=3)
    assert len(hits) == 3
    assert not {h.record.id for h in hits} & set(top[:2])
    assert [h.rank for h in hits] == [1, 2, 3]
    # The same answer as an explicit filter, which sends the allowed ids to the index.
    current = frozenset({Status.ACTIVE, Status.FLAGGED, Status.VERIFIED})
    listed = service.semantic_search("Alice's weekend plans", k=3, flt=Filter(statuses=current))
    assert [h.record.id for h in hits] == [h.record.id for h in listed]


def test_facets_counts_and_time_bounds_follow_each_change(service):
    service.add(
        [
            MemoryRecord(id="a", text="Alice likes tea", user_id="alice", created_at=T0),
            MemoryRecord(id="b", text="Bob likes coffee", user_id="bob", created_at=T0 + timedelta(days=2)),
        ]
    )
    assert service.facets().users == ["alice", "bob"]
    assert service.time_bounds() == (T0, T0 + timedelta(days=2))
    service.edit("a", user_id="carol", tags=("drinks",))
    assert service.facets().users == ["bob", "carol"] and service.facets().tags == ["drinks"]
    service.delete(["b"])
    assert service.status_counts()[Status.DELETED] == 1
    assert service.time_bounds() == (T0, T0)  # the trash is not listed, so not bounded
    assert service.select() == ["a"]
    service.undo()
    assert service.select() == ["b", "a"] and service.status_counts()[Status.DELETED] == 0


def test_a_large_store_hands_over_its_newest_page_first(store_dir, make_service, embedder):
    service = approximate_service(store_dir, make_service, n=2500)  # written oldest first
    reopened = open_service(ChromaBackend.open_path(store_dir), embedder, "approx")
    seen: dict = {}
    changes = []
    reopened.subscribe(changes.append)

    def first_page() -> None:
        seen["loaded"] = reopened.loaded
        seen["ids"] = reopened.select()

    reopened.load(first_page=first_page)
    assert seen["loaded"] is False
    assert seen["ids"] == [f"v{i}" for i in range(2499, 1499, -1)]  # the newest 1,000, newest first
    assert [c.label for c in changes] == ["Loaded"]
    assert reopened.loaded and reopened.select() == service.select() and len(reopened.select()) == 2500
