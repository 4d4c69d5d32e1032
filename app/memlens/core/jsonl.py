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


_CLOSERS = {"{": "object", "[": "list"}


def _unclosed(text: str) -> tuple[str, int] | None:
    """The innermost object or list still open at the end of `text`, and where it opens."""
    stack: list[int] = []
    in_string = escaped = False
    for pos, char in enumerate(text):
        if escaped:
            escaped = False
        elif in_string:
            escaped = char == "\\"
            in_string = char != '"'
        elif char == '"':
            in_string = True
        elif char in _CLOSERS:
            stack.append(pos)
        elif char in "}]" and stack:
            stack.pop()
    return (_CLOSERS[text[stack[-1]]], stack[-1]) if stack else None


def json_error(exc: json.JSONDecodeError, line: int = 1) -> LineError:
    """A JSON syntax error placed where the fault is; `exc.doc` is text starting on `line`.

    Text that stops inside an object (a missing `}`) fails after its last character, which
    json reports as column 1 of the next line: it is reported as cut short instead, at
    the line (of a whole file: the line the unclosed object opens)."""
    doc = exc.doc
    opened = None if doc[exc.pos :].strip() else _unclosed(doc)
    if opened is None:
        return LineError(line + exc.lineno - 1, f"not valid JSON ({exc.msg} at column {exc.colno})")
    what, pos = opened
    if "\n" not in doc.strip():
        return LineError(line, f"not valid JSON (the line ends before the {what} is closed)")
    opens_on = line + doc.count("\n", 0, pos)
    return LineError(opens_on, f"not valid JSON (the file ends before the {what} opened here is closed)")


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
            result.errors.append(json_error(exc, n))
            continue
        if isinstance(data, dict) and not data.get("id"):
            data = {**data, "id": str(uuid.uuid4())}
        try:
            record = MemoryRecord.from_dict(data)
        except (ValueError, TypeError) as exc:
            result.errors.append(LineError(n, str(exc)))
            continue
        if not record.text.strip():  # the store refuses a blank memory; say which line
            result.errors.append(LineError(n, "field 'text' is blank: a memory needs some text"))
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
