"""The retrieval debugger: why a memory was not returned, and what a retrieval returns now.

The vector index is approximate (HNSW), so "it was not returned" has several causes
that look the same from outside. Here the trace's query vector is compared with every
memory in the collection by brute force, in the collection's own distance, giving the
memory's exact rank; the checks then go from the plainest cause to the subtlest:
missing, status, filter, threshold, and only then rank: beyond k, an index miss, or a
re-ranking (a MemLens blend, scored again here; or an imported retriever that mixes
BM25 or boosts into its score). A trace without its query vector came from a retriever
other than MemLens' own (an agent's store, an imported span): MemLens' index is asked
before it is blamed.
Everything is measured against the store as it is now; `changed_since` says when the
memory changed after the trace, so a person knows the trace saw a different memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from memlens.core.query import Filter
from memlens.core.ranking import Blend, blend_of, describe
from memlens.core.record import HIDDEN_STATUSES, MemoryRecord, Status
from memlens.core.service import MemoryService
from memlens.core.store import StoreError
from memlens.core.traces import Trace, TraceHit, TraceStore

RETURNED, MISSING, STATUS, FILTER, THRESHOLD = "returned", "missing", "status", "filter", "threshold"
CHANGED_SINCE, BEYOND_K, INDEX_MISS, RERANKED = "changed_since", "beyond_k", "index_miss", "reranked"
OTHER_RETRIEVER = "other_retriever"
CAUSES = (
    RETURNED,
    MISSING,
    STATUS,
    FILTER,
    THRESHOLD,
    CHANGED_SINCE,
    BEYOND_K,
    INDEX_MISS,
    RERANKED,
    OTHER_RETRIEVER,
)

_BATCH = 1000


@dataclass(frozen=True)
class WhyNot:
    """The answer for one memory. `rank` is its exact rank among the memories the trace's
    filter lets through (counted as if it were let through too); `rank_overall` among all
    memories in the store. `field` names the filter field that excluded it."""

    memory_id: str
    cause: str
    message: str
    rank: int | None = None
    rank_overall: int | None = None
    distance: float | None = None
    score: float | None = None
    k: int = 0
    trace_rank: int | None = None
    field: str | None = None
    changed_since: bool = False
    reembedded: bool = False


@dataclass(frozen=True)
class Replay:
    """A trace re-run against the store as it is now. `moved` holds (id, old rank, new rank)."""

    trace: Trace
    hits: tuple[TraceHit, ...]
    entered: tuple[str, ...]
    left: tuple[str, ...]
    moved: tuple[tuple[str, int, int], ...]
    unchanged: tuple[str, ...]
    reembedded: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.entered or self.left or self.moved)

    @property
    def caveat(self) -> str | None:
        """What a reader must know before blaming the store for the differences."""
        if not self.reembedded:
            return None
        return (
            "the trace has no query vector: its query was re-embedded with the current model, and "
            "the hits it lists came from its own retriever, so differences need not be changes to the store"
        )


# -- distances ---------------------------------------------------------------------
def distances(vectors: np.ndarray, query: np.ndarray, space: str) -> np.ndarray:
    """Distance of each row to `query` as Chroma measures it in `space`
    (cosine: 1 - cos; l2: squared Euclidean; ip: 1 - dot)."""
    v = np.asarray(vectors, dtype=np.float64)
    q = np.asarray(query, dtype=np.float64)
    if space == "cosine":
        norms = np.linalg.norm(v, axis=1) * np.linalg.norm(q)
        with np.errstate(divide="ignore", invalid="ignore"):
            return 1.0 - (v @ q) / norms
    if space == "ip":
        return 1.0 - v @ q
    if space == "l2":
        diff = v - q
        return np.einsum("ij,ij->i", diff, diff)
    raise StoreError(f"Unknown distance space {space!r}.")


def query_vector(service: MemoryService, trace: Trace) -> tuple[np.ndarray, bool]:
    """The trace's own vector, or its query re-embedded by the current model (second item
    True) when the trace carried none, as imported traces often do."""
    if trace.collection is not None and trace.collection != service.store.collection:
        raise StoreError(
            f"Trace {trace.id[:8]} was recorded on collection '{trace.collection}', "
            f"not '{service.store.collection}'; open that collection to analyse it."
        )
    want = service.store.dimension
    if trace.embedding is not None:
        if want is not None and len(trace.embedding) != want:
            raise StoreError(
                f"Trace {trace.id[:8]} holds a {len(trace.embedding)}-dimensional query vector "
                f"(model {trace.model!r}), but '{service.store.collection}' holds {want}-dimensional "
                "embeddings; it was recorded against another model."
            )
        return np.asarray(trace.embedding, dtype=np.float32), False
    return service.embedder.encode([trace.query])[0], True


def _stored_ids(service: MemoryService) -> list[str]:
    """Every memory the store holds (the trash of foreign stores lives in the journal)."""
    in_place = service.store.soft_delete_in_place
    every = service.select(Filter(statuses=frozenset(Status)))
    return [i for i in every if in_place or service.get(i).status != Status.DELETED]


def exact_distances(service: MemoryService, vector: np.ndarray) -> dict[str, float]:
    """Brute-force distance from `vector` to every stored memory, fetched in batches."""
    space = getattr(service.store, "distance", "l2")
    ids = _stored_ids(service)
    out: dict[str, float] = {}
    for start in range(0, len(ids), _BATCH):
        chunk = ids[start : start + _BATCH]
        rows = service.store.embeddings(chunk)
        present = np.any(rows != 0, axis=1)  # the store gives zeros for ids it lacks
        dist = distances(rows, vector, space)
        out.update((i, float(d)) for i, d, ok in zip(chunk, dist, present, strict=True) if ok)
    return out


# -- why not -----------------------------------------------------------------------
def _fmt(values: frozenset) -> str:
    return "{" + ", ".join(repr(str(v)) for v in sorted(values)) + "}"


def filter_exclusion(flt: Filter, r: MemoryRecord) -> tuple[str, str] | None:
    """(field, sentence) for the first filter field that excludes `r`, None if it passes.
    Status is left to the caller: it has its own cause."""
    for name, attr, wanted in (
        ("user_id", "user_id", flt.users),
        ("agent_id", "agent_id", flt.agents),
        ("session_id", "session_id", flt.sessions),
        ("kind", "kind", flt.kinds),
    ):
        value = getattr(r, attr)
        if wanted and value not in wanted:
            return name, f"its {name} is {value!r} but the filter wants {_fmt(wanted)}"
    if flt.tags and not flt.tags.intersection(r.tags):
        return "tags", f"its tags are {list(r.tags)} but the filter wants one of {_fmt(flt.tags)}"
    created = _when(r.created_at)
    if flt.since and (r.created_at is None or r.created_at < flt.since):
        return "created_at", f"it was created at {created}, before the filter's {_when(flt.since)}"
    if flt.until and (r.created_at is None or r.created_at > flt.until):
        return "created_at", f"it was created at {created}, after the filter's {_when(flt.until)}"
    lacking = [w for w in flt.words() if w not in r.text.casefold()]
    if lacking:
        return "text", f"its text lacks the keyword {lacking[0]!r} the filter requires"
    return None


def _when(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value else "an unknown time"


def _status_exclusion(flt: Filter, r: MemoryRecord) -> str | None:
    if flt.statuses is None and r.status in HIDDEN_STATUSES:
        return f"it is {r.status.value}, and {r.status.value} memories are hidden from search by default"
    if flt.statuses is not None and r.status not in flt.statuses:
        wanted = _fmt(frozenset(s.value for s in flt.statuses))
        return f"its status is {r.status.value!r} but the filter wants {wanted}"
    return None


def _changed_since(trace: Trace, r: MemoryRecord) -> bool:
    hit = trace.hit(r.id)
    if hit is not None and hit.text is not None and hit.text != r.text:
        return True
    touched = r.updated_at or r.created_at
    return touched is not None and touched > trace.time


@dataclass(frozen=True)
class _Pass:
    """One brute-force pass over the collection for a trace, shared by its questions."""

    vector: np.ndarray
    space: str
    dist: dict[str, float]
    flt: Filter
    allowed: np.ndarray  # sorted distances of what the filter lets through
    every: np.ndarray  # sorted distances of every stored memory
    reembedded: bool


def explain(service: MemoryService, trace: Trace, memory_ids: Sequence[str]) -> dict[str, WhyNot]:
    """Why-not for several memories of one trace, sharing one brute-force pass."""
    vector, reembedded = query_vector(service, trace)
    dist = exact_distances(service, vector)
    flt = trace.filter if trace.filter is not None else Filter()
    allowed = [d for i, d in dist.items() if flt.matches(service.get(i))]
    run = _Pass(
        vector,
        getattr(service.store, "distance", "l2"),
        dist,
        flt,
        np.sort(np.asarray(allowed, dtype=np.float64)),
        np.sort(np.asarray(list(dist.values()), dtype=np.float64)),
        reembedded,
    )
    return {mid: _why(service, trace, mid, run) for mid in memory_ids}


def why_not(service: MemoryService, trace: Trace, memory_id: str) -> WhyNot:
    """Why `memory_id` was (or was not) among the trace's hits."""
    return explain(service, trace, [memory_id])[memory_id]


