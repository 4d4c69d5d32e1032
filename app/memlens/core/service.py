"""The memory service: every action a user can take, journaled, undoable, Qt-free.

The GUI, the command line and plugins all call this class; none of them writes to a
store directly. It keeps an in-memory index of the collection's records (no vectors)
so that time-ordered paging, filters and keyword search need no round trip to Chroma.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, nullcontext
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import NoReturn

import numpy as np

from memlens.core.embedder import Embedder
from memlens.core.gcpause import FREEZE_FROM, no_gc_pauses
from memlens.core.journal import (
    APPLIED,
    PENDING,
    ROLLED_BACK,
    UNDONE,
    Group,
    HistoryEntry,
    Journal,
    Operation,
    State,
)
from memlens.core.mem0_history import Mem0Event, Mem0History
from memlens.core.query import Facets, Filter, SearchHit
from memlens.core.ranking import Blend, effective
from memlens.core.record import HIDDEN_STATUSES, MemoryRecord, Status, utc_now
from memlens.core.store import MemoryStore, StoredMemory, StoreError, VectorHit
from memlens.core.traces import GUI, TraceStore
from memlens.core.watch import EditConflict, same_stored
from memlens.core.write_pacing import WritePacer

_EPOCH = datetime.min.replace(tzinfo=utc_now().tzinfo)
_BATCH = 500
# Texts embedded per call: progress still moves every few seconds on a laptop, and the
# import's peak memory is lowest here (bench, 100,000 memories: chunks of 128 added
# 423 MB to the resident set, 256 added 438, 500 added 157, 1000 added 255).
_ENCODE_CHUNK = 500
# A default search over a collection with a few hidden (archived, deleted) memories asks
# the index for k + that many and drops them, rather than sending every allowed id: an
# allow-list of 100,000 ids cost Chroma 70 ms a query. Above this many, the list is used.
_OVERFETCH_LIMIT = 1000
# Memories written in this session, scored exactly on every search (see `_with_fresh`).
_FRESH_LIMIT = 10_000
_FIRST_PAGE = 1000  # rows read first when a window waits to show something

Progress = Callable[[int, int], None]
Embedded = list[tuple[int, np.ndarray]]  # (position among the texts, its vector)


class DimensionMismatch(StoreError):
    pass


class JournalMoved(StoreError):
    """Undo or redo was asked for one step, but the journal's next step is another (another
    window, process or plugin wrote to the same journal); nothing was changed."""


class WriteFailed(StoreError):
    """A change failed part way through; the message says what the store holds now."""


class BlankText(StoreError):
    """A write would leave a memory without text (an emptied edit, a blank merge); nothing
    was changed. Removing a memory is a delete, which can be undone and restored."""


def _refuse_blank(records: Sequence[MemoryRecord]) -> None:
    blank = [r.id for r in records if not r.text.strip()]
    if blank:
        named = ", ".join(map(repr, blank[:3])) + (f" and {len(blank) - 3} more" if len(blank) > 3 else "")
        raise BlankText(
            f"A memory needs some text: {named} would be left blank. Nothing was changed; "
            "to remove a memory, delete it."
        )


@dataclass(frozen=True)
class Change:
    """What one applied, undone or redone group did, for views to refresh."""

    label: str
    ids: tuple[str, ...]
    kind: str  # "apply", "undo", "redo", "external"
    group_id: str | None = None  # the journal group it applied, undid or redid


def check_dimension(store: MemoryStore, embedder: Embedder) -> None:
    """Refuse a collection whose vectors the configured model cannot have made."""
    have = store.dimension
    if have is None:
        return
    want = embedder.dimension
    if have != want:
        raise DimensionMismatch(
            f"Collection '{store.collection}' holds {have}-dimensional embeddings, but the "
            f"model {embedder.name!r} makes {want}-dimensional ones. Open it with the model "
            f"that wrote it (--model NAME_OR_PATH); nothing was written to it."
        )


def _stamped(r: MemoryRecord, now: datetime) -> MemoryRecord:
    """A new memory is written now: it gets `updated_at` (Mem0 requires one) and, unless it
    brings its own (an import, a merge keeping the earliest), `created_at`."""
    if r.created_at and r.updated_at:
        return r
    return r.replace(created_at=r.created_at or now, updated_at=r.updated_at or now)


def _status_op(status: Status) -> str:
    return "restore" if status == Status.ACTIVE else status.value


def _op_name(before: MemoryRecord | None, after: MemoryRecord) -> str:
    """The journal's word for a change: a bulk delete or a merge's archiving says so."""
    if before is None:
        return "add"
    return _status_op(after.status) if after.status != before.status else "edit"


def _sort_key(r: MemoryRecord) -> tuple[datetime, str]:
    return (r.created_at or _EPOCH, r.id)


def _stamp(r: MemoryRecord) -> float:
    when = r.created_at or _EPOCH
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def _newest_first(index: dict[str, MemoryRecord]) -> list[str]:
    """Ids by (created_at, id), newest first.

    Sorted by numpy: sorting 100,000 Python tuples holds the GIL for 70 ms at a stretch,
    and the window stalls for as long.
    """
    ids = list(index)
    if not ids:
        return []
    stamps = np.fromiter((_stamp(r) for r in index.values()), dtype=np.float64, count=len(ids))
    return [ids[i] for i in np.lexsort((np.array(ids), stamps))[::-1]]


@dataclass(frozen=True)
class _Derived:
    """What the views ask of the whole collection on every change, worked out once."""

    hidden: frozenset[str]
    counts: dict[Status, int]
    facets: Facets
    first: datetime | None
    last: datetime | None

    @classmethod
    def of(cls, records: Collection[MemoryRecord]) -> _Derived:
        counts = dict.fromkeys(Status, 0)
        for r in records:
            counts[r.status] += 1
        hidden = frozenset(r.id for r in records if r.status in HIDDEN_STATUSES)

        def values(attr: str) -> list[str]:
            return sorted({getattr(r, attr) for r in records} - {None, ""})

        tags = sorted({t for r in records for t in r.tags})
        facets = Facets(values("user_id"), values("agent_id"), values("session_id"), values("kind"), tags)
        # The bounds are those of what the table lists.
        times = [r.created_at for r in records if r.created_at and r.id not in hidden]
        return cls(hidden, counts, facets, min(times, default=None), max(times, default=None))


class MemoryService:
    def __init__(
        self,
        store: MemoryStore,
        journal: Journal,
        embedder: Embedder,
        mem0_history: Mem0History | None = None,
    ) -> None:
        self.store = store
        self.journal = journal
        self.embedder = embedder
        self.mem0_history = mem0_history
        self.traces: TraceStore | None = None  # set by the workspace; searches are then recorded
        self._write_lock = threading.RLock()
        self._pacer = WritePacer()  # store writes sized to hold the window ~70 ms at most
        self._index: dict[str, MemoryRecord] = {}
        self._order: list[str] = []  # newest first
        self._derived = _Derived.of([])
        self._fresh: dict[str, np.ndarray] = {}
        self._fresh_version = 0
        self._fresh_matrix: tuple[int, list[str], np.ndarray] | None = None
        self._listeners: list[Callable[[Change], None]] = []
        self.loaded = False

    # -- opening ---------------------------------------------------------------
    def load(self, progress: Progress | None = None, first_page: Callable[[], None] | None = None) -> None:
        """Finish or roll back interrupted work, then read every record (no vectors).

        Reading 100,000 memories from Chroma takes seconds. With `first_page`, the newest
        rows the store holds are read first and made the index, and `first_page()` is
        called so a window can show them at once; when the rest is in, listeners get a
        "Loaded" change.
        """
        with self._write_lock:
            self._recover()
            total = self.store.count()
            early = first_page is not None and total > _FIRST_PAGE
            if early:
                # Stores are mostly appended to: their last rows are the newest memories.
                self._index = {r.id: r for b in self.store.scan(_FIRST_PAGE, total - _FIRST_PAGE) for r in b}
                self._reorder()
                first_page()
            index: dict[str, MemoryRecord] = {}
            with no_gc_pauses(freeze=total >= FREEZE_FROM):
                for batch in self.store.scan():
                    index.update((r.id, r) for r in batch)
                    if progress:
                        progress(len(index), total)
            for state in self.journal.trash(self.store.collection):
                if state.record is not None and state.record.id not in index:
                    index[state.record.id] = state.record
            self._index = index
            self._reorder()
            self.loaded = True
        if early:
            self._notify(Change("Loaded", (), "external"))

    def _recover(self) -> None:
        for group in self.journal.groups(self.store.collection, [PENDING]):
            self._apply([(o.memory_id, o.before) for o in reversed(self.journal.operations(group.id))])
            self.journal.set_state(group.id, ROLLED_BACK)

    def _reorder(self, moved: bool = True) -> None:
        """After any change to the index: the order (unless nothing `moved`: no memory
        added, removed or re-dated) and what views ask for on every change (facets,
        counts, time bounds), worked out here on the writer's thread so the GUI thread
        never walks 100,000 records."""
        if moved:
            self._order = _newest_first(self._index)
        self._derived = _Derived.of(self._index.values())

    # -- observing -------------------------------------------------------------
    def subscribe(self, listener: Callable[[Change], None]) -> None:
        self._listeners.append(listener)

    def _notify(self, change: Change) -> None:
        for listener in list(self._listeners):
            listener(change)

    # -- reading ---------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._index)

    def get(self, memory_id: str) -> MemoryRecord | None:
        return self._index.get(memory_id)

    def records(self, ids: Iterable[str]) -> list[MemoryRecord]:
        return [self._index[i] for i in ids if i in self._index]

    def select(self, flt: Filter = Filter()) -> list[str]:
        """Ids of the records matching `flt`, newest first."""
        if flt.is_default:  # the usual view: everything current, without a Python test per record
            hidden = self._derived.hidden
            return [i for i in self._order if i not in hidden] if hidden else list(self._order)
        index, words = self._index, flt.words()
        return [i for i in self._order if i in index and flt.matches(index[i], words)]

    def select_all(self) -> list[str]:
        """Every id in the collection, archived and deleted included, newest first."""
        return list(self._order)

    def status_counts(self) -> dict[Status, int]:
        return dict(self._derived.counts)

    def facets(self) -> Facets:
        return self._derived.facets

    def time_bounds(self) -> tuple[datetime | None, datetime | None]:
        """Earliest and latest `created_at` of the current (not archived or deleted) memories."""
        return self._derived.first, self._derived.last

    def semantic_search(
        self,
        text: str,
        k: int = 20,
        flt: Filter = Filter(),
        origin: str = GUI,
        session_id: str | None = None,
        blend: Blend | None = None,
    ) -> list[SearchHit]:
        """Embed the query and ask the vector index, restricted to what `flt` lets through.

        With a `blend`, the nearest `k * blend.pool` are re-ranked by its weighted signals.
        With a trace store attached the retrieval is recorded: `origin` says who asked
        ("gui", "cli", "plugin:<name>", "agent:<session>").
        """
        if not text.strip():
            return []
        started = time.perf_counter()
        vector = self.embedder.encode([text])[0]
        out = self.search_vector(vector, k, flt, text=text, blend=blend)
        if self.traces is not None:
            latency_ms = (time.perf_counter() - started) * 1000.0
            self.traces.record_search(
                text,
                vector,
                k,
                flt,
                out,
                latency_ms,
                origin=origin,
                session_id=session_id,
                collection=self.store.collection,
                model=self.embedder.name,
                blend=blend,
            )
        return out

    def search_vector(
        self,
        vector: np.ndarray,
        k: int = 20,
        flt: Filter = Filter(),
        *,
        text: str = "",
        blend: Blend | None = None,
        now: datetime | None = None,
    ) -> list[SearchHit]:
        """The index half of a search, for a vector already made (replays); not recorded.

        A blend needs the query `text` (keyword overlap) and ranks recency from `now`."""
        if (blend := effective(blend)) is not None and k > 0:
            pool = self.search_vector(vector, k * blend.pool, flt)
            return blend.rerank(text, pool, k, now or utc_now())
        hidden = self._derived.hidden
        if flt.is_default and len(hidden) <= _OVERFETCH_LIMIT:
            hits = self.store.query(vector, k + len(hidden), None) if k > 0 else []
            hits = [h for h in hits if h.id not in hidden]
        else:
            hits = self.store.query(vector, k, self.select(flt))
        out = []
        for hit in self._with_fresh(vector, hits[:k], k, flt):
            record = self._index.get(hit.id)
            if record is not None:
                out.append(SearchHit(record, len(out) + 1, hit.distance, self._score(hit.distance)))
        return out

    def _with_fresh(self, vector: np.ndarray, hits: list[VectorHit], k: int, flt: Filter) -> list[VectorHit]:
        """Merge in, scored exactly, the memories written in this session.

        The vector index is approximate, and a memory moved to where no other memory lies
        can be unreachable in it: at 100,000 memories Chroma did not return a memory just
        edited to the query's own text (distance 0) for any k below 400. What the user just
        changed must be found.
        """
        if not self._fresh or k <= 0:
            return hits
        ids, matrix = self._fresh_arrays()
        if not ids:
            return hits
        from memlens.core.why_not import distances as exact  # it imports this module

        distances = exact(matrix, vector, self.store_space)
        best = {h.id: h.distance for h in hits}
        worst = max(best.values()) if len(best) >= k else np.inf
        for n in np.argsort(distances)[: k + _OVERFETCH_LIMIT]:
            d = float(distances[n])
            if d > worst:
                break
            if not np.isfinite(d):  # a zero vector has no cosine distance
                continue
            record = self._index.get(ids[n])
            if record is not None and flt.matches(record):
                best[ids[n]] = d
        ranked = sorted(best.items(), key=lambda item: item[1])[:k]
        return [VectorHit(i, d) for i, d in ranked]

    def _fresh_arrays(self) -> tuple[list[str], np.ndarray]:
        # Searches run beside writes: the version is read first, so a matrix built while a
        # write went on is rebuilt on the next search rather than kept.
        version, cached = self._fresh_version, self._fresh_matrix
        if cached is None or cached[0] != version:
            items = list(self._fresh.items())
            matrix = np.stack([v for _, v in items]) if items else np.zeros((0, 0), np.float32)
            cached = (version, [i for i, _ in items], matrix)
            self._fresh_matrix = cached
        return cached[1], cached[2]

    @property
    def store_space(self) -> str:
        return getattr(self.store, "distance", "l2")

    def _score(self, distance: float) -> float:
        # Cosine distance maps to similarity; l2 uses Mem0's 1/(1+d) so scores match it.
        if self.store_space == "cosine":
            return 1.0 - distance
        return 1.0 / (1.0 + distance)

    def history(self, memory_id: str) -> list[HistoryEntry]:
        return self.journal.history(self.store.collection, memory_id)

    def mem0_events(self, memory_id: str) -> list[Mem0Event]:
        return self.mem0_history.events(memory_id) if self.mem0_history else []

    # -- changing --------------------------------------------------------------
    def add(
        self,
        records: Sequence[MemoryRecord],
        actor: str = "user",
        reason: str | None = None,
        label: str | None = None,
        progress: Progress | None = None,
    ) -> Change:
        """Embed and add new memories as one undoable step."""
        _refuse_blank(records)
        now = utc_now()
        records = [_stamped(r, now) for r in records]
        label = label or f"Add {self._count(len(records))}"
        texts = [r.text for r in records]
        # (An id given twice must end as its last record: stored in one pass, in order.)
        if len(records) <= _ENCODE_CHUNK or len({r.id for r in records}) < len(records):
            vectors = self._encode(texts, progress)
            ops = [
                Operation("add", r.id, State(self._index.get(r.id)), State(r, v))
                for r, v in zip(records, vectors, strict=True)
            ]
            return self._commit(label, ops, actor, reason)
        # An import: each chunk goes into the store while the model embeds the next one,
        # instead of every upsert waiting for the last text to be embedded (bench: 10,000
        # into 100,000 took 68 s, 47 of them embedding).
        ops = [Operation("add", r.id, State(self._index.get(r.id)), State(r)) for r in records]
        with closing(self._encoded(texts, progress)) as chunks:
            return self._commit(label, ops, actor, reason, chunks)

    def update(
        self,
        records: Sequence[MemoryRecord],
        actor: str = "user",
        reason: str | None = None,
        label: str | None = None,
    ) -> Change:
        """Replace existing memories; re-embeds those whose text changed."""
        for r in records:
            self._require(r.id)
        return self.apply_records(records, actor, reason, label)

    def apply_records(
        self,
        records: Sequence[MemoryRecord],
        actor: str = "user",
        reason: str | None = None,
        label: str | None = None,
    ) -> Change:
        """Write new and changed memories as one undoable step (a merge, a bulk edit).

        Existing memories get a new version and `updated_at`; only changed texts are
        re-embedded; records equal to what is stored are left out.
        """
        known = [r for r in records if r.id in self._index]
        befores = self._current(r.id for r in known)
        now = utc_now()
        planned: list[tuple[State, MemoryRecord]] = []
        for r in records:
            before = befores.get(r.id, State(None))
            if before.record == r:
                continue
            if before.record is None:
                planned.append((before, _stamped(r, now)))
            else:
                planned.append((before, r.replace(updated_at=now, version=before.record.version + 1)))
        needs_vector = [
            new for before, new in planned if before.record is None or new.text != before.record.text
        ]
        _refuse_blank(needs_vector)  # a blank memory already stored may still be flagged
        vectors = iter(self._encode([new.text for new in needs_vector]))
        ops = []
        for before, new in planned:
            fresh = before.record is None or new.text != before.record.text
            vector = next(vectors) if fresh else before.embedding
            ops.append(Operation(_op_name(before.record, new), new.id, before, State(new, vector)))
        return self._commit(label or f"Edit {self._count(len(ops))}", ops, actor, reason)

    def edit(
        self,
        memory_id: str,
        actor: str = "user",
        reason: str | None = None,
        expected: MemoryRecord | None = None,
        **fields,
    ) -> Change:
        """Change some fields of one memory. With `expected` (the record the user began
        editing), refuse with `EditConflict` if the store no longer holds it."""
        with self._write_lock:
            if expected is not None:
                self._check_unchanged(memory_id, expected)
            current = self._require(memory_id)
            return self.update([current.replace(**fields)], actor, reason, label=self._edit_label(fields))

    def _check_unchanged(self, memory_id: str, expected: MemoryRecord) -> None:
        stored = self.store.get([memory_id])
        theirs = stored[0].record if stored else None
        if theirs is None and expected.status in HIDDEN_STATUSES:
            return  # in MemLens' trash, not in a foreign store: nobody else can change it
        if not same_stored(self.store.profile, theirs, expected):
            self.sync_from_store([memory_id])
            raise EditConflict(memory_id, expected, theirs)

    def sync_from_store(self, ids: Sequence[str]) -> Change:
        """Take what other writers did to these memories into the index, and tell the views.

        Ids whose stored form is what the index already holds (MemLens' own writes) are
        left out; a memory gone from the store leaves the index unless it sits in MemLens'
        trash of a foreign store (where MemLens itself removed it).
        """
        changed: list[str] = []
        with self._write_lock:
            fresh = {s.record.id: s.record for s in self.store.get(list(ids))} if ids else {}
            for memory_id in ids:
                new, old = fresh.get(memory_id), self._index.get(memory_id)
                if new is None:
                    in_trash = old is not None and old.status in HIDDEN_STATUSES
                    if old is None or (in_trash and not self.store.soft_delete_in_place):
                        continue
                    del self._index[memory_id]
                elif same_stored(self.store.profile, old, new):
                    continue
                else:
                    self._index[memory_id] = new
                changed.append(memory_id)
            if changed:
                self._remember_fresh([], changed)  # their vectors are not the ones this session wrote
                self._reorder()
        change = Change(f"Changed outside MemLens: {self._count(len(changed))}", tuple(changed), "external")
        if changed:
            self._notify(change)
        return change

    def set_status(
        self, ids: Sequence[str], status: Status, actor: str = "user", reason: str | None = None
    ) -> Change:
        verbs = {
            Status.DELETED: "Delete",
            Status.ARCHIVED: "Archive",
            Status.FLAGGED: "Flag",
            Status.VERIFIED: "Verify",
            Status.ACTIVE: "Restore",
        }
        befores = self._current(ids)
        now = utc_now()
        ops = [
            Operation(
                _status_op(status),
                mid,
                before,
                State(before.record.replace(status=status, updated_at=now), before.embedding),
            )
            for mid, before in befores.items()
            if before.record.status != status
        ]
        return self._commit(f"{verbs[status]} {self._count(len(ops))}", ops, actor, reason)

    def annotate(
        self, ids: Sequence[str], op: str, label: str, actor: str = "user", reason: str | None = None
    ) -> Change:
        """Journal a decision that leaves the memories as they are (a review skip)."""
        befores = self._current(ids)
        ops = [Operation(op, mid, before, before) for mid, before in befores.items()]
        return self._commit(label, ops, actor, reason)

    def delete(self, ids: Sequence[str], actor: str = "user", reason: str | None = None) -> Change:
        """Soft delete: the memory goes to the trash and can be restored until purged."""
        return self.set_status(ids, Status.DELETED, actor, reason)

    def restore(self, ids: Sequence[str], actor: str = "user", reason: str | None = None) -> Change:
        return self.set_status(ids, Status.ACTIVE, actor, reason)

    def purge(self, ids: Sequence[str], actor: str = "user", reason: str | None = None) -> Change:
        """Remove for good (the journal still holds the last state, so even this undoes)."""
        befores = self._current(ids)
        ops = [Operation("purge", mid, before, State(None)) for mid, before in befores.items()]
        return self._commit(f"Purge {self._count(len(ops))}", ops, actor, reason)

    # -- undo and redo -----------------------------------------------------------
    def can_undo(self) -> bool:
        return self.journal.last_applied(self.store.collection) is not None

    def can_redo(self) -> bool:
        return self.journal.next_undone(self.store.collection) is not None

    def undo(self, expected: str | None = None) -> Change | None:
        """Undo the last applied group; with `expected` (the group id the caller shows as
        the next undo), refuse with `JournalMoved` if the journal's last group is another."""
        with self._write_lock:
            group = self.journal.last_applied(self.store.collection)
            self._check_next(group, expected, "undo")
            if group is None:
                return None
            ops = self.journal.operations(group.id)
            self._apply([(o.memory_id, o.before) for o in reversed(ops)], [(o.after, o.before) for o in ops])
            self.journal.set_state(group.id, UNDONE)
        change = Change(group.label, tuple(o.memory_id for o in ops), "undo", group.id)
        self._notify(change)
        return change

    def redo(self, expected: str | None = None) -> Change | None:
        """Redo the earliest undone group; `expected` as for `undo`."""
        with self._write_lock:
            group = self.journal.next_undone(self.store.collection)
            self._check_next(group, expected, "redo")
            if group is None:
                return None
            ops = self.journal.operations(group.id)
            self._apply([(o.memory_id, o.after) for o in ops], [(o.before, o.after) for o in ops])
            self.journal.set_state(group.id, APPLIED)
        change = Change(group.label, tuple(o.memory_id for o in ops), "redo", group.id)
        self._notify(change)
        return change

    @staticmethod
    def _check_next(group: Group | None, expected: str | None, what: str) -> None:
        if expected is None or (group is not None and group.id == expected):
            return
        now = f"'{group.label}' (by {group.actor})" if group is not None else "nothing"
        raise JournalMoved(
            f"Nothing was changed: the next {what} in the journal is {now}, not the step shown "
            "(another window, process or plugin changed this collection)."
        )

    def undo_stack(self) -> tuple[list[Group], list[Group]]:
        """(applied groups oldest first, undone groups in redo order), for the GUI's stack."""
        col = self.store.collection
        return self.journal.groups(col, [APPLIED]), self.journal.groups(col, [UNDONE])

    # -- internals ---------------------------------------------------------------
    @staticmethod
    def _count(n: int) -> str:
        return f"{n} memor{'y' if n == 1 else 'ies'}"

    @staticmethod
    def _edit_label(fields: dict) -> str:
        return "Edit " + ", ".join(sorted(fields)) if fields else "Edit"

    def _require(self, memory_id: str) -> MemoryRecord:
        record = self._index.get(memory_id)
        if record is None:
            raise KeyError(f"No memory with id {memory_id!r} in '{self.store.collection}'.")
        return record

    def _current(self, ids: Iterable[str]) -> dict[str, State]:
        """The present state of each memory, vector included (from the store or the trash)."""
        ids = list(dict.fromkeys(ids))
        for mid in ids:
            self._require(mid)
        found: dict[str, State] = {}
        for start in range(0, len(ids), _BATCH):
            for s in self.store.get(ids[start : start + _BATCH], with_embeddings=True):
                found[s.record.id] = State(s.record, s.embedding)
        missing = [i for i in ids if i not in found]
        if missing:
            trashed = {s.record.id: s for s in self.journal.trash(self.store.collection) if s.record}
            for mid in missing:
                if mid not in trashed:
                    raise StoreError(f"Memory {mid!r} is no longer in the store; reload the collection.")
                found[mid] = trashed[mid]
        return {i: found[i] for i in ids}

    def _encode(self, texts: list[str], progress: Progress | None = None) -> list[np.ndarray]:
        out: list[np.ndarray | None] = [None] * len(texts)
        for chunk in self._encoded(texts, progress):
            for i, vector in chunk:
                out[i] = vector
        return out  # type: ignore[return-value]  (every slot is filled)

    def _encoded(self, texts: list[str], progress: Progress | None = None) -> Iterator[Embedded]:
        """The vectors of `texts` in chunks of (position, vector); while the caller uses
        one chunk the next is being embedded."""
        # Shortest first, as the model does within one call: a chunk of similar lengths
        # pads little. Chunks of arrival order padded every text to its chunk's longest,
        # and an import embedded 20% slower than one call with every text.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        chunks = [order[start : start + _ENCODE_CHUNK] for start in range(0, len(order), _ENCODE_CHUNK)]

        def encode(chunk: list[int]) -> Embedded:
            return list(zip(chunk, self.embedder.encode([texts[i] for i in chunk]), strict=True))

        if len(chunks) == 1:
            yield encode(chunks[0])
            return
        done = 0
        # Leaving early (a failed write) waits for the chunk being embedded, then stops.
        with ThreadPoolExecutor(1, thread_name_prefix="memlens-embed") as pool:
            ahead = pool.submit(encode, chunks[0]) if chunks else None
            for k in range(len(chunks)):
                chunk = ahead.result()
                ahead = pool.submit(encode, chunks[k + 1]) if k + 1 < len(chunks) else None
                done += len(chunk)
                if progress:
                    progress(done, len(texts))
                yield chunk

    def _commit(
        self,
        label: str,
        ops: list[Operation],
        actor: str,
        reason: str | None,
        embedded: Iterable[Embedded] = (),
    ) -> Change:
        """Journal `ops`, then apply them. With `embedded` (a large add still being
        embedded), their after-embeddings arrive in chunks and each chunk is stored as it
        comes; a failure at any point, the model's included, rolls back what was written."""
        if not ops:
            return Change(label, (), "apply")
        # A large write (an import) into a large index: no collector pauses over it.
        large = len(ops) >= _BATCH and len(self._index) >= FREEZE_FROM
        with self._write_lock, no_gc_pauses(freeze=large) if large else nullcontext():
            gid = self.journal.begin(self.store.collection, label, ops, actor, reason)
            try:
                streamed = False
                for chunk in embedded:
                    for n, vector in chunk:
                        ops[n] = replace(ops[n], after=State(ops[n].after.record, vector))
                    self.journal.fill_embeddings(gid, chunk)
                    in_order = sorted(n for n, _ in chunk)
                    self._upsert(
                        self._split([(ops[n].memory_id, ops[n].after) for n in in_order])[0], len(ops)
                    )
                    streamed = True
                afters = [(o.memory_id, o.after) for o in ops]
                self._apply(afters, [(o.before, o.after) for o in ops], upserted=streamed)
            except Exception as exc:
                self._roll_back(gid, ops, label, exc)
            self.journal.set_state(gid, APPLIED)
        change = Change(label, tuple(o.memory_id for o in ops), "apply", gid)
        self._notify(change)
        return change

    def _roll_back(self, gid: str, ops: list[Operation], label: str, exc: Exception) -> NoReturn:
        """A write failed part way (an import's later batch refused by the store): put back
        what earlier batches wrote now, rather than leave it until the next open."""
        try:
            self._apply([(o.memory_id, o.before) for o in reversed(ops)])
        except Exception as again:
            raise WriteFailed(
                f"{label} failed ({exc}) and could not be undone at once ({again}); part of it may "
                "be in the store. It is rolled back the next time this collection is opened."
            ) from exc
        self.journal.set_state(gid, ROLLED_BACK)
        cause = str(exc)
        raise WriteFailed(
            f"{label} failed and was rolled back; nothing was changed. {cause[:1].upper()}{cause[1:]}"
        ) from exc

    def _split(self, states: Sequence[tuple[str, State]]) -> tuple[list[State], list[str], list[State]]:
        """What `states` ask of the store: memories to upsert, ids to delete, and the
        deleted ones that go to MemLens' trash."""
        upserts: list[State] = []
        deletes: list[str] = []
        trashed: list[State] = []
        for memory_id, s in states:
            if s.record is None:
                deletes.append(memory_id)
            elif s.record.status in HIDDEN_STATUSES and not self.store.soft_delete_in_place:
                # Foreign owners would still return it (deleted, or archived by a merge):
                # it leaves the store for MemLens' trash.
                deletes.append(memory_id)
                trashed.append(s)
            else:
                upserts.append(s)
        return upserts, deletes, trashed

    def _upsert(self, upserts: Sequence[State], total: int | None = None, fields_only: bool = False) -> None:
        """Write in batches; `total`: these are one chunk of that many, in the model's order.
        `fields_only`: their stored vectors stand, only the other fields are written."""
        for span in self._pacer.spans(len(upserts)):
            batch = upserts[span]
            try:
                if fields_only:
                    self.store.update_metadata([s.record for s in batch])
                else:
                    self.store.upsert([StoredMemory(s.record, s.embedding) for s in batch])
            except Exception as exc:
                if total is None:  # in the order given: say where
                    where = f"{span.start + 1}-{span.stop} of {len(upserts)}"
                    which = f"memories {where} (from {batch[0].record.id!r})"
                else:
                    named = ", ".join(repr(s.record.id) for s in batch[:3]) + (
                        ", …" if len(batch) > 3 else ""
                    )
                    which = f"a batch of {len(batch)} of the {total} memories ({named})"
                raise StoreError(f"the store refused {which}: {exc}") from exc

    def _apply(
        self,
        states: Sequence[tuple[str, State]],
        transitions: Sequence[tuple[State, State]] = (),
        upserted: bool = False,
    ) -> None:
        """Make the store hold exactly `states` (one per memory), then mirror them in the
        index; `upserted`: the memories to keep are in the store already."""
        collection = self.store.collection
        upserts, deletes, trashed = self._split(states)
        if not upserted:
            rewrite, refields = self._by_vector_change(upserts)
            self._upsert(rewrite)
            self._upsert(refields, fields_only=True)
        self.store.delete(deletes)
        if not self.store.soft_delete_in_place:
            self.journal.trash_remove(collection, deletes + [s.record.id for s in upserts])
            self.journal.trash_put(collection, trashed)
        self._log_to_mem0(transitions)
        self._remember_fresh(upserts, deletes)
        moved = False
        for memory_id, s in states:
            old = self._index.get(memory_id)
            if old is None or s.record is None or _sort_key(old) != _sort_key(s.record):
                moved = True
            if s.record is None:
                self._index.pop(memory_id, None)
            else:
                self._index[memory_id] = s.record
        self._reorder(moved)

    def _by_vector_change(self, upserts: Sequence[State]) -> tuple[list[State], list[State]]:
        """Memories whose vector must be written (new, reworded, back from a foreign store's
        trash), and those in the store with their text unchanged (a status, tags, owner):
        their vector stands. Re-inserting it into the index made a status change cost twice
        a field update (10 memories at 100,000: 65 ms against 33, the window frozen as long)."""
        in_place = self.store.soft_delete_in_place
        rewrite: list[State] = []
        refields: list[State] = []
        for s in upserts:
            old = self._index.get(s.record.id)
            stored = old is not None and (in_place or old.status not in HIDDEN_STATUSES)
            (refields if stored and old.text == s.record.text else rewrite).append(s)
        return rewrite, refields

    def _remember_fresh(self, upserts: Sequence[State], deletes: Sequence[str]) -> None:
        for memory_id in deletes:
            self._fresh.pop(memory_id, None)
        for s in upserts:
            if s.embedding is not None:
                self._fresh.pop(s.record.id, None)  # re-inserted: the newest stay
                self._fresh[s.record.id] = np.asarray(s.embedding, dtype=np.float32)
        for memory_id in list(self._fresh)[: max(0, len(self._fresh) - _FRESH_LIMIT)]:
            del self._fresh[memory_id]
        self._fresh_version += 1

    def _log_to_mem0(self, transitions: Sequence[tuple[State, State]]) -> None:
        if self.mem0_history is None:
            return
        for before, after in transitions:
            old, new = before.record, after.record
            alive_before = old is not None and old.status not in HIDDEN_STATUSES
            alive_after = new is not None and new.status not in HIDDEN_STATUSES
            ref = new or old
            created = ref.created_at.isoformat() if ref and ref.created_at else None
            if alive_before and alive_after and old.text != new.text:
                self.mem0_history.append(ref.id, "UPDATE", old.text, new.text, created, new.updated_at)
            elif alive_before and not alive_after:
                self.mem0_history.append(ref.id, "DELETE", old.text, None, created)
            elif alive_after and not alive_before:
                self.mem0_history.append(ref.id, "ADD", None, new.text, created, new.updated_at)
