"""Which kind of retrieval-trace file a file is, and reading it whichever it is.

Two kinds are read: OTLP JSON exports of OpenInference retriever spans (one request, or
one per line), and a saved Mem0 `Memory.search` result (which does not hold its query).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from memlens.core.importers.mem0_search import read_mem0_search
from memlens.core.importers.openinference import read_otlp_json
from memlens.core.traces import Trace, TraceImportError

OPENINFERENCE, MEM0 = "openinference", "mem0"


def _first_value(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except ValueError:
        line = next((line for line in text.splitlines() if line.strip()), "")
        try:
            return json.loads(line)  # JSON lines: one export request per line
        except ValueError:
            return None


def trace_file_format(path: str | Path) -> str | None:
    """OPENINFERENCE, MEM0, or None when the file is neither (or unreadable as JSON)."""
    try:
        value = _first_value(Path(path))
    except (OSError, UnicodeDecodeError):
        return None
    if isinstance(value, dict) and isinstance(value.get("resourceSpans"), list):
        return OPENINFERENCE
    results = value.get("results") if isinstance(value, dict) else value
    if isinstance(results, list) and all(isinstance(r, dict) and "memory" in r for r in results):
        return MEM0
    return None


def read_trace_file(path: str | Path, collection: str, query: str | None = None) -> list[Trace]:
    """The traces in `path`; a Mem0 result needs the `query` it answered."""
    kind = trace_file_format(path)
    if kind == OPENINFERENCE:
        return read_otlp_json(path, collection=collection)
    if kind == MEM0:
        if not query or not query.strip():
            raise TraceImportError("a Mem0 search result does not hold its query: say what was asked")
        return [read_mem0_search(path, query, collection=collection)]
    raise TraceImportError(
        f"{Path(path).name} is neither an OTLP JSON export of OpenInference spans nor a Mem0 search result"
    )
