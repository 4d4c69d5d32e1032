"""The hallucination review queue and its triage decisions.

Suspects come from three places: (a) weak support in their own source turns, (b) a user
flag, (c) a plugin's flag (a flag whose journal actor is "plugin:…"). Every decision is
journaled with its reason, skips included, so the history says who looked and when.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from memlens.core.query import Filter
from memlens.core.record import MemoryRecord, Status
from memlens.core.service import Change, MemoryService
from memlens.core.support import Support, source_texts, support_scores

# On LoCoMo observations with 15% of them corrupted (a name, number or place changed),
# 83-86% of those scoring under 0.40 were corrupted, and a third of all corruptions
# scored there; under 0.35, 84-95% and a quarter (tests/core/test_curation.py's corruption,
# conversations 41-50).
SUSPECT_BELOW = 0.40
DECISIONS = ("verify", "edit", "archive", "skip")


@dataclass(frozen=True)
class Suspect:
    record: MemoryRecord
    origin: str  # "weak support", "user flag", "plugin flag"
    support: Support | None
    why: str


def _flag_origin(service: MemoryService, memory_id: str) -> tuple[str, str]:
    flags = [h for h in service.history(memory_id) if h.op == "flagged" and h.state == "applied"]
    last = flags[-1] if flags else None
    if last is not None and last.actor.startswith("plugin:"):
        return "plugin flag", f"flagged by {last.actor.removeprefix('plugin:')}" + (
            f": {last.reason}" if last.reason else ""
        )
    return "user flag", f"flagged{': ' + last.reason if last and last.reason else ''}"


def review_queue(
    service: MemoryService,
    threshold: float = SUSPECT_BELOW,
    judge: Callable[[MemoryRecord, list[str]], tuple[bool, str]] | None = None,
) -> list[Suspect]:
    """Flagged memories first (a person or plugin asked), then the least supported."""
    records = service.records(service.select(Filter(statuses=frozenset({Status.ACTIVE, Status.FLAGGED}))))
    scores = {s.memory_id: s for s in support_scores(records, service.embedder)}
    queue = []
    for r in records:
        support = scores.get(r.id)
        if r.status == Status.FLAGGED:
            origin, why = _flag_origin(service, r.id)
            queue.append(Suspect(r, origin, support, why))
        elif support is not None and support.score < threshold:
            why = f"weak support ({support.score:.2f}): {support.explain()}"
            if judge is not None:
                supported, reason = judge(r, source_texts(r))
                if supported:
                    continue
                why += f"; model: {reason}"
            queue.append(Suspect(r, "weak support", support, why))
    rank = {"plugin flag": 0, "user flag": 0, "weak support": 1}
    return sorted(queue, key=lambda s: (rank[s.origin], s.support.score if s.support else 0.0))


def decide(
    service: MemoryService, memory_id: str, decision: str, reason: str | None = None, text: str | None = None
) -> Change:
    """Apply a triage decision as one journaled, undoable step."""
    if decision == "verify":
        return service.set_status([memory_id], Status.VERIFIED, reason=reason or "checked against its source")
    if decision == "archive":
        return service.set_status(
            [memory_id], Status.ARCHIVED, reason=reason or "not supported by its source"
        )
    if decision == "edit":
        if text is None:
            raise ValueError("an edit decision needs the corrected text")
        return service.edit(memory_id, reason=reason or "corrected against its source", text=text)
    if decision == "skip":
        return service.annotate([memory_id], "review-skip", "Skip in review", reason=reason)
    raise ValueError(f"unknown decision {decision!r}; one of {', '.join(DECISIONS)}")
