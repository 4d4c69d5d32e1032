"""Filters and search results over memory records."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from memlens.core.record import HIDDEN_STATUSES, MemoryRecord, Status


@dataclass(frozen=True)
class Filter:
    """Empty sets mean 'any'. `statuses=None` means everything but archived and deleted."""

    users: frozenset[str] = frozenset()
    agents: frozenset[str] = frozenset()
    sessions: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    statuses: frozenset[Status] | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str = ""  # keyword: every word must occur, case-insensitive

    @property
    def is_default(self) -> bool:
        return self == Filter()

    def describe(self) -> str:
        """In words, for a trace's header: 'user alice, kind semantic, since 2026-03-01'."""
        parts = [
            f"{name} {', '.join(sorted(values))}"
            for name, values in (
                ("user", self.users),
                ("agent", self.agents),
                ("session", self.sessions),
                ("kind", self.kinds),
                ("tag", self.tags),
            )
            if values
        ]
        if self.statuses is not None:
            parts.append(f"status {', '.join(sorted(s.value for s in self.statuses))}")
        if self.since:
            parts.append(f"since {self.since:%Y-%m-%d %H:%M}")
        if self.until:
            parts.append(f"until {self.until:%Y-%m-%d %H:%M}")
        if self.text:
            parts.append(f"words “{self.text}”")
        return "; ".join(parts) or "none"

    def words(self) -> list[str]:
        return [w.casefold() for w in re.findall(r"\S+", self.text)]

    def matches(self, r: MemoryRecord, words: list[str] | None = None) -> bool:
        if self.statuses is None:
            if r.status in HIDDEN_STATUSES:
                return False
        elif r.status not in self.statuses:
            return False
        if self.users and r.user_id not in self.users:
            return False
        if self.agents and r.agent_id not in self.agents:
            return False
        if self.sessions and r.session_id not in self.sessions:
            return False
        if self.kinds and r.kind not in self.kinds:
            return False
        if self.tags and not self.tags.intersection(r.tags):
            return False
        if self.since and (r.created_at is None or r.created_at < self.since):
            return False
        if self.until and (r.created_at is None or r.created_at > self.until):
            return False
        words = self.words() if words is None else words
        if words:
            text = r.text.casefold()
            return all(w in text for w in words)
        return True


@dataclass(frozen=True)
class SearchHit:
    record: MemoryRecord
    rank: int
    distance: float
    score: float
    # Each signal's part of `score` when a blend ranked the hit (see core.ranking).
    components: dict[str, float] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Facets:
    """Distinct values present in a collection, for the filter bar's pickers."""

    users: list[str] = field(default_factory=list)
    agents: list[str] = field(default_factory=list)
    sessions: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
