"""The memory record as MemLens sees it, independent of who wrote it."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Callable
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


def check_importance(value: Any) -> float | None:
    """None or a finite number; ValueError says what else it is (JSON readers accept NaN)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"must be a number, not {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"must be a finite number, not {json.dumps(value)}")  # NaN as written
    return float(value)


def check_version(value: Any) -> int:
    """A positive whole number; ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"must be a positive integer, not {value!r}")
    return value


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

    def __post_init__(self) -> None:
        # Checked on every record, not only on import: the journal must read back (with
        # `from_dict`) whatever a plugin or an edit once wrote.
        for name, check in (("importance", check_importance), ("version", check_version)):
            try:
                check(getattr(self, name))
            except ValueError as exc:
                raise ValueError(f"field {name!r} {exc}") from None

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
        """Inverse of `to_dict`; raises ValueError naming the offending field. A value is
        refused, never replaced: what a user wrote is either kept or reported."""
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
        for name, check in _FIELD_CHECKS.items():
            if name in kwargs:
                try:
                    kwargs[name] = check(kwargs[name])
                except ValueError as exc:
                    raise ValueError(f"field {name!r} {exc}") from None
        return cls(**kwargs)


def _time_field(value: Any) -> datetime | None:
    parsed = parse_time(value)
    if value is not None and parsed is None:
        raise ValueError(f"is not an ISO-8601 time: {value!r}")
    return parsed


def _optional_text(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValueError(f"must be a string or null, not {value!r}")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be a string, not {value!r}")
    return value


def _strings(value: Any) -> tuple[str, ...]:
    value = value or []
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValueError("must be a list of strings")
    return tuple(value)


def _status(value: Any) -> Status:
    try:
        return Status(value)
    except ValueError:
        raise ValueError(f"must be one of {', '.join(s.value for s in Status)}") from None


def _object(value: Any) -> dict[str, Any]:
    if not isinstance(value or {}, dict):
        raise ValueError("must be an object")
    return value or {}


# How `from_dict` reads each field it checks (id and text are checked first).
_FIELD_CHECKS: dict[str, Callable[[Any], Any]] = {
    "kind": _text,
    "user_id": _optional_text,
    "agent_id": _optional_text,
    "session_id": _optional_text,
    **dict.fromkeys(("created_at", "updated_at", "valid_from", "valid_to"), _time_field),
    "tags": _strings,
    "links": _strings,
    "status": _status,
    "source": _object,
    "extra": _object,
}  # importance and version: checked by the record itself
