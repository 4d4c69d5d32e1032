"""Blended ranking: similarity re-weighed with recency, importance and keyword overlap.

Agents rarely rank memories by similarity alone (Generative Agents blends recency,
importance and relevance; Mem0 adds BM25). A `Blend` re-ranks a pool of the nearest
candidates and keeps, for each hit, the part each signal contributed: the parts of a
hit add up to its score, so the trace view can show why one memory beat another.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime

from memlens.core.query import SearchHit
from memlens.core.record import MemoryRecord

SIGNALS = ("similarity", "recency", "importance", "keyword")
_WORD = re.compile(r"\w{3,}")
# A memory without an importance counts as middling, neither promoted nor buried.
_UNKNOWN_IMPORTANCE = 0.5


@dataclass(frozen=True)
class Blend:
    """Weights of each signal; the score is their weighted mean (0..1 when each is)."""

    similarity: float = 1.0
    recency: float = 0.0
    importance: float = 0.0
    keyword: float = 0.0
    half_life_days: float = 30.0  # a memory this old has recency 0.5
    pool: int = 4  # nearest candidates re-ranked per hit asked for

    def __post_init__(self) -> None:
        weights = [getattr(self, s) for s in SIGNALS]
        if any(w < 0 or not math.isfinite(w) for w in weights):
            raise ValueError("weights must be numbers, zero or more")
        if sum(weights) <= 0:
            raise ValueError("at least one weight must be above zero")
        if not self.half_life_days > 0:
            raise ValueError("half_life_days must be above zero")
        if not isinstance(self.pool, int) or isinstance(self.pool, bool):
            raise ValueError(f"pool must be a whole number, not {self.pool!r}")
        if self.pool < 1:
            raise ValueError("pool must be at least 1")

    @property
    def is_plain(self) -> bool:
        """Similarity only: the index's own order, nothing to re-rank."""
        return not self.extra_signals

    @property
    def extra_signals(self) -> list[str]:
        """The signals weighed besides similarity."""
        return [s for s in SIGNALS[1:] if getattr(self, s)]

    @classmethod
    def parse(cls, spec: str) -> Blend:
        """`"recency=0.3,importance=0.2"`: unnamed weights keep their defaults."""
        fields: dict[str, float] = {}
        for part in filter(None, (p.strip() for p in spec.split(","))):
            name, sep, value = part.partition("=")
            name = name.strip().replace("-", "_")
            if not sep or name not in (*SIGNALS, "half_life_days", "pool"):
                raise ValueError(
                    f"{part!r} is not NAME=NUMBER with NAME one of {', '.join(SIGNALS)}, half_life_days, pool"
                )
            try:
                fields[name] = float(value)
            except ValueError:
                raise ValueError(f"{part!r}: {value.strip()!r} is not a number") from None
        pool = fields.get("pool")
        if pool is not None and pool.is_integer():  # "pool=4" reads as 4.0; the rest is refused below
            fields["pool"] = int(pool)
        return cls(**fields)  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Blend:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    # -- scoring ---------------------------------------------------------------------
    def parts(self, query: str, record: MemoryRecord, similarity: float, now: datetime) -> dict[str, float]:
        """Each signal's contribution to this memory's score (they sum to the score)."""
        raw = {
            "similarity": similarity,
            "recency": self.recency_of(record, now),
            "importance": _importance(record),
            "keyword": keyword_overlap(query, record.text),
        }
        total = sum(getattr(self, s) for s in SIGNALS)
        return {s: getattr(self, s) * raw[s] / total for s in SIGNALS if getattr(self, s)}

    def recency_of(self, record: MemoryRecord, now: datetime) -> float:
        # Its age since it was made, not since it was last written: an import stamps
        # `updated_at` now, and a corrected memory is no fresher a fact.
        when = record.created_at or record.updated_at
        if when is None:
            return 0.0
        if when.tzinfo is None:  # a plugin may hand in a naive time: UTC, as stored
            when = when.replace(tzinfo=UTC)
        age_days = max(0.0, (now - when).total_seconds() / 86400.0)
        return 0.5 ** (age_days / self.half_life_days)

    def rerank(self, query: str, candidates: Sequence[SearchHit], k: int, now: datetime) -> list[SearchHit]:
        """The top `k` of `candidates` by blended score, ranks renumbered, parts attached."""
        scored = []
        for h in candidates:
            parts = self.parts(query, h.record, h.score, now)
            scored.append((sum(parts.values()), h, parts))
        # Ties keep the index's order (sorted is stable).
        scored.sort(key=lambda t: -t[0])
        return [
            replace(h, rank=n, score=score, components=parts)
            for n, (score, h, parts) in enumerate(scored[:k], 1)
        ]


def _importance(record: MemoryRecord) -> float:
    value = record.importance
    if value is None or not math.isfinite(value):
        return _UNKNOWN_IMPORTANCE
    return min(1.0, max(0.0, value))


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)}


def keyword_overlap(query: str, text: str) -> float:
    """The share of the query's words (three letters or more) found in the text."""
    wanted = _words(query)
    return len(wanted & _words(text)) / len(wanted) if wanted else 0.0


def describe(parts: dict[str, float]) -> str:
    # Not " + ": an imported retriever's parts need not add up to its score.
    return " · ".join(f"{name} {value:.2f}" for name, value in parts.items())


def weights(blend: Blend) -> str:
    """`similarity 0.6 + recency 0.4 (half-life 30 days)`: how a blend weighs."""
    named = " + ".join(f"{s} {getattr(blend, s):g}" for s in SIGNALS if getattr(blend, s))
    return f"{named} (half-life {blend.half_life_days:g} days)" if blend.recency else named


def effective(blend: Blend | None) -> Blend | None:
    """The blend when it re-ranks at all; None for none or for similarity alone."""
    return None if blend is None or blend.is_plain else blend


def blend_of(source: dict) -> Blend | None:
    """The blend a trace recorded (in its `source`), if it was a blended search."""
    raw = source.get("blend") if isinstance(source, dict) else None
    try:
        return effective(Blend.from_dict(raw)) if isinstance(raw, dict) else None
    except (TypeError, ValueError):
        return None
