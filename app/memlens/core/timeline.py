"""The timeline: when memories were written, changed and used, and the store as it was.

`timeline_events` turns the collection and its journal into numpy arrays a view draws
as they are: one creation mark per memory, one mark per journal change of a memory.
`as_of` rebuilds the collection at an earlier time by walking the journal backwards.

The journal's `change_marks` and `befores_after` extract JSON fields in SQLite: an import
of 100,000 memories is one journal group, and `Journal.operations` would parse every
record and vector only to find no change marks.
"""

from __future__ import annotations

import json
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from memlens.core.query import Filter
from memlens.core.record import MemoryRecord, Status, utc_now
from memlens.core.service import MemoryService

EVENT_KINDS = ("edit", "merge", "delete", "restore", "status")
LANE_BY = ("agent", "user", "session", "kind")
NONE_LANE = "(none)"
OTHER_LANE = "(other)"

_LANE_VALUE = {
    "agent": lambda r: r.agent_id,
    "user": lambda r: r.user_id,
    "session": lambda r: r.session_id,
    "kind": lambda r: r.kind,
}
_GONE = (Status.DELETED.value, Status.ARCHIVED.value)


def _epoch(value: datetime | None) -> float:
    return value.timestamp() if value is not None else np.nan


@dataclass(frozen=True)
class TimelineData:
    """Everything the timeline draws, aligned arrays, ready for numpy and pyqtgraph.

    Memory `i` is `records[i]`, created at `created[i]` (epoch seconds, NaN if unknown).
    Event `j` happened to memory `event_ids[j]` (`event_index[j]` in records, -1 when the
    memory is gone for good) at `event_time[j]`, of kind `event_kind[j]` (EVENT_KINDS).
    """

    records: list[MemoryRecord]
    created: np.ndarray
    event_index: np.ndarray
    event_ids: list[str]
    event_time: np.ndarray
    event_kind: np.ndarray
    event_label: list[str]

    def events_of(self, memory_id: str) -> list[tuple[float, str]]:
        """(time, kind) of each mark on one memory, oldest first."""
        return [
            (float(t), str(k))
            for i, t, k in zip(self.event_ids, self.event_time, self.event_kind, strict=True)
            if i == memory_id
        ]

    def time_span(self) -> tuple[float, float] | None:
        """First and last time any mark is drawn at, or None for an empty timeline."""
        times = np.concatenate([self.created, self.event_time])
        times = times[np.isfinite(times)]
        return (float(times.min()), float(times.max())) if len(times) else None


def event_kind(
    before_status: str | None,
    after_status: str | None,
    text_changed: bool,
    changed: bool,
    after_source: str | None,
) -> str | None:
    """What one journal operation did to a memory, as a mark kind, or None for no mark.

    A `before_status` of None is an add: only a merge's new memory gets a change mark
    (any other memory is marked where it was created).
    """
    if before_status is None:
        return "merge" if after_source == "merge" else None
    if after_status is None:  # purged: gone for good
        return "delete"
    if before_status != after_status:
        if after_status == Status.DELETED.value:
            return "delete"
        if before_status in _GONE and after_status == Status.ACTIVE.value:
            return "restore"
    if text_changed:
        return "edit"
    if before_status != after_status:
        return "status"
    return "edit" if changed else None  # tags, kind, valid_to…; a review skip changes nothing


def timeline_events(service: MemoryService) -> TimelineData:
    """Creation marks for every memory (archived and deleted too), change marks from the
    journal's applied groups. Imported memories are marked where they were created."""
    records = service.records(service.select_all())
    index = {r.id: i for i, r in enumerate(records)}
    created = np.array([_epoch(r.created_at) for r in records], dtype=np.float64)
    rows = service.journal.change_marks(service.store.collection)
    # A merge archives its sources in the same group: those marks say "merge" too.
    merged_from: dict[str, set[str]] = {}
    for gid, _ts, _label, _mid, b_status, _a, _text, _changed, a_source, sources in rows:
        if b_status is None and a_source == "merge":
            merged_from.setdefault(gid, set()).update(json.loads(sources or "[]"))
    ids, times, kinds, labels = [], [], [], []
    for gid, ts, label, mid, b_status, a_status, text_changed, changed, a_source, _ in rows:
        if mid in merged_from.get(gid, ()):
            kind = "merge"
        else:
            kind = event_kind(b_status, a_status, bool(text_changed), bool(changed), a_source)
        if kind is not None:
            ids.append(mid)
            times.append(ts)
            kinds.append(kind)
            labels.append(label)
    return TimelineData(
        records=records,
        created=created,
        event_index=np.array([index.get(i, -1) for i in ids], dtype=np.int64),
        event_ids=ids,
        event_time=np.array(times, dtype=np.float64),
        event_kind=np.array(kinds, dtype="<U7"),
        event_label=labels,
    )


