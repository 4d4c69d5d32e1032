"""Every file format MemLens imports, how each is recognised, and importing a parsed file.

The command line and the Import dialog both go through `read_import` (which reads and
checks every line, writing nothing) and `apply_import` (which refuses a file with bad
lines unless asked to skip them, refuses ids the collection already has, then embeds and
adds everything as one undoable step).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from memlens.core.importers.locomo import read_locomo
from memlens.core.importers.memorybank import read_memorybank
from memlens.core.importers.openai_chat import read_openai_chat
from memlens.core.importers.sessions_json import read_sessions_json
from memlens.core.jsonl import LineError, ParseResult, read_jsonl
from memlens.core.service import Change, MemoryService, Progress

AUTO = "auto"


@dataclass(frozen=True)
class ImportOptions:
    conversations: frozenset[str] = frozenset()  # LoCoMo sample ids, MemoryBank user names
    user_id: str | None = None  # owner of conversations that name none (OpenAI chat)
    agent_id: str | None = None


@dataclass(frozen=True)
class ImportFormat:
    name: str
    label: str
    patterns: str  # for a file dialog
    read: Callable[[Path, ImportOptions], ParseResult]


IMPORT_FORMATS: dict[str, ImportFormat] = {
    f.name: f
    for f in (
        ImportFormat("jsonl", "MemLens JSONL (one memory per line)", "*.jsonl", lambda p, o: read_jsonl(p)),
        ImportFormat(
            "locomo",
            "LoCoMo conversations",
            "*.json",
            lambda p, o: read_locomo(p, set(o.conversations) or None),
        ),
        ImportFormat(
            "memorybank",
            "MemoryBank dialogues",
            "*.json",
            lambda p, o: read_memorybank(p, set(o.conversations) or None),
        ),
        ImportFormat(
            "sessions-json", "Sessions JSON (generic transcripts)", "*.json", lambda p, o: _sessions(p, o)
        ),
        ImportFormat(
            "openai-chat",
            "OpenAI chat messages",
            "*.json *.jsonl",
            lambda p, o: read_openai_chat(p, o.user_id, o.agent_id),
        ),
    )
}


def _sessions(path: Path, options: ImportOptions) -> ParseResult:
    result = read_sessions_json(path)
    if options.user_id or options.agent_id:  # defaults for sessions that name nobody
        result.records = [
            r.replace(user_id=r.user_id or options.user_id, agent_id=r.agent_id or options.agent_id)
            for r in result.records
        ]
    return result


def _first_line(text: str) -> object:
    for line in text.splitlines():
        if line.strip():
            try:
                return json.loads(line)
            except ValueError:
                return None
    return None


def detect_format(path: str | Path) -> str:
    """The format of a file, from its first 64 KB (JSONL when nothing else fits)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            head = fh.read(65536)
    except OSError:
        return "jsonl"
    body = head.lstrip("\ufeff \t\r\n")
    first = _first_line(head)  # a JSON value on the first line: JSON lines, or one-line JSON
    if isinstance(first, dict):
        if "messages" in first:
            return "openai-chat"
        if "text" in first and "turns" not in first:
            return "jsonl"  # a MemLens record
    if isinstance(first, list) and first and all(isinstance(m, dict) and "role" in m for m in first):
        return "openai-chat"
    if body.startswith("[") and any(k in head for k in ('"qa"', '"sample_id"', '"observation"')):
        return "locomo"
    if body.startswith("{") and ('"meta_information"' in head or ('"history"' in head and '"query"' in head)):
        return "memorybank"
    if '"turns"' in head or (body.startswith("{") and '"sessions"' in head):
        return "sessions-json"
    if '"role"' in head and ('"content"' in head or '"messages"' in head):
        return "openai-chat"
    return "jsonl"


def read_import(
    path: str | Path, fmt: str = AUTO, options: ImportOptions = ImportOptions()
) -> tuple[str, ParseResult]:
    """(format used, every record and every bad line); writes nothing."""
    path = Path(path)
    if not path.is_file():
        return fmt, ParseResult(errors=[LineError(0, f"{path} is not a file")])
    name = detect_format(path) if fmt == AUTO else fmt
    if name not in IMPORT_FORMATS:
        raise ValueError(f"unknown import format {fmt!r}; known: {', '.join(IMPORT_FORMATS)}")
    return name, IMPORT_FORMATS[name].read(path, options)


class ImportRefused(Exception):
    """Nothing was imported; the message says why."""


def error_report(errors: list[LineError], source: str, limit: int | None = None) -> list[str]:
    """One line per problem, `file:line N: message` (`file: message` for the whole file)."""
    shown = errors if limit is None else errors[:limit]
    lines = [f"{source}:{e}" if e.line else f"{source}: {e.message}" for e in shown]
    if limit is not None and len(errors) > limit:
        lines.append(f"... and {len(errors) - limit} more")
    return lines


def apply_import(
    service: MemoryService,
    parsed: ParseResult,
    source: str,
    skip_invalid: bool = False,
    progress: Progress | None = None,
) -> Change:
    """Add the parsed memories as one undoable step ("Import <source>")."""
    if parsed.errors and not skip_invalid:
        raise ImportRefused(f"{len(parsed.errors)} bad line(s) in {source}; nothing was imported.")
    if not parsed.records:
        raise ImportRefused(f"No memories found in {source}; nothing was imported.")
    existing = [r.id for r in parsed.records if service.get(r.id) is not None]
    if existing:
        raise ImportRefused(
            f"{len(existing)} id(s) already exist in '{service.store.collection}' (first: {existing[0]!r}); "
            "nothing was imported."
        )
    return service.add(parsed.records, actor="import", label=f"Import {source}", progress=progress)