def _distance_of(service: MemoryService, mid: str, run: _Pass) -> float | None:
    if mid in run.dist:
        return run.dist[mid]
    # A foreign store's deleted memory waits in the journal's trash, vector included.
    for state in service.journal.trash(service.store.collection):
        if state.record is not None and state.record.id == mid and state.embedding is not None:
            return float(distances(state.embedding[None, :], run.vector, run.space)[0])
    return None


def _rank(sorted_distances: np.ndarray, d: float | None) -> int | None:
    """1 + how many are strictly closer: ties share the better rank."""
    return None if d is None else int(np.searchsorted(sorted_distances, d, side="left")) + 1


def _why(service: MemoryService, trace: Trace, mid: str, run: _Pass) -> WhyNot:
    record = service.get(mid)
    hit = trace.hit(mid)
    k = trace.k
    if record is None or (mid not in run.dist and record.status != Status.DELETED):
        if hit is not None:
            text = f"It was returned at rank {hit.rank}; it has since left the store."
            return WhyNot(mid, RETURNED, text, k=k, trace_rank=hit.rank, changed_since=True)
        text = f"There is no memory {mid!r} in '{service.store.collection}' (purged, or never added)."
        return WhyNot(mid, MISSING, text, k=k)

    d = _distance_of(service, mid, run)
    rank = _rank(run.allowed, d)
    changed = _changed_since(trace, record)
    base = {
        "rank": rank,
        "rank_overall": _rank(run.every, d),
        "distance": d,
        "score": service._score(d) if d is not None else None,
        "k": k,
        "trace_rank": hit.rank if hit else None,
        "changed_since": changed,
        "reembedded": run.reembedded,
    }
    where = f" (exact rank {rank}, distance {d:.4f})" if d is not None else ""
    note = " It has changed since this trace." if changed else ""

    if hit is not None:
        if changed and rank is not None and d is not None:
            place = "within" if rank <= k else "outside"
            note += f" Now it ranks #{rank} (distance {d:.4f}), {place} the top {k}."
        return WhyNot(mid, RETURNED, f"It was returned at rank {hit.rank}.{note}", **base)
    reason = _status_exclusion(run.flt, record)
    if reason:
        return WhyNot(mid, STATUS, f"Kept out by its status: {reason}{where}.{note}", field="status", **base)
    if trace.filter is not None and (excl := filter_exclusion(trace.filter, record)):
        return WhyNot(mid, FILTER, f"Kept out by the filter: {excl[1]}{where}.{note}", field=excl[0], **base)
    score = base["score"]
    if trace.threshold is not None and score is not None and score < trace.threshold:
        text = f"Its score {score:.3f} is under the trace's threshold {trace.threshold:.3f}{where}.{note}"
        return WhyNot(mid, THRESHOLD, text, **base)
    if rank is None or d is None:
        text = f"Its vector is not in the store, so no search can return it.{note}"
        return WhyNot(mid, MISSING, text, **base)
    blend = blend_of(trace.source)
    if blend is not None and (not changed or rank > k * blend.pool):
        return _why_blended(service, trace, record, blend, rank, d, base)
    if rank > k and blend is None:
        text = f"It ranks #{rank} for this query (distance {d:.4f}); only the top {k} were returned.{note}"
        return WhyNot(mid, BEYOND_K, text, **base)
    if changed:
        touched = _when(record.updated_at or record.created_at)
        within = f"among the {k * blend.pool} the blend re-ranks" if blend else f"within the top {k}"
        text = (
            f"It ranks #{rank} now, {within}, but it was added or changed at {touched}, "
            f"after this trace ({_when(trace.time)}): the retrieval saw a different memory."
        )
        return WhyNot(mid, CHANGED_SINCE, text, **base)
    known = [h.distance for h in trace.hits if h.distance is not None]
    if len(trace.hits) >= k and len(known) == len(trace.hits) and d >= max(known):
        text = (
            f"It ranks #{rank} in the collection as it is now, but when the trace ran {k} memories "
            f"closer than it (distance {d:.4f}) were returned; the collection has changed since."
        )
        return WhyNot(mid, BEYOND_K, text, **base)
    mixed = sorted({c for h in trace.hits for c, v in h.components.items() if v and c != "similarity"})
    if mixed:
        # The retriever ranked by more than similarity (imported traces, e.g. Mem0's hybrid
        # search with BM25 on): similarity alone cannot tell an index miss from a re-ranking.
        text = (
            f"It ranks #{rank} by similarity alone (distance {d:.4f}), inside the top {k}, but the "
            f"retriever's final score also weighs {', '.join(mixed)}, which put others above it."
        )
        return WhyNot(mid, RERANKED, text, **base)
    exact = f"It ranks #{rank} by exact search (distance {d:.4f}), inside the top {k}"
    if not run.reembedded:
        text = f"{exact}, but the approximate (HNSW) index did not return it: an index miss."
        return WhyNot(mid, INDEX_MISS, text, **base)
    # No vector recorded: MemLens did not run this retrieval, so ask its index now.
    by_index = [h.record.id for h in service.search_vector(run.vector, k, run.flt)]
    reembedded = " (the query re-embedded with the current model; the trace has no vector)"
    if mid in by_index:
        text = (
            f"{exact}{reembedded}, and MemLens' index returns it at #{by_index.index(mid) + 1}; the "
            f"retriever that made this trace ({trace.origin}) did not: it searched with another model, "
            "index or ranking, or another copy of the memories."
        )
        return WhyNot(mid, OTHER_RETRIEVER, text, **base)
    text = f"{exact}{reembedded}, but the approximate (HNSW) index does not return it: an index miss."
    return WhyNot(mid, INDEX_MISS, text, **base)


