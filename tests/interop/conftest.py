"""Real stores written by Mem0 and LangChain, offline, with the packaged model."""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def mem0_memory(tmp_path, embedder):
    """A live `mem0.Memory` on a Chroma folder, history.db beside it (infer=False: no LLM)."""
    os.environ.setdefault("OPENAI_API_KEY", "sk-test-dummy")
    from mem0 import Memory

    path = tmp_path / "mem0-store"
    config = {
        "vector_store": {"provider": "chroma", "config": {"collection_name": "mem0", "path": str(path)}},
        "embedder": {"provider": "huggingface", "config": {"model": embedder.name, "embedding_dims": 384}},
        "history_db_path": str(path / "history.db"),
    }
    memory = Memory.from_config(config)
    memory.store_path = path
    return memory


@pytest.fixture
def langchain_store(tmp_path, embedder):
    from langchain_chroma import Chroma
    from langchain_core.embeddings import Embeddings

    class PackagedModel(Embeddings):
        def embed_documents(self, texts):
            return embedder.encode(list(texts)).tolist()

        def embed_query(self, text):
            return embedder.encode([text])[0].tolist()

    path = tmp_path / "lc-store"
    db = Chroma(collection_name="langchain", embedding_function=PackagedModel(), persist_directory=str(path))
    db.store_path = path
    return db
