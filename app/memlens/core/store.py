"""The storage boundary: everything above it talks to `MemoryStore`, never to chromadb."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from memlens.core.record import MemoryRecord


class StoreError(Exception):
    """A store could not be opened or used; the message is shown to the user as is."""


@dataclass(frozen=True)
class CollectionInfo:
    name: str
    count: int
    profile: str
    dimension: int | None
    distance: str


@dataclass(frozen=True)
class StoredMemory:
    """A record together with the vector the store keeps for it (None if not fetched)."""

    record: MemoryRecord
    embedding: np.ndarray | None = None


@dataclass(frozen=True)
class VectorHit:
    id: str
    distance: float


class MemoryStore(Protocol):
    """One open collection of memories, whatever library wrote it."""

    @property
    def location(self) -> str: ...
    @property
    def collection(self) -> str: ...
    @property
    def profile(self) -> str: ...
    @property
    def dimension(self) -> int | None: ...
    @property
    def soft_delete_in_place(self) -> bool:
        """True when a deleted record can stay in the store with status 'deleted'
        (native layout); False for foreign layouts whose owners would still return it."""
        ...

    def count(self) -> int: ...
    def scan(self, batch_size: int = 2000, start: int = 0) -> Iterator[list[MemoryRecord]]:
        """Every record, `batch_size` at a time, in the store's own order from row `start`."""
        ...

    def get(self, ids: Sequence[str], with_embeddings: bool = False) -> list[StoredMemory]: ...
    def query(self, embedding: np.ndarray, k: int, ids: Sequence[str] | None = None) -> list[VectorHit]: ...
    def query_many(self, embeddings: np.ndarray, k: int) -> list[list[VectorHit]]: ...
    def embeddings(self, ids: Sequence[str]) -> np.ndarray: ...
    def upsert(self, items: Sequence[StoredMemory]) -> None: ...
    def update_metadata(self, records: Sequence[MemoryRecord]) -> None: ...
    def delete(self, ids: Sequence[str]) -> None: ...
