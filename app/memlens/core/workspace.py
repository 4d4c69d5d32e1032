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


# Which collection `pick_collection` chooses when none is named, by what the caller does.
WINDOW = "window"  # the default, else the first: the window lists the others to switch to
READ = "read"  # the default, else the only one: a script must not guess among several
WRITE = "write"  # always the default (created if needed): new memories land where --help says


class CollectionNotChosen(StoreError):
    """No collection was named, and the store holds no obvious one to read."""

    def __init__(self, location: str, names: list[str]) -> None:
        self.names = names
        held = (
            f"holds {len(names)} collections and none is named {DEFAULT_COLLECTION!r}: {', '.join(names)}"
            if names
            else "holds no memory collections"
        )
        super().__init__(f"{location} {held}.")


def pick_collection(backend: ChromaBackend, wanted: str | None, use: str = WINDOW) -> str:
    """The named collection; without a name, the default one, or by `use` (see above)."""
    if wanted:
        return wanted
    if use == WRITE:
        return DEFAULT_COLLECTION
    names = [c.name for c in backend.collections()]
    if DEFAULT_COLLECTION in names:
        return DEFAULT_COLLECTION
    if use == WINDOW:
        return names[0] if names else DEFAULT_COLLECTION
    if len(names) == 1:
        return names[0]
    raise CollectionNotChosen(backend.location, names)


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