def _why_blended(
    service: MemoryService, trace: Trace, record: MemoryRecord, blend: Blend, rank: int, d: float, base: dict
) -> WhyNot:
    """A MemLens blended search: outside the candidate pool, out-scored within it, or
    in the pool by exact search yet not among the candidates the index gave."""
    mid, k, pool = record.id, trace.k, trace.k * blend.pool
    if rank > pool:
        text = (
            f"It ranks #{rank} by similarity (distance {d:.4f}); the blend re-ranks only the nearest "
            f"{pool}, so its {' and '.join(blend.extra_signals)} were never weighed."
        )
        return WhyNot(mid, BEYOND_K, text, **base)
    parts = blend.parts(trace.query, record, service._score(d), trace.time)
    mine = sum(parts.values())
    scored = [h for h in trace.hits if h.score is not None]
    full = len(trace.hits) >= k and scored
    last = min(scored, key=lambda h: float(h.score or 0.0)) if full else None
    if last is None or mine > float(last.score or 0.0):  # a tie lost to the index's order
        text = (
            f"It ranks #{rank} by exact search (distance {d:.4f}), among the nearest {pool}, and its blended "
            f"score {mine:.3f} ({describe(parts)}) would have placed it in the top {k}, but the approximate "
            "(HNSW) index did not return it among the candidates: an index miss."
        )
        return WhyNot(mid, INDEX_MISS, text, **base)
    text = (
        f"It ranks #{rank} by similarity (distance {d:.4f}), among the {pool} the blend re-ranks, but its "
        f"blended score {mine:.3f} ({describe(parts)}) is below the last one returned, #{last.rank} at "
        f"{last.score:.3f} ({describe(last.components)})."
    )
    return WhyNot(mid, RERANKED, text, **base)