def lane_keys(
    records: Sequence[MemoryRecord], by: str, limit: int | None = None
) -> tuple[np.ndarray, list[str]]:
    """Lane index per record and the lane labels, biggest lane first.

    Missing values share the lane "(none)". With `limit`, lanes past `limit - 1` are
    folded into one "(other)" lane so that hundreds of sessions stay readable.
    """
    if by not in _LANE_VALUE:
        raise ValueError(f"lanes by {by!r}: choose one of {', '.join(LANE_BY)}")
    value = _LANE_VALUE[by]
    keys = [value(r) or NONE_LANE for r in records]
    counts = Counter(keys)
    ranked = sorted(counts, key=lambda k: (-counts[k], k))
    if limit is not None and len(ranked) > limit:
        ranked = [*ranked[: limit - 1], OTHER_LANE]
    lane_of = {k: n for n, k in enumerate(ranked)}
    other = lane_of.get(OTHER_LANE, -1)
    lanes = np.fromiter((lane_of.get(k, other) for k in keys), dtype=np.int64, count=len(keys))
    return lanes, ranked


def jitter(ids: Iterable[str], spread: float = 0.7) -> np.ndarray:
    """A stable vertical offset per memory inside its lane, so dense lanes show their marks
    and a memory keeps its place when the collection changes."""
    raw = np.fromiter((zlib.crc32(i.encode("utf-8")) for i in ids), dtype=np.float64)
    return (raw / 0xFFFFFFFF - 0.5) * spread


def as_of(service: MemoryService, when: datetime) -> dict[str, MemoryRecord]:
    """The collection as it was at `when`, archived and deleted memories included.

    Changes applied after `when` are undone in memory (newest first), so an edited memory
    has its old text and a memory deleted later is back with its earlier status. Whether
    a memory existed is decided by its created_at, since imports of old data are journaled
    when imported; a memory a merge made after `when` did not exist yet.
    """
    snapshot = {r.id: r for r in service.records(service.select_all())}
    rows = service.journal.befores_after(service.store.collection, when.timestamp())
    merged_later: set[str] = set()
    for mid, before, after_source in rows:
        if before is None:
            if after_source == "merge":
                merged_later.add(mid)
            continue
        snapshot[mid] = MemoryRecord.from_dict(json.loads(before))
        merged_later.discard(mid)  # it existed before that merge (a re-add over it)
    return {
        i: r
        for i, r in snapshot.items()
        if i not in merged_later and (r.created_at is None or r.created_at <= when)
    }


def select_in(snapshot: dict[str, MemoryRecord], flt: Filter = Filter()) -> list[str]:
    """Ids in a snapshot matching `flt`, newest first (the table's order), for 'as of'."""
    words = flt.words()
    chosen = [r for r in snapshot.values() if flt.matches(r, words)]
    chosen.sort(key=lambda r: (r.created_at is not None, r.created_at or utc_now(), r.id), reverse=True)
    return [r.id for r in chosen]


def superseded_ids(records: Iterable[MemoryRecord], now: datetime | None = None) -> set[str]:
    now = now or utc_now()
    return {r.id for r in records if r.valid_to is not None and r.valid_to <= now}


def conflict_ids(conflict_pairs: Iterable) -> set[str]:
    """Ids in open conflicts: pairs as (a, b) tuples or `Conflict` objects."""
    out: set[str] = set()
    for pair in conflict_pairs:
        a, b = (pair.a, pair.b) if hasattr(pair, "a") else pair
        out.update((a, b))
    return out


def stale_ids(
    records: Iterable[MemoryRecord], conflict_pairs: Iterable = (), now: datetime | None = None
) -> set[str]:
    """Memories a reader should not trust as they stand: superseded ones (valid_to passed)
    and those in an open conflict (pairs from `memlens.core.conflicts.find_conflicts`)."""
    return superseded_ids(records, now) | conflict_ids(conflict_pairs)


def density(
    times: np.ndarray, bins: int = 200, span: tuple[float, float] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(bin edges, counts) of `times` over `span` (default: their own range); NaNs ignored."""
    times = np.asarray(times, dtype=np.float64)
    times = times[np.isfinite(times)]
    if span is None:
        span = (float(times.min()), float(times.max())) if len(times) else (0.0, 1.0)
    lo, hi = span
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    counts, edges = np.histogram(times, bins=bins, range=(lo, hi))
    return edges, counts
