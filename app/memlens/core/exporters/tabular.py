"""CSV: one memory per row, the record's own fields, for spreadsheets and pandas.

Lists and objects (tags, links, source, extra) are written as JSON text so nothing is
lost; times are ISO-8601. Texts are written as they are: a spreadsheet may treat a text
starting with "=" as a formula, so open untrusted exports as text columns.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable
from typing import IO

from memlens.core.record import MemoryRecord

COLUMNS = (
    "id",
    "text",
    "kind",
    "user_id",
    "agent_id",
    "session_id",
    "created_at",
    "updated_at",
    "status",
    "importance",
    "tags",
    "links",
    "valid_from",
    "valid_to",
    "version",
    "source",
    "extra",
)


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True) if value else ""
    return value


def write_csv(
    records: Iterable[MemoryRecord], out: IO[str], progress: Callable[[int], None] | None = None
) -> int:
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    n = 0
    for r in records:
        row = r.to_dict()
        writer.writerow([_cell(row[c]) for c in COLUMNS])
        n += 1
        if progress:
            progress(n)
    return n
