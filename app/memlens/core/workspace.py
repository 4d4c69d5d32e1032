"""Where things live on disk, and opening a collection with everything it needs."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

import platformdirs

from memlens.core.chroma_store import ChromaBackend
from memlens.core.embedder import Embedder
from memlens.core.journal import Journal
from memlens.core.mem0_history import Mem0History
from memlens.core.profiles import MEM0
from memlens.core.service import DimensionMismatch, MemoryService, check_dimension
from memlens.core.store import StoreError
from memlens.core.traces import TraceStore

APP_NAME = "MemLens"
DEFAULT_COLLECTION = "memories"
JOURNAL_FILENAME = "memlens-journal.sqlite3"
TRACES_FILENAME = "memlens-traces.sqlite3"
DATA_DIR_ENV = "MEMLENS_DATA_DIR"


def data_dir() -> Path:
    """The per-user data folder ($MEMLENS_DATA_DIR overrides it, e.g. for tests)."""
    override = os.environ.get(DATA_DIR_ENV)
    return Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_store_dir() -> Path:
    return data_dir() / "store"


def _beside_store(backend: ChromaBackend, filename: str, fallback_dir: str) -> Path:
    """Beside an embedded store when its folder is writable, else in the user data folder
    (server stores and read-only folders), keyed by the store's location."""
    if backend.is_local and os.access(backend.location, os.W_OK):
        return Path(backend.location) / filename
    digest = hashlib.sha1(backend.location.encode()).hexdigest()[:16]
    return data_dir() / fallback_dir / f"{digest}.sqlite3"


def journal_path(backend: ChromaBackend) -> Path:
    return _beside_store(backend, JOURNAL_FILENAME, "journals")


def traces_path(backend: ChromaBackend) -> Path:
    """Retrieval traces and pinned queries: where the journal goes, by the same rules."""
    return _beside_store(backend, TRACES_FILENAME, "traces")


def pick_collection(backend: ChromaBackend, wanted: str | None) -> str:
    """The named collection, else the only/first one, else the default name (created)."""
    if wanted:
        return wanted
    names = [c.name for c in backend.collections()]
    if DEFAULT_COLLECTION in names or not names:
        return DEFAULT_COLLECTION
    return names[0]


def _mem0_history_at(path: Path) -> Mem0History:
    """Mem0's history file given by path (any name: Mem0's `history_db_path`), checked."""
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            db.execute("SELECT memory_id, old_memory, new_memory, event FROM history LIMIT 1")
    except sqlite3.Error:
        raise StoreError(f"{path} is not a Mem0 history file (SQLite with a 'history' table).") from None
    return Mem0History(path)


def open_service(
    backend: ChromaBackend,
    embedder: Embedder,
    collection: str | None = None,
    create: bool = True,
    check: bool = True,
    mem0_history: Path | None = None,
) -> MemoryService:
    """Open a collection for curation: profile, journal, Mem0 history, dimension check.

    Mem0's `history.db` is found beside a store folder; for a server store give its path
    (`mem0_history`: where the agent's Mem0 keeps it). The index is not loaded here; call
    `service.load()` (slow on large stores) next.
    """
    name = pick_collection(backend, collection)
    store = backend.open(name, create=create)
    if check:
        check_dimension(store, embedder)
    mem0 = None
    if mem0_history is not None:
        mem0 = _mem0_history_at(Path(mem0_history))
    elif store.profile == MEM0:
        beside = Mem0History.beside(backend.location) if backend.is_local else None
        mem0 = beside or Mem0History.default_for([r.id for r in next(store.scan(200), [])])
    try:
        journal = Journal(journal_path(backend))
    except Exception as exc:
        raise StoreError(f"Cannot open the MemLens journal for {backend.location}: {exc}") from None
    service = MemoryService(store, journal, embedder, mem0)
    path = traces_path(backend)
    try:
        service.traces = TraceStore(path)
    except Exception as exc:
        raise StoreError(
            f"Cannot open the retrieval traces file {path}: {exc}. Move it aside to start a new one."
        ) from None
    return service


def open_readable(
    backend: ChromaBackend,
    embedder: Embedder,
    collection: str | None = None,
    mem0_history: Path | None = None,
) -> tuple[MemoryService, str | None]:
    """`open_service`, but when no collection was named and the usual pick holds vectors
    of another dimension, the first collection the model can read instead; with a notice
    naming the one passed over. A named collection is never swapped for another."""
    try:
        return open_service(backend, embedder, collection, mem0_history=mem0_history), None
    except DimensionMismatch as refused:
        if collection is not None:
            raise
        readable = [c.name for c in backend.collections() if c.dimension in (None, embedder.dimension)]
        if not readable:
            raise
        service = open_service(backend, embedder, readable[0], mem0_history=mem0_history)
        return service, f"{refused} Opened '{readable[0]}' instead."
