"""Native JSONL import and export: one memory per line, the record's own fields.

Import reads and checks every line before anything is written: by default a file with
any bad line imports nothing and says which lines are wrong and why.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from memlens.core.record import MemoryRecord


@dataclass(frozen=True)
class LineError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class ParseResult:
    records: list[MemoryRecord] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)
    blank: int = 0


def parse_jsonl(lines: Iterable[str]) -> ParseResult:
    result = ParseResult()
    seen: dict[str, int] = {}
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            result.blank += 1
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            result.errors.append(LineError(n, f"not valid JSON ({exc.msg} at column {exc.colno})"))
            continue
        if isinstance(data, dict) and not data.get("id"):
            data = {**data, "id": str(uuid.uuid4())}
        try:
            record = MemoryRecord.from_dict(data)
        except (ValueError, TypeError) as exc:
            result.errors.append(LineError(n, str(exc)))
            continue
        if record.id in seen:
            result.errors.append(LineError(n, f"id {record.id!r} already used on line {seen[record.id]}"))
            continue
        seen[record.id] = n
        result.records.append(record)
    return result


def read_jsonl(path: str | Path) -> ParseResult:
    try:
        with open(path, encoding="utf-8") as fh:
            return parse_jsonl(fh)
    except UnicodeDecodeError as exc:
        return ParseResult(errors=[LineError(0, f"the file is not UTF-8 text ({exc.reason})")])


def iter_jsonl(records: Iterable[MemoryRecord]) -> Iterator[str]:
    for r in records:
        yield json.dumps(r.to_dict(), ensure_ascii=False) + "\n"


def write_jsonl(records: Iterable[MemoryRecord], out: IO[str]) -> int:
    n = 0
    for line in iter_jsonl(records):
        out.write(line)
        n += 1
    return n
