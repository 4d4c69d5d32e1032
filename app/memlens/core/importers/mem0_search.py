"""A Mem0 `Memory.search` result, saved as JSON, as one retrieval trace.

Mem0 returns {"results": [{"id", "memory", "score", ...}]} (older versions a bare list)
but not the query, so the query comes separately. With `explain=True` each result also
carries `score_details` (semantic, BM25 and entity parts, and the threshold that gated
the semantic score): those become the hit's score breakdown and the trace's threshold.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from memlens.core.query import Filter
from memlens.core.traces import Trace, TraceHit, TraceImportError

ORIGIN = "import:mem0"
# score_details key -> component name in MemLens' breakdown
_PARTS = {"semantic_score": "similarity", "bm25_score": "bm25", "entity_boost": "entity_boost"}


def _number(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TraceImportError(f"{where}: {value!r} is not a number")
    return float(value)


def _hit(n: int, item: Any) -> tuple[TraceHit, float | None]:
    where = f"results[{n}]"
    if not isinstance(item, dict):
        raise TraceImportError(f"{where}: must be an object")
    memory_id = item.get("id")
    if not isinstance(memory_id, str | int) or memory_id == "":
        raise TraceImportError(f"{where}: needs an 'id'")
    text = item.get("memory")
    if text is not None and not isinstance(text, str):
        raise TraceImportError(f"{where}.memory: must be a string")
    details = item.get("score_details") or {}
    if not isinstance(details, dict):
        raise TraceImportError(f"{where}.score_details: must be an object")
    components = {
        name: value
        for key, name in _PARTS.items()
        if (value := _number(details.get(key), f"{where}.score_details.{key}")) is not None
    }
    hit = TraceHit(
        str(memory_id), n + 1, None, _number(item.get("score"), f"{where}.score"), text, components
    )
    return hit, _number(details.get("threshold"), f"{where}.score_details.threshold")


def read_mem0_search(
    path: str | Path,
    query: str,
    *,
    k: int | None = None,
    threshold: float | None = None,
    flt: Filter | None = None,
    session_id: str | None = None,
    when: datetime | None = None,
    collection: str | None = None,
) -> Trace:
    """One trace from a saved search result. `k` defaults to the number of results, the
    time to the file's modification time; `flt` is the search's filters, if known."""
    path = Path(path)
    if not query.strip():
        raise TraceImportError("A Mem0 search result does not hold its query: give the query text.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TraceImportError(f"Cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise TraceImportError(f"{path.name}: not JSON ({exc})") from None
    results = data.get("results") if isinstance(data, dict) else data
    if not isinstance(results, list):
        raise TraceImportError(f"{path.name}: expected {{'results': [...]}} as Memory.search returns it")
    parsed = [_hit(n, item) for n, item in enumerate(results)]
    hits = tuple(h for h, _ in parsed)
    gates = {t for _, t in parsed if t is not None}
    if threshold is None and len(gates) == 1:
        threshold = gates.pop()
    if k is not None and k < len(hits):
        raise TraceImportError(f"k={k} but the file holds {len(hits)} results")
    return Trace(
        query=query,
        k=k or max(len(hits), 1),
        hits=hits,
        origin=ORIGIN,
        time=when or datetime.fromtimestamp(path.stat().st_mtime, UTC),
        filter=flt,
        threshold=threshold,
        session_id=session_id,
        collection=collection,
        source={"file": path.name},
    )
