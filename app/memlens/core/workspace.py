"""Where things live on disk, and opening a collection with everything it needs."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import platformdirs

from memlens.core.chroma_store import ChromaBackend
from memlens.core.embedder import Embedder
from memlens.core.journal import Journal
from memlens.core.mem0_history import Mem0History
from memlens.core.profiles import MEM0
from memlens.core.service import MemoryService, check_dimension
from memlens.core.store import StoreError

APP_NAME = "MemLens"
DEFAULT_COLLECTION = "memories"
JOURNAL_FILENAME = "memlens-journal.sqlite3"
DATA_DIR_ENV = "MEMLENS_DATA_DIR"


def data_dir() -> Path:
    """The per-user data folder ($MEMLENS_DATA_DIR overrides it, e.g. for tests)."""
    override = os.environ.get(DATA_DIR_ENV)
    return Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_store_dir() -> Path:
    return data_dir() / "store"


def journal_path(backend: ChromaBackend) -> Path:
    """Beside an embedded store when its folder is writable, else in the user data folder."""
    if backend.is_local and os.access(backend.location, os.W_OK):
        return Path(backend.location) / JOURNAL_FILENAME
    digest = hashlib.sha1(backend.location.encode()).hexdigest()[:16]
    return data_dir() / "journals" / f"{digest}.sqlite3"


def pick_collection(backend: ChromaBackend, wanted: str | None) -> str:
    """The named collection, else the only/first one, else the default name (created)."""
    if wanted:
        return wanted
    names = [c.name for c in backend.collections()]
    if DEFAULT_COLLECTION in names or not names:
        return DEFAULT_COLLECTION
    return names[0]


def open_service(
    backend: ChromaBackend,
    embedder: Embedder,
    collection: str | None = None,
    create: bool = True,
    check: bool = True,
) -> MemoryService:
    """Open a collection for curation: profile, journal, Mem0 history, dimension check.

    The index is not loaded here; call `service.load()` (slow on large stores) next.
    """
    name = pick_collection(backend, collection)
    store = backend.open(name, create=create)
    if check:
        check_dimension(store, embedder)
    mem0 = Mem0History.beside(backend.location) if backend.is_local and store.profile == MEM0 else None
    try:
        journal = Journal(journal_path(backend))
    except Exception as exc:
        raise StoreError(f"Cannot open the MemLens journal for {backend.location}: {exc}") from None
    return MemoryService(store, journal, embedder, mem0)
