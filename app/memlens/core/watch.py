"""Following other writers: notice what an agent added, changed or deleted in the store.

Chroma has no change feed, so the watcher looks at the collection in two ways:
- a quick look lists the ids only (milliseconds even for 100,000 memories): what was
  added or deleted;
- a full look lists ids, documents and metadata (never vectors) and keeps one short
  digest per memory: what was edited. Full looks are spaced so that they take at most a
  tenth of the time (`next_interval`); quick looks fill the gaps.
The ids that moved are handed to `MemoryService.sync_from_store`, which re-reads just
those and tells the views. MemLens' own writes show up in the listing too; the service
drops them because the store then holds exactly what its index holds.

Also here: recognising that a memory was changed underneath an edit (`EditConflict`).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from memlens.core.profiles import PROFILES
from memlens.core.record import HIDDEN_STATUSES, MemoryRecord

if TYPE_CHECKING:
    from memlens.core.service import Change, MemoryService


class RawRows(Protocol):
    def raw_rows(self, batch_size: int = 5000) -> Iterator[list[tuple[str, str | None, dict]]]: ...
    def raw_ids(self, batch_size: int = 50000) -> Iterator[list[str]]: ...


_UNREAD = b""  # a digest for an id a quick look found: the next full look reads it


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
    full: bool = True  # False: a quick look (ids only: adds and deletes)


class StoreWatcher:
    """Polls one open collection for changes made by other processes.

    The first poll compares the store with the service's index (what MemLens showed
    when it loaded); later polls compare with the previous poll.
    """

    def __init__(self, service: MemoryService, base_interval: float = 2.0, batch_size: int = 5000) -> None:
        self.service = service
        self.base_interval = base_interval
        self.batch_size = batch_size
        self._seen: dict[str, bytes] | None = None
        self._next_full = 0.0  # time.monotonic() of the next full look

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

    def candidates(self, full: bool = True) -> set[str]:
        """Ids added, changed or removed since the last look (the first: since load).
        A quick look (`full=False`) sees additions and deletions only."""
        if full or self._seen is None:
            now = self._listing()
            before = self._expected() if self._seen is None else self._seen
            self._seen = now
            moved = {i for i, digest in now.items() if before.get(i) != digest}
            return moved | (before.keys() - now.keys())
        store: RawRows = self.service.store  # type: ignore[assignment]
        ids = {i for batch in store.raw_ids() for i in batch}
        seen = self._seen
        added, gone = ids - seen.keys(), seen.keys() - ids
        for memory_id in gone:
            del seen[memory_id]
        seen.update(dict.fromkeys(added, _UNREAD))
        return added | gone

    def poll(self, full: bool | None = None) -> PollResult:
        """Look once: a full look when one is due (or asked for), else a quick one."""
        started = time.perf_counter()
        if full is None:
            full = self._seen is None or time.monotonic() >= self._next_full
        ids = self.candidates(full)
        change = self.service.sync_from_store(sorted(ids)) if ids else None
        seconds = time.perf_counter() - started
        if full:
            self._next_full = time.monotonic() + next_interval(self.base_interval, seconds)
        return PollResult(
            len(ids), change if change and change.ids else None, seconds, len(self._seen or ()), full
        )


def pause_after(watcher: StoreWatcher, result: PollResult) -> float:
    """Seconds until the next look: the base interval, stretched only if quick looks
    themselves get costly (full looks are spaced by the watcher itself)."""
    return next_interval(watcher.base_interval, 0.0 if result.full else result.seconds)


def next_interval(base: float, last_poll_seconds: float, ceiling: float = 60.0) -> float:
    """Poll again after `base` seconds, but spend at most a tenth of the time polling."""
    return min(max(base, 10.0 * last_poll_seconds), ceiling)
