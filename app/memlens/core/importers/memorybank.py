"""MemoryBank (SiliconFriend) dialogues: a memory per thing a user told the companion.

The file maps a user name to `history` ({"YYYY-MM-DD": [{"query", "response"}, ...]})
and `meta_information` (personality, hobbies, speaking style). Each day is a session;
each query becomes an episodic memory with the companion's response as context; each
meta field becomes a profile memory. Days have no clock time: a day's turns are placed
half a minute apart from midnight UTC, in order.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from memlens.core.importers.json_lines import LinedJSON, load_json
from memlens.core.importers.transcripts import Session, Turn, session_records
from memlens.core.jsonl import LineError, ParseResult
from memlens.core.record import MemoryRecord

DATASET = "MemoryBank"
AGENT = "memorybank"
PREFIX = "memorybank"


def _day(value: str) -> datetime | None:
    try:
        return datetime.strptime(value.strip(), "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None


def _profile_records(user: str, meta: dict[str, Any], when: datetime | None) -> list[MemoryRecord]:
    out = []
    for key, value in meta.items():
        if key == "name" or not isinstance(value, str) or not value.strip():
            continue
        out.append(
            MemoryRecord(
                id=f"{PREFIX}:{user}:profile:{key}",
                text=f"{user}'s {key.replace('_', ' ')}: {value.strip()}",
                kind="profile",
                user_id=user,
                agent_id=AGENT,
                created_at=when,
                updated_at=when,
                source={"type": "import", "dataset": DATASET, "field": f"meta_information.{key}"},
            )
        )
    return out


def _user_sessions(user: str, entry: dict, doc: LinedJSON, errors: list[LineError]) -> list[Session]:
    history = entry.get("history")
    if not isinstance(history, dict):
        errors.append(LineError(doc.line(entry), f"user {user!r}: 'history' must be an object of days"))
        return []
    sessions = []
    for day, pairs in history.items():
        start = _day(day)
        where = doc.line(pairs, doc.line(history))
        if start is None:
            errors.append(LineError(where, f"user {user!r}: {day!r} is not a YYYY-MM-DD day"))
            continue
        if not isinstance(pairs, list):
            errors.append(LineError(where, f"user {user!r} {day}: expected a list of query/response pairs"))
            continue
        turns = []
        for n, pair in enumerate(pairs, start=1):
            line = doc.line(pair, where)
            if not (isinstance(pair, dict) and isinstance(pair.get("query"), str)):
                errors.append(LineError(line, f"user {user!r} {day} #{n}: needs a 'query' string"))
                continue
            turns.append(Turn("user", pair["query"], str(n), speaker=user, line=line))
            response = pair.get("response")
            if isinstance(response, str) and response.strip():
                turns.append(Turn("assistant", response, f"{n}r", speaker=AGENT, line=line))
        sessions.append(Session(f"{user}:{day}", turns, user, AGENT, start, line=where))
    return sessions


def read_memorybank_doc(doc: LinedJSON, users: set[str] | None = None) -> ParseResult:
    data = doc.value
    if not isinstance(data, dict):
        return ParseResult(errors=[LineError(1, "a MemoryBank file is a JSON object keyed by user name")])
    result = ParseResult()
    found: set[str] = set()
    for key, entry in data.items():
        user = key.strip()
        if users and user not in users:
            continue
        found.add(user)
        if not isinstance(entry, dict):
            result.errors.append(LineError(doc.line(data), f"user {user!r}: expected an object"))
            continue
        sessions = _user_sessions(user, entry, doc, result.errors)
        for session in sessions:
            records, errors = session_records(session, DATASET, PREFIX, session.started_at)
            result.records.extend(records)
            result.errors.extend(errors)
        first = min((s.started_at for s in sessions if s.started_at), default=None)
        meta = entry.get("meta_information")
        if isinstance(meta, dict):
            result.records.extend(_profile_records(user, meta, first))
    for missing in sorted((users or set()) - found):
        result.errors.append(LineError(0, f"no user {missing!r} in the file"))
    return result


def read_memorybank(path: str | Path, users: set[str] | None = None) -> ParseResult:
    doc = load_json(path)
    return doc if isinstance(doc, ParseResult) else read_memorybank_doc(doc, users)
