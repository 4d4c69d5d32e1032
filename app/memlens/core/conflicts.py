"""Memories that talk about the same thing but disagree.

A candidate pair is similar in meaning (same owner, or no owner on one side) and
differs in something a fact hinges on: a number or date, a negation, a name. Two
episodic memories are not compared: two events can differ without either being wrong
("ran 5 km on Tuesday", "ran 8 km on Friday"). A language model, when configured, can
judge the candidates; without one the signals decide.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from memlens.core.entities import extract_entities
from memlens.core.graph import semantic_pairs
from memlens.core.query import Filter
from memlens.core.record import MemoryRecord, utc_now
from memlens.core.service import Change, MemoryService

FLOOR = 0.6
_NUM = re.compile(r"\d+(?:[.,:]\d+)*")
_NEG = re.compile(
    r"\b(?:not|no|never|none|nobody|nothing|cannot|no longer|stopped|quit)\b|n't\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Conflict:
    a: str
    b: str
    similarity: float
    reasons: tuple[str, ...]


def disagreement(x: MemoryRecord, y: MemoryRecord) -> list[str]:
    reasons = []
    nx_, ny = set(_NUM.findall(x.text)), set(_NUM.findall(y.text))
    if nx_ and ny and nx_ != ny:
        reasons.append(f"numbers differ: {', '.join(sorted(nx_))} vs {', '.join(sorted(ny))}")
    if bool(_NEG.search(x.text)) != bool(_NEG.search(y.text)):
        reasons.append("one says not")
    ex, ey = extract_entities(x.text), extract_entities(y.text)
    only_x, only_y = ex - ey, ey - ex
    if ex & ey and only_x and only_y:
        reasons.append(f"names differ: {', '.join(sorted(only_x))} vs {', '.join(sorted(only_y))}")
    return reasons


def find_conflicts(
    service: MemoryService,
    ids: Sequence[str] | None = None,
    floor: float = FLOOR,
    k: int = 8,
    dismissed: set[frozenset[str]] = frozenset(),
    judge: Callable[[MemoryRecord, MemoryRecord], tuple[bool, str]] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Conflict]:
    ids = list(ids) if ids is not None else service.select(Filter())
    out = []
    for i, j, sim in semantic_pairs(service.store, ids, k, floor, progress):
        x, y = service.get(ids[i]), service.get(ids[j])
        if x is None or y is None or frozenset((x.id, y.id)) in dismissed:
            continue
        if x.kind == "episodic" and y.kind == "episodic":
            continue
        if x.user_id and y.user_id and x.user_id != y.user_id:
            continue
        if x.valid_to or y.valid_to:  # already resolved by superseding one
            continue
        reasons = disagreement(x, y)
        if not reasons:
            continue
        if judge is not None:
            contradicts, why = judge(x, y)
            if not contradicts:
                continue
            reasons.append(f"model: {why}")
        older, newer = sorted((x, y), key=lambda r: (r.created_at is None, r.created_at or 0))
        out.append(Conflict(older.id, newer.id, round(sim, 4), tuple(reasons)))
    return sorted(out, key=lambda c: -c.similarity)


def supersede(
    service: MemoryService, old_id: str, new_id: str, reason: str | None = None, when=None
) -> Change:
    """Keep both, but mark `old_id` as no longer valid: from when `new_id` was learned,
    or from `when` (e.g. now, when the newer memory is the wrong one)."""
    old, new = service.get(old_id), service.get(new_id)
    if old is None or new is None:
        raise KeyError("both memories must be in the collection")
    when = when or new.created_at or utc_now()
    return service.apply_records(
        [old.replace(valid_to=when)], reason=reason or f"superseded by {new_id}", label="Supersede 1 memory"
    )
