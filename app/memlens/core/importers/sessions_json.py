"""The generic sessions JSON: any agent's conversations, in a shape documented for people.

    {"user_id": "alice", "agent_id": "helpdesk",            (optional defaults)
     "sessions": [
       {"id": "s1", "user_id": "alice", "agent_id": "helpdesk",
        "started_at": "2024-05-01T09:00:00Z",
        "turns": [{"id": "t1", "role": "user", "text": "...", "time": "...", "speaker": "Alice"},
                  {"id": "t2", "role": "assistant", "text": "..."}],
        "memories": [{"text": "Alice is vegetarian", "evidence": ["t1"],
                      "kind": "semantic", "tags": ["diet"], "importance": 0.8}]}]}

A bare list of sessions is accepted too. Required: each session's `turns` (a list), each
turn's `role` and `text` (`content` is read as `text`). Everything else is optional.
Without `memories`, every user turn becomes an episodic memory. docs/INTEROP.md has the
full description.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from memlens.core.importers.json_lines import LinedJSON, load_json
from memlens.core.importers.transcripts import ROLES, ListedMemory, Session, Turn, session_records
from memlens.core.jsonl import LineError, ParseResult
from memlens.core.record import check_importance, parse_time, utc_now

DATASET = "sessions"
PREFIX = "sessions"


class _Bad(ValueError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


def _text(value: Any, where: str, line: int) -> str:
    if not isinstance(value, str):
        raise _Bad(line, f"{where} must be a string")
    return value


def _optional_str(obj: dict, key: str, where: str, line: int) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return _text(value, f"{where}.{key}", line)


def _time(obj: dict, key: str, where: str, line: int) -> datetime | None:
    if obj.get(key) is None:
        return None
    parsed = parse_time(obj[key])
    if parsed is None:
        raise _Bad(line, f"{where}.{key}: {obj[key]!r} is not an ISO-8601 time")
    return parsed


def _turn(doc: LinedJSON, raw: Any, n: int, where: str, line: int) -> Turn:
    line = doc.line(raw, line)
    if not isinstance(raw, dict):
        raise _Bad(line, f"{where}: a turn must be an object")
    role = raw.get("role")
    if role not in ROLES:
        raise _Bad(line, f"{where}.role must be one of {', '.join(sorted(ROLES))}, not {role!r}")
    text = raw.get("text", raw.get("content"))
    return Turn(
        role=role,
        text=_text(text, f"{where}.text", line),
        id=_optional_str(raw, "id", where, line) or str(n + 1),
        speaker=_optional_str(raw, "speaker", where, line),
        time=_time(raw, "time", where, line),
        line=line,
    )


def _memory(doc: LinedJSON, raw: Any, where: str, line: int) -> ListedMemory:
    line = doc.line(raw, line)
    if not isinstance(raw, dict):
        raise _Bad(line, f"{where}: a memory must be an object")
    evidence = raw.get("evidence") or []
    if isinstance(evidence, str | int):
        evidence = [evidence]
    if not isinstance(evidence, list) or not all(isinstance(e, str | int) for e in evidence):
        raise _Bad(line, f"{where}.evidence must be a turn id or a list of turn ids")
    tags = raw.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise _Bad(line, f"{where}.tags must be a list of strings")
    try:
        importance = check_importance(raw.get("importance"))
    except ValueError as exc:
        raise _Bad(line, f"{where}.importance {exc}") from None
    text = _text(raw.get("text"), f"{where}.text", line)
    if not text.strip():
        raise _Bad(line, f"{where}.text is blank: a memory needs some text")
    return ListedMemory(
        text=text,
        evidence=tuple(str(e) for e in evidence),
        kind=_optional_str(raw, "kind", where, line) or "episodic",
        tags=tuple(tags),
        importance=importance,
        line=line,
    )


def _session(doc: LinedJSON, raw: Any, n: int, defaults: dict, errors: list[LineError]) -> Session | None:
    where = f"sessions[{n}]"
    line = doc.line(raw)
    if not isinstance(raw, dict):
        errors.append(LineError(line, f"{where}: a session must be an object"))
        return None
    try:
        turns_raw = raw.get("turns")
        if not isinstance(turns_raw, list):
            raise _Bad(line, f"{where}: needs 'turns', a list of turns")
        session = Session(
            id=_optional_str(raw, "id", where, line) or str(n + 1),
            turns=[],
            user_id=_optional_str(raw, "user_id", where, line) or defaults.get("user_id"),
            agent_id=_optional_str(raw, "agent_id", where, line) or defaults.get("agent_id"),
            started_at=_time(raw, "started_at", where, line),
            line=line,
        )
    except _Bad as bad:
        errors.append(LineError(bad.line, str(bad)))
        return None
    ok = True
    for k, turn in enumerate(turns_raw):
        try:
            session.turns.append(_turn(doc, turn, k, f"{where}.turns[{k}]", line))
        except _Bad as bad:
            errors.append(LineError(bad.line, str(bad)))
            ok = False
    seen: set[str] = set()
    for turn in session.turns:
        if turn.id in seen:
            errors.append(LineError(turn.line, f"{where}: turn id {turn.id!r} is used twice"))
            ok = False
        seen.add(turn.id)
    memories = raw.get("memories")
    if memories is not None:
        if not isinstance(memories, list):
            errors.append(LineError(line, f"{where}.memories must be a list"))
            return None
        session.memories = []
        for k, memory in enumerate(memories):
            try:
                session.memories.append(_memory(doc, memory, f"{where}.memories[{k}]", line))
            except _Bad as bad:
                errors.append(LineError(bad.line, str(bad)))
    return session if ok else None


def read_sessions_doc(doc: LinedJSON, default_time: datetime | None = None) -> ParseResult:
    data = doc.value
    defaults: dict[str, str] = {}
    if isinstance(data, dict):
        defaults = {k: data[k] for k in ("user_id", "agent_id") if isinstance(data.get(k), str)}
        data = data.get("sessions")
    if not isinstance(data, list):
        return ParseResult(errors=[LineError(1, 'expected {"sessions": [...]} or a list of sessions')])
    now = default_time or utc_now()
    result = ParseResult()
    ids: dict[str, int] = {}
    for n, raw in enumerate(data):
        session = _session(doc, raw, n, defaults, result.errors)
        if session is None:
            continue
        if session.id in ids:
            result.errors.append(
                LineError(session.line, f"session id {session.id!r} already used on line {ids[session.id]}")
            )
            continue
        ids[session.id] = session.line
        records, errors = session_records(session, DATASET, PREFIX, now)
        result.records.extend(records)
        result.errors.extend(errors)
    return result


def read_sessions_json(path: str | Path, default_time: datetime | None = None) -> ParseResult:
    doc = load_json(path)
    return doc if isinstance(doc, ParseResult) else read_sessions_doc(doc, default_time)
