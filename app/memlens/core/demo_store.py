"""The demo collection: generated once from resources/demo, then left as the user leaves it."""

from __future__ import annotations

from memlens.core.chroma_store import ChromaBackend
from memlens.core.embedder import Embedder
from memlens.core.service import MemoryService, Progress
from memlens.core.workspace import open_service

DEMO_COLLECTION = "demo"


def ensure_demo_store(
    backend: ChromaBackend, embedder: Embedder, progress: Progress | None = None
) -> MemoryService:
    """Open the demo collection, filling it on first use only (later edits are kept)."""
    from memlens.core.demo import generate_demo

    service = open_service(backend, embedder, DEMO_COLLECTION, create=True)
    if service.store.count() == 0 and not service.journal.groups(DEMO_COLLECTION):
        service.load()
        service.add(generate_demo().records, actor="demo", label="Create demo data", progress=progress)
    else:
        service.load(progress)
    return service
