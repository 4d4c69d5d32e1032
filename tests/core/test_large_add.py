"""A large add (an import) stores each chunk while the model embeds the next: the same
memories, vectors and undo step as one write, and nothing left behind when it fails."""

from __future__ import annotations

import numpy as np
import pytest

from memlens.core import service as service_module
from memlens.core.embedder import EmbedderError
from memlens.core.journal import APPLIED, ROLLED_BACK
from memlens.core.record import MemoryRecord
from memlens.core.service import WriteFailed

CHUNK = 20
N = 70  # four chunks, the last one short


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    monkeypatch.setattr(service_module, "_ENCODE_CHUNK", CHUNK)


def facts(n: int = N, **extra_for) -> list[MemoryRecord]:
    # Lengths differ, so the model's shortest-first order is not the order given.
    return [
        MemoryRecord(
            id=f"f{i:03d}",
            text=f"Fact {i}: Alice visited city {i}" + " again" * (i % 7),
            extra=extra_for.get(str(i), {}),
        )
        for i in range(n)
    ]


def stored_vectors(service, ids):
    return {s.record.id: s.embedding for s in service.store.get(ids, with_embeddings=True)}


def test_a_large_add_lands_whole_with_the_models_vectors_and_undoes_and_redoes_as_one_step(service, embedder):
    service.add([MemoryRecord(id="keep", text="Bob likes tea")])
    records = facts()
    seen: list[tuple[int, int]] = []
    change = service.add(
        records, actor="import", label="Import facts", progress=lambda d, t: seen.append((d, t))
    )
    ids = [r.id for r in records]
    assert set(change.ids) == set(ids)
    assert seen == [(20, N), (40, N), (60, N), (70, N)]
    vectors = stored_vectors(service, ids)
    expected = embedder.encode([r.text for r in records])
    assert all(np.allclose(vectors[r.id], expected[i], atol=1e-5) for i, r in enumerate(records))
    assert service.journal.groups(service.store.collection)[-1].state == APPLIED
    assert service.semantic_search("Alice visited city 42", k=1)[0].record.id == "f042"

    assert service.undo().label == "Import facts"
    assert service.store.count() == 1 and service.select() == ["keep"]
    assert service.redo() is not None
    again = stored_vectors(service, ids)
    assert all(np.array_equal(again[i], vectors[i]) for i in ids)  # the journal kept every chunk's vectors
    assert len(service.select()) == N + 1


def test_a_large_add_the_store_refuses_in_its_last_chunk_is_rolled_back(service):
    service.add([MemoryRecord(id="keep", text="Bob likes tea")])
    records = facts()
    # Chroma refuses a '$' key only when that batch is written; this text is the longest.
    records[-1] = records[-1].replace(
        text=records[-1].text + " and stayed for a long while", extra={"$schema": "v1"}
    )
    with pytest.raises(WriteFailed) as err:
        service.add(records, label="Import facts")
    assert "failed and was rolled back; nothing was changed" in str(err.value)
    assert "The store refused a batch of 10 of the 70 memories ('f006', 'f013', 'f020', …)" in str(err.value)
    assert service.store.count() == 1 and service.select() == ["keep"]
    assert service.journal.groups(service.store.collection)[-1].state == ROLLED_BACK


class ModelDiesOnCall:
    """The real model, until its `fail_on`-th call (an embedding process killed mid-import)."""

    def __init__(self, model, fail_on: int) -> None:
        self.model, self.fail_on, self.calls = model, fail_on, 0
        self.name, self.dimension = model.name, model.dimension

    def encode(self, texts):
        self.calls += 1
        if self.calls == self.fail_on:
            raise EmbedderError("The embedding model process stopped while embedding (exit code -9).")
        return self.model.encode(texts)


def test_a_model_that_fails_half_way_through_leaves_no_memory_of_that_add(service, embedder):
    service.add([MemoryRecord(id="keep", text="Bob likes tea")])
    service.embedder = ModelDiesOnCall(embedder, fail_on=3)
    with pytest.raises(WriteFailed) as err:
        service.add(facts(), label="Import facts")
    assert "exit code -9" in str(err.value) and "nothing was changed" in str(err.value)
    assert service.store.count() == 1 and service.select() == ["keep"]
    assert service.undo().label == "Add 1 memory"


def test_an_add_that_names_an_id_twice_keeps_its_last_text(service):
    records = facts()
    records.append(records[0].replace(text="Fact 0, corrected"))
    service.add(records)
    assert service.get("f000").text == "Fact 0, corrected"
    assert service.store.get(["f000"])[0].record.text == "Fact 0, corrected"
