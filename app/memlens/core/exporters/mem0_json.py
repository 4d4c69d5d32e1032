"""Memories in Mem0's JSON shape: what `Memory.get_all()` returns, for any store.

Each memory is laid out as Mem0 would store it (text in `data`, md5 `hash`, ISO times,
`run_id` for the session, MemLens' own fields as `memlens_*` keys) and then reported the
way Mem0 reports a stored memory: `id`, `memory`, `hash`, `created_at`, `updated_at`,
the promoted owner keys, and the rest under `metadata`. For a Mem0 store this is exactly
Mem0's own output; for other stores it is what Mem0 would show after an import. One
difference: metadata values Chroma cannot hold (nested objects, mixed lists) are stored
as JSON text, and given back here as the structure they were.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import IO, Any

from memlens.core.profiles import MEM0, PROFILES, decode_extra
from memlens.core.record import MemoryRecord

# Mem0 2.x, mem0/memory/main.py: `promoted_payload_keys` and `core_and_promoted_keys`.
PROMOTED = ("user_id", "agent_id", "run_id", "actor_id", "role", "attributed_to", "expiration_date")
CORE = frozenset({"data", "hash", "created_at", "updated_at", "id", "text_lemmatized", *PROMOTED})


def mem0_item(record: MemoryRecord) -> dict[str, Any]:
    payload = decode_extra(PROFILES[MEM0].to_chroma(record)[1])
    item: dict[str, Any] = {
        "id": record.id,
        "memory": payload.get("data", ""),
        "hash": payload.get("hash"),
        "metadata": None,
        "created_at": payload.get("created_at"),
        "updated_at": payload.get("updated_at"),
    }
    for key in PROMOTED:
        if key in payload:
            item[key] = payload[key]
    rest = {k: v for k, v in payload.items() if k not in CORE}
    if rest:
        item["metadata"] = rest
    return item


def write_mem0_json(
    records: Iterable[MemoryRecord], out: IO[str], progress: Callable[[int], None] | None = None
) -> int:
    items = []
    for r in records:
        items.append(mem0_item(r))
        if progress:
            progress(len(items))
    json.dump({"results": items}, out, ensure_ascii=False, indent=2)
    out.write("\n")
    return len(items)
