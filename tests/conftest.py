"""Fixtures shared by every test folder.

The real embedding model is loaded once per test process (the same loading code users
run); each test gets its own store folder and its own MemLens data folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("MEM0_TELEMETRY", "False")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MEMLENS_DATA_DIR", str(tmp_path / "memlens-data"))


@pytest.fixture(scope="session")
def embedder():
    from memlens.core.embedder import SentenceTransformerEmbedder

    emb = SentenceTransformerEmbedder()
    emb.load()
    return emb


@pytest.fixture
def store_dir(tmp_path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def make_service(store_dir, embedder):
    """Open (or reopen) a collection in the test's store, index loaded."""
    from memlens.core.chroma_store import ChromaBackend
    from memlens.core.workspace import open_service

    def make(collection: str | None = None, path: Path | None = None):
        backend = ChromaBackend.open_path(path or store_dir)
        service = open_service(backend, embedder, collection)
        service.load()
        return service

    return make


@pytest.fixture
def service(make_service):
    return make_service()


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"shared data folder missing: {SHARED_DATA}")
    return SHARED_DATA
