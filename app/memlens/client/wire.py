"""The JSON form of session events, as `memlens.plugin_api.events` defines it (schema v1).

The client builds these dicts itself instead of importing the plugin API: that package
pulls in MemLens' engine (numpy, the store), and an agent should not pay for it. A test
reads every dict built here back with `memlens.plugin_api.event_from_dict`, so the two
cannot drift apart.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

#: Must equal memlens.plugin_api.EVENT_SCHEMA_VERSION (tested).
SCHEMA_VERSION = 1

SESSION_STARTED = "session.started"
SESSION_ENDED = "session.ended"
MESSAGE = "message"
MEMORY_ADDED = "memory.added"
MEMORY_UPDATED = "memory.updated"
MEMORY_DELETED = "memory.deleted"
RETRIEVAL = "retrieval"
KINDS = (SESSION_STARTED, SESSION_ENDED, MESSAGE, MEMORY_ADDED, MEMORY_UPDATED, MEMORY_DELETED, RETRIEVAL)

#: Message roles MemLens shows (plugin_api.events.ROLES).
ROLES = ("user", "assistant", "system", "tool", "notice", "error")


def now() -> str:
    return datetime.now(UTC).isoformat()


def new_session_id(agent: str) -> str:
    """A readable unique id, as MemLens makes them: the agent's name as a slug and 8 hex digits."""
    slug = re.sub(r"[^a-z0-9]+", "-", agent.lower()).strip("-")[:32] or "session"
    return f"{slug}-{uuid.uuid4().hex[:8]}"


def event(kind: str, session_id: str, time: str | None = None, **fields: Any) -> dict[str, Any]:
    """One event; fields that are None are left out (the reader's defaults apply)."""
    out = {"v": SCHEMA_VERSION, "kind": kind, "session_id": session_id, "time": time or now()}
    out.update((k, v) for k, v in fields.items() if v is not None)
    return out


def session_started(session_id: str, agent: str, title: str | None = None) -> dict[str, Any]:
    t = now()
    session = {"id": session_id, "agent": agent, "started_at": t, "status": "live"}
    if title:
        session["title"] = title
    return event(SESSION_STARTED, session_id, t, session=session)


def hit(item: Any, rank: int) -> dict[str, Any]:
    """One retrieval hit from what agents have at hand: a dict (MemLens', Mem0's or
    OpenInference's key names), or a tuple (id, score[, text])."""
    if isinstance(item, Mapping):
        memory_id = item.get("memory_id", item.get("id"))
        text = item.get("text", item.get("memory", item.get("content")))
        score, distance = item.get("score"), item.get("distance")
    elif isinstance(item, tuple | list) and item:
        memory_id = item[0]
        score = item[1] if len(item) > 1 else None
        text = item[2] if len(item) > 2 else None
        distance = None
    else:
        memory_id, text, score, distance = item, None, None, None
    if memory_id is None or memory_id == "":
        raise ValueError(f"retrieval hit {rank} has no memory id: {item!r}")
    out: dict[str, Any] = {"memory_id": str(memory_id), "rank": rank}
    if isinstance(score, int | float) and not isinstance(score, bool):
        out["score"] = float(score)
    if isinstance(distance, int | float) and not isinstance(distance, bool):
        out["distance"] = float(distance)
    if text is not None:
        out["text"] = text if isinstance(text, str) else str(text)
    return out


def hits(items: Iterable[Any]) -> list[dict[str, Any]]:
    return [hit(item, rank) for rank, item in enumerate(items, 1)]
