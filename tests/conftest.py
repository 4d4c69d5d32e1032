"""Fixtures shared by every test folder.

The real embedding model is loaded once per test process (the same loading code users
run); each test gets its own store folder and its own MemLens data folder.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("MEM0_TELEMETRY", "False")
# The developer's own keyring is no place for test tokens and keys (and would make tests
# depend on the desktop): keyring's "null" backend, so tokens go to files and LLM keys stay
# in the session. A test that wants a keyring sets one of its own (ingest/test_client.py).
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(item):
    """Before pytest-qt closes the test's windows: a test that failed with an edit half
    typed would leave the window asking "Close anyway?", and that modal question would
    wait for an answer forever."""
    if "memlens.gui.main_window" in sys.modules:
        from PySide6.QtWidgets import QApplication

        from memlens.gui.main_window import MainWindow

        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, MainWindow) and widget.page is not None:
                widget.page.inspector.discard_drafts()
    return (yield)


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


@pytest.fixture
def mem0_memory(tmp_path, embedder, monkeypatch):
    """A live `mem0.Memory` on a Chroma folder, history.db beside it (infer=False: no LLM).

    Mem0 insists on an OpenAI key even when it never calls the model; set only for this test,
    so that later tests do not see a language model "configured"."""
    monkeypatch.setenv("OPENAI_API_KEY", os.environ.get("OPENAI_API_KEY", "sk-test-dummy"))
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
