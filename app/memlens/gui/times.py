"""Times as the window shows them: always in UTC, whatever offset a store wrote.

Stores disagree (MemLens and Mem0 2.x write UTC, older Mem0 wrote US/Pacific, imports
bring their own offsets); one zone everywhere lets the table, the inspector and a
memory's history be read against each other.
"""

from __future__ import annotations

from datetime import UTC, datetime

from memlens.core.record import parse_time

ZONE_NOTE = "Times are shown in UTC"


def as_utc(value: datetime | float | str | None) -> datetime | None:
    """A datetime, epoch seconds or ISO text (Mem0's history.db) in UTC; naive is UTC."""
    when = parse_time(value)  # naive times come back as UTC
    return None if when is None else when.astimezone(UTC)


def utc_text(value: datetime | float | str | None) -> str:
    """'2026-03-01 14:05:09 UTC' (empty for no time)."""
    when = as_utc(value)
    return when.strftime("%Y-%m-%d %H:%M:%S UTC") if when else ""


def utc_minute(value: datetime | None) -> str:
    """'2026-03-01 14:05', for table cells (the header's tooltip names the zone)."""
    when = as_utc(value)
    return when.strftime("%Y-%m-%d %H:%M") if when else ""
