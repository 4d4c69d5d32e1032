"""Every export format, and exporting a list of memories to a file or a stream."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from memlens.core.exporters.mem0_json import write_mem0_json
from memlens.core.exporters.tabular import write_csv
from memlens.core.graph import GraphOptions, build_graph, to_graphml
from memlens.core.jsonl import iter_jsonl
from memlens.core.record import MemoryRecord
from memlens.core.store import MemoryStore

Progress = Callable[[int, int], None]
Counter = Callable[[int], None]


def _jsonl(records: Sequence[MemoryRecord], out: IO[str], count: Counter) -> int:
    n = 0
    for line in iter_jsonl(records):
        out.write(line)
        n += 1
        count(n)
    return n


@dataclass(frozen=True)
class ExportFormat:
    name: str
    label: str
    suffix: str
    write: Callable[[Sequence[MemoryRecord], IO[str], Counter], int] | None  # None: GraphML


EXPORT_FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat("jsonl", "MemLens JSONL (re-importable)", ".jsonl", _jsonl),
        ExportFormat("csv", "CSV (spreadsheets)", ".csv", write_csv),
        ExportFormat("graphml", "GraphML (Gephi, yEd, networkx)", ".graphml", None),
        ExportFormat("mem0-json", "JSON in Mem0's shape (Memory.get_all)", ".json", write_mem0_json),
    )
}


def export_records(
    records: Sequence[MemoryRecord],
    fmt: str,
    path: str | Path | None,
    store: MemoryStore | None = None,
    progress: Progress | None = None,
) -> int:
    """Write `records` in `fmt` to `path` (standard output when None); returns how many.

    The file is written beside its final name and moved into place at the end, so an
    interrupted export never leaves half a file under the name the user chose.
    """
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; known: {', '.join(EXPORT_FORMATS)}")
    total = len(records)

    def count(n: int) -> None:
        if progress and (n % 1000 == 0 or n == total):
            progress(n, total)

    spec = EXPORT_FORMATS[fmt]
    if path is None:
        if spec.write is None:
            _graphml(records, sys.stdout.buffer, store, progress)
            return total
        return spec.write(records, sys.stdout, count)
    target = Path(path)
    partial = target.with_name(target.name + ".partial")
    try:
        if spec.write is None:
            with open(partial, "wb") as fh:
                _graphml(records, fh, store, progress)
            n = total
        else:
            with open(partial, "w", encoding="utf-8", newline="") as fh:
                n = spec.write(records, fh, count)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return n


def _graphml(
    records: Sequence[MemoryRecord], out: IO[bytes], store: MemoryStore | None, progress: Progress | None
) -> None:
    """The memory graph (links, merges, sessions, entities, tags, semantic neighbours with a
    store) with communities, as the Graph view's own GraphML export writes it."""
    graph = build_graph(records, store, GraphOptions(), progress)
    to_graphml(graph, {r.id: r for r in records}, out)  # networkx writes to a path or a binary file
