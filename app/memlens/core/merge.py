"""Merging memories: one new memory, the sources archived, links re-pointed, one undo step."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence

from memlens.core.record import HIDDEN_STATUSES, MemoryRecord, Status
from memlens.core.service import Change, MemoryService


def _most_common(values: Sequence[str | None]) -> str | None:
    present = [v for v in values if v]
    return Counter(present).most_common(1)[0][0] if present else None


def merged_record(
    sources: Sequence[MemoryRecord], text: str | None = None, new_id: str | None = None
) -> MemoryRecord:
    """The memory a merge makes: sensible owner, earliest creation, union of tags and links.

    Sources are taken oldest first, so where they disagree (owner, kind) the most common
    value wins and ties go to the oldest.
    """
    if len(sources) < 2:
        raise ValueError("a merge needs two or more memories")
    ordered = sorted(sources, key=lambda r: (r.created_at is None, r.created_at or 0, r.id))
    ids = [r.id for r in ordered]
    turns = [t for r in ordered for t in (r.source.get("turns") or [])]
    extra: dict = {}
    for r in reversed(ordered):  # the oldest source's value wins on a clash
        extra.update(r.extra)
    sessions = {r.session_id for r in ordered}
    importances = [r.importance for r in ordered if r.importance is not None]
    return MemoryRecord(
        id=new_id or str(uuid.uuid4()),
        text=text if text is not None else ordered[0].text,
        kind=_most_common([r.kind for r in ordered]) or ordered[0].kind,
        user_id=_most_common([r.user_id for r in ordered]),
        agent_id=_most_common([r.agent_id for r in ordered]),
        session_id=ordered[0].session_id if len(sessions) == 1 else None,
        created_at=ordered[0].created_at,
        source={"type": "merge", "merged_from": ids, "turns": turns},
        importance=max(importances) if importances else None,
        tags=tuple(dict.fromkeys(t for r in ordered for t in r.tags)),
        links=tuple(dict.fromkeys(link for r in ordered for link in r.links if link not in ids)),
        extra=extra,
    )


def suggested_text(sources: Sequence[MemoryRecord]) -> str:
    """Without a language model: the longest text, which usually says the most."""
    return max(sources, key=lambda r: (len(r.text), r.created_at is not None)).text


class MergeRefused(ValueError):
    """What is wrong with a merge asked for, in words for the user."""


def merge_problem(service: MemoryService, ids: Sequence[str]) -> str | None:
    """Why `ids` cannot be merged, or None: each must be a current memory, named once."""
    if len(set(ids)) < 2:
        return "A merge needs two or more different memories."
    return curation_problem(service, ids, "merged")


def curation_problem(service: MemoryService, ids: Sequence[str], verb: str) -> str | None:
    """Why `ids` cannot be `verb` together, or None: each must be a current memory, named once."""
    if len(set(ids)) < len(ids):
        twice = sorted(i for i, n in Counter(ids).items() if n > 1)
        return f"{', '.join(map(repr, twice))} is named more than once."
    missing = [i for i in ids if service.get(i) is None]
    if missing:
        return f"No memory {', '.join(map(repr, missing))} in '{service.store.collection}'."
    hidden = [r for r in service.records(ids) if r.status in HIDDEN_STATUSES]
    if hidden:
        named = ", ".join(f"{r.id!r} is {r.status.value}" for r in hidden)
        return f"Only current memories can be {verb}: {named}. Restore it from the Trash first."
    return None


def merge(
    service: MemoryService,
    ids: Sequence[str],
    text: str | None = None,
    actor: str = "user",
    reason: str | None = None,
) -> tuple[Change, MemoryRecord]:
    """Merge `ids` into a new memory; archive the sources; re-point links to them."""
    problem = merge_problem(service, ids)
    if problem:
        raise MergeRefused(problem)
    sources = service.records(ids)
    merged = merged_record(sources, text if text is not None else suggested_text(sources))
    changed = [merged]
    changed += [r.replace(status=Status.ARCHIVED) for r in sources]
    changed += repointed_links(service, set(ids), merged.id)
    change = service.apply_records(changed, actor, reason, label=f"Merge {len(sources)} memories")
    return change, merged


def repointed_links(service: MemoryService, gone: set[str], to: str) -> list[MemoryRecord]:
    """The memories that link to any of `gone`, linking to `to` instead (never to themselves)."""
    out = []
    for other in service.records(service.select_all()):
        if other.id not in gone and gone.intersection(other.links):
            moved = (to if link in gone else link for link in other.links)
            out.append(other.replace(links=tuple(dict.fromkeys(m for m in moved if m != other.id))))
    return out
