"""Bulk changes on a selection or a filter, previewed exactly, applied as one undo step."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from memlens.core.record import MemoryRecord, Status
from memlens.core.service import Change, MemoryService

KEEP = object()  # "leave this field as it is"


@dataclass(frozen=True)
class BulkChange:
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()
    user_id: object = KEEP
    agent_id: object = KEEP
    status: Status | None = None

    def describe(self) -> str:
        parts = []
        if self.add_tags:
            parts.append("tag " + ", ".join(self.add_tags))
        if self.remove_tags:
            parts.append("untag " + ", ".join(self.remove_tags))
        if self.user_id is not KEEP:
            parts.append(f"user → {self.user_id or '(none)'}")
        if self.agent_id is not KEEP:
            parts.append(f"agent → {self.agent_id or '(none)'}")
        if self.status is not None:
            parts.append(
                {Status.DELETED: "delete", Status.ARCHIVED: "archive"}.get(self.status, self.status.value)
            )
        return "; ".join(parts) or "no change"

    def apply_to(self, r: MemoryRecord) -> MemoryRecord:
        tags = tuple(t for t in dict.fromkeys((*r.tags, *self.add_tags)) if t not in self.remove_tags)
        changes: dict = {"tags": tags}
        if self.user_id is not KEEP:
            changes["user_id"] = self.user_id or None
        if self.agent_id is not KEEP:
            changes["agent_id"] = self.agent_id or None
        if self.status is not None:
            changes["status"] = self.status
        return r.replace(**changes)


def preview(
    service: MemoryService, ids: Sequence[str], change: BulkChange
) -> list[tuple[MemoryRecord, MemoryRecord]]:
    """Exactly the memories that would change, before and after."""
    out = []
    for r in service.records(ids):
        after = change.apply_to(r)
        if after != r:
            out.append((r, after))
    return out


def apply(
    service: MemoryService,
    ids: Sequence[str],
    change: BulkChange,
    actor: str = "user",
    reason: str | None = None,
) -> Change:
    pairs = preview(service, ids, change)
    label = f"Bulk {change.describe()} ({len(pairs)} memories)"
    return service.apply_records([after for _, after in pairs], actor, reason, label=label)
