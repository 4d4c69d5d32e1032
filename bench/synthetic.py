"""Synthetic memory stores for benchmarks: realistic text lengths, clustered embeddings.

Vectors are drawn around cluster centres and written straight to Chroma, so building a
100k store costs no model time (the model is measured on its own). Stores are built once
per size and kept in bench/.cache/.
"""

from __future__ import annotations

import random
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from memlens.core.chroma_store import ChromaBackend
from memlens.core.record import MemoryRecord
from memlens.core.store import StoredMemory

CACHE = Path(__file__).resolve().parent / ".cache"
DIM = 384
CLUSTERS = 60
TOPICS = [
    "hiking", "coffee", "budget", "flights", "python", "sleep", "running", "hotels", "family", "allergy",
    "music", "pottery", "taxes", "garden", "cycling", "recipes", "meetings", "deadlines", "books", "movies",
]  # fmt: skip
PEOPLE = ["Alice", "Bob", "Carol", "Dan", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy"]
VERBS = ["mentioned", "prefers", "booked", "asked about", "is planning", "stopped", "started", "reported"]


def _text(rng: random.Random, topic: str) -> str:
    person = rng.choice(PEOPLE)
    words = rng.randint(8, 40)  # memories are a sentence or three
    filler = " ".join(
        rng.choice([*TOPICS, "and", "the", "with", "every", "week", "again"]) for _ in range(words)
    )
    return f"{person} {rng.choice(VERBS)} {topic}: {filler}."


def records_and_vectors(n: int, seed: int = 7) -> tuple[list[MemoryRecord], np.ndarray]:
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    centres = nrng.normal(size=(CLUSTERS, DIM)).astype(np.float32)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    records, vectors = [], np.empty((n, DIM), dtype=np.float32)
    for i in range(n):
        c = rng.randrange(CLUSTERS)
        topic = TOPICS[c % len(TOPICS)]
        user = PEOPLE[i % len(PEOPLE)].lower()
        created = start + timedelta(seconds=int(i * 31_536_000 / max(n, 1)) + rng.randint(0, 600))
        records.append(
            MemoryRecord(
                id=f"syn-{i:06d}",
                text=_text(rng, topic),
                kind=rng.choice(["episodic", "semantic", "preference"]),
                user_id=user,
                agent_id=f"agent-{i % 4}",
                session_id=f"{user}-s{i // 12:05d}",
                created_at=created,
                updated_at=created,
                tags=(topic,),
                importance=round(rng.random(), 2),
            )
        )
        v = centres[c] + 0.6 * nrng.normal(size=DIM).astype(np.float32)
        vectors[i] = v / np.linalg.norm(v)
    return records, vectors


def synthetic_store(n: int, rebuild: bool = False) -> Path:
    """A store folder with one native collection 'bench' of n memories (cached)."""
    path = CACHE / f"store-{n}"
    done = path / "READY"
    if done.exists() and not rebuild:
        return path
    shutil.rmtree(path, ignore_errors=True)
    records, vectors = records_and_vectors(n)
    store = ChromaBackend.open_path(path).open("bench", create=True)
    for i in range(0, n, 5000):
        store.upsert(
            [StoredMemory(r, v) for r, v in zip(records[i : i + 5000], vectors[i : i + 5000], strict=True)]
        )
    done.write_text(str(n))
    return path
