"""Following other writers: notice what an agent added, changed or deleted in the store.

Chroma has no change feed, so the watcher lists the collection (ids, documents and
metadata, never vectors) and keeps one short digest per memory; the ids whose digest
moved between two polls are handed to `MemoryService.sync_from_store`, which re-reads
just those and tells the views. MemLens' own writes show up in the listing too; the
service drops them because the store then holds exactly what its index holds.

Also here: recognising that a memory was changed underneath an edit (`EditConflict`).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from memlens.core.profiles import PROFILES
from memlens.core.record import HIDDEN_STATUSES, MemoryRecord

if TYPE_CHECKING:
    from memlens.core.service import Change, MemoryService


class RawRows(Protocol):
    def raw_rows(self, batch_size: int = 5000) -> Iterator[list[tuple[str, str | None, dict]]]: ...


def fingerprint(document: str | None, metadata: dict[str, Any] | None) -> bytes:
    """A short digest of what the owner stored for one memory."""
    blob = json.dumps([document, metadata or {}], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.blake2b(blob.encode("utf-8"), digest_size=12).digest()


def stored_form(profile: str, record: MemoryRecord) -> tuple[str | None, dict[str, Any]]:
    """What writing `record` would leave in a store of this profile, less the keys derived
    from the text (Mem0's `text_lemmatized`): the index keeps their value from load time,
    and they follow the text, which is compared anyway."""
    owner = PROFILES[profile]
    document, metadata = owner.to_chroma(record)
    for key in owner.derived_text_keys:
        metadata.pop(key, None)
    return document, metadata


def same_stored(profile: str, a: MemoryRecord | None, b: MemoryRecord | None) -> bool:
    """True when the two records would be stored identically (so neither changed the other)."""
    if a is None or b is None:
        return a is b
    return stored_form(profile, a) == stored_form(profile, b)


class EditConflict(Exception):
    """The memory changed in the store since the user started editing it."""

    def __init__(self, memory_id: str, base: MemoryRecord, theirs: MemoryRecord | None) -> None:
        self.memory_id = memory_id
        self.base = base
        self.theirs = theirs
        what = "deleted" if theirs is None else "changed"
        super().__init__(
            f"Memory {memory_id!r} was {what} by someone else since you started editing it; "
            "your edit was not saved."
        )


@dataclass(frozen=True)
class PollResult:
    """One poll: the ids that differ from the last look, and what applying them did."""

    candidates: int
    change: Change | None
    seconds: float
    memories: int


class StoreWatcher:
    """Polls one open collection for changes made by other processes.

    The first poll compares the store with the service's index (what MemLens showed
    when it loaded); later polls compare digests with the previous poll.
    """

    def __init__(self, service: MemoryService, batch_size: int = 5000) -> None:
        self.service = service
        self.batch_size = batch_size
        self._seen: dict[str, bytes] | None = None

    def _listing(self) -> dict[str, bytes]:
        store: RawRows = self.service.store  # type: ignore[assignment]
        derived = PROFILES[self.service.store.profile].derived_text_keys
        out: dict[str, bytes] = {}
        for rows in store.raw_rows(self.batch_size):
            for memory_id, document, metadata in rows:
                if derived:
                    metadata = {k: v for k, v in metadata.items() if k not in derived}
                out[memory_id] = fingerprint(document, metadata)
        return out

    def _expected(self) -> dict[str, bytes]:
        """Digests of what the index says the store holds (foreign trash is not in the store)."""
        store = self.service.store
        records = self.service.records(self.service.select_all())
        return {
            r.id: fingerprint(*stored_form(store.profile, r))
            for r in records
            if store.soft_delete_in_place or r.status not in HIDDEN_STATUSES
        }

    def candidates(self) -> set[str]:
        """Ids added, changed or removed since the last poll (the first poll: since load)."""
        now = self._listing()
        before = self._expected() if self._seen is None else self._seen
        self._seen = now
        moved = {i for i, digest in now.items() if before.get(i) != digest}
        return moved | (before.keys() - now.keys())

    def poll(self) -> PollResult:
        started = time.perf_counter()
        ids = self.candidates()
        change = self.service.sync_from_store(sorted(ids)) if ids else None
        return PollResult(
            len(ids),
            change if change and change.ids else None,
            time.perf_counter() - started,
            len(self._seen or ()),
        )


def next_interval(base: float, last_poll_seconds: float, ceiling: float = 60.0) -> float:
    """Poll again after `base` seconds, but spend at most a tenth of the time polling."""
    return min(max(base, 10.0 * last_poll_seconds), ceiling)


def describe(records: Iterable[MemoryRecord], limit: int = 60) -> list[str]:
    """Short one-line texts for messages ("… 'Alice moved to Lyon'")."""
    out = []
    for r in records:
        text = " ".join(r.text.split())
        out.append(text if len(text) <= limit else text[: limit - 1] + "…")
    return out