# -- replay --------------------------------------------------------------------------
def replay(service: MemoryService, trace: Trace) -> Replay:
    """Re-run the trace's vector, k and filter through the service as it is now."""
    vector, reembedded = query_vector(service, trace)
    flt = trace.filter if trace.filter is not None else Filter()
    blend = blend_of(trace.source)
    # A blend's recency is scored at the trace's time: what moved is the store, not the clock.
    now = service.search_vector(vector, trace.k, flt, text=trace.query, blend=blend, now=trace.time)
    hits = tuple(TraceHit(h.record.id, h.rank, h.distance, h.score, h.record.text, h.components) for h in now)
    old = {h.memory_id: h.rank for h in trace.hits}
    new = {h.memory_id: h.rank for h in hits}
    return Replay(
        trace=trace,
        hits=hits,
        entered=tuple(i for i in new if i not in old),
        left=tuple(i for i in old if i not in new),
        moved=tuple((i, old[i], new[i]) for i in new if i in old and old[i] != new[i]),
        unchanged=tuple(i for i in new if old.get(i) == new[i]),
        reembedded=reembedded,
    )


def replay_session(service: MemoryService, traces: TraceStore, session_id: str) -> list[Replay]:
    """Replay every trace of a session in this collection, oldest first."""
    found = traces.find(
        collection=service.store.collection, session_id=session_id, limit=1_000_000, oldest_first=True
    )
    return [replay(service, t) for t in found]
