"""The memory record as MemLens sees it, independent of who wrote it."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    ACTIVE = "active"
    FLAGGED = "flagged"
    VERIFIED = "verified"
    ARCHIVED = "archived"
    DELETED = "deleted"


#: Statuses that normal browsing and search hide unless asked for.
HIDDEN_STATUSES = frozenset({Status.ARCHIVED, Status.DELETED})

KINDS = ("episodic", "semantic", "procedural", "preference", "profile")


def utc_now() -> datetime:
    return datetime.now(UTC)


def content_hash(text: str) -> str:
    """md5 of the text: the same digest Mem0 keeps in its `hash` key."""
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def parse_time(value: Any) -> datetime | None:
    """Read a timestamp as stores write it: ISO-8601 text, epoch seconds, or None.

    Naive times are taken as UTC so that ordering across stores is stable.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        dt = datetime.fromtimestamp(float(value), UTC)
    elif isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def format_time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclass(frozen=True, slots=True)
class MemoryRecord:
    """One memory. `extra` keeps every metadata key MemLens does not understand."""

    id: str
    text: str
    kind: str = "semantic"
    user_id: str | None = None
    agent_id: str | None = None
    session_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    source: dict[str, Any] = field(default_factory=dict)
    importance: float | None = None
    tags: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    status: Status = Status.ACTIVE
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    version: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        return content_hash(self.text)

    @property
    def owner(self) -> str:
        """Who the memory is about or belongs to, for display."""
        return self.user_id or self.agent_id or ""

    def replace(self, **changes: Any) -> MemoryRecord:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, used by the journal and the JSONL exporter."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, datetime):
                value = format_time(value)
            elif isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, Status):
                value = value.value
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MemoryRecord:
        """Inverse of `to_dict`; raises ValueError with the offending field."""
        if not isinstance(data, dict):
            raise ValueError("a memory must be a JSON object")
        if not isinstance(data.get("id"), str) or not data["id"]:
            raise ValueError("field 'id' must be a non-empty string")
        if not isinstance(data.get("text"), str):
            raise ValueError("field 'text' must be a string")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown field(s): {', '.join(unknown)}")
        kwargs = dict(data)
        for name in ("created_at", "updated_at", "valid_from", "valid_to"):
            if kwargs.get(name) is not None:
                parsed = parse_time(kwargs[name])
                if parsed is None:
                    raise ValueError(f"field '{name}' is not an ISO-8601 time: {kwargs[name]!r}")
                kwargs[name] = parsed
        for name in ("tags", "links"):
            if name in kwargs:
                value = kwargs[name] or []
                if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
                    raise ValueError(f"field '{name}' must be a list of strings")
                kwargs[name] = tuple(value)
        if "status" in kwargs:
            try:
                kwargs["status"] = Status(kwargs["status"])
            except ValueError:
                allowed = ", ".join(s.value for s in Status)
                raise ValueError(f"field 'status' must be one of {allowed}") from None
        for name in ("source", "extra"):
            if name in kwargs and not isinstance(kwargs[name] or {}, dict):
                raise ValueError(f"field '{name}' must be an object")
            kwargs[name] = kwargs.get(name) or {}
        if kwargs.get("importance") is not None:
            try:
                kwargs["importance"] = float(kwargs["importance"])
            except (TypeError, ValueError):
                raise ValueError("field 'importance' must be a number") from None
        return cls(**kwargs)
