"""OpenAI chat-format message lists: each conversation a session, each user message a memory.

Accepted shapes:
- JSONL, one conversation per line: {"messages": [...]} (the fine-tuning format, with
  optional "id", "user", "created", "metadata") or a bare list of messages;
- JSON: a list of messages (one conversation), {"messages": [...]}, or a list of either.

A message is {"role", "content"} with content a string, a list of parts (the text parts
are read; images and audio are not memories) or null (an assistant's tool call, which may
also leave `content` out). A user message without text is an error, as a message without
`content` is: a line that would import nothing must not pass for a good one. The
user is the conversation's `user` or `metadata.user_id`, else the importer's default,
else the message's `name`. Times come from a message's `created_at`/`timestamp` or the
conversation's `created`; without them, from the import time, in message order.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from memlens.core.importers.json_lines import LinedJSON, loads_with_lines
from memlens.core.importers.transcripts import ROLES, Session, Turn, session_records
from memlens.core.jsonl import LineError, ParseResult, json_error
from memlens.core.record import parse_time, utc_now

DATASET = "openai-chat"
PREFIX = "chat"
_TEXT_PARTS = frozenset({"text", "input_text", "output_text"})


def _content_text(content: Any) -> str | None:
    """The text of a message's content; None when it is not a content value at all."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, str):
                texts.append(part)
            elif (
                isinstance(part, dict)
                and part.get("type") in _TEXT_PARTS
                and isinstance(part.get("text"), str)
            ):
                texts.append(part["text"])
            elif not (isinstance(part, dict) and isinstance(part.get("type"), str)):
                return None
        return "\n".join(texts)
    return None


def _media_only(content: Any) -> bool:
    """Content of parts none of which is text (an image, audio): valid, but no memory."""
    return isinstance(content, list) and bool(content) and _content_text(content) == ""


def _calls_a_tool(message: dict[str, Any]) -> bool:
    return bool(message.get("tool_calls") or message.get("function_call"))


def _text_problem(message: dict[str, Any], text: str) -> str | None:
    """Why a well-formed message still has no usable text, or None."""
    if "content" not in message and not _calls_a_tool(message):
        return "has no 'content'"
    if message["role"] == "user" and not text.strip() and not _media_only(message.get("content")):
        return "is a user message without text"
    return None


def _messages(raw: Any) -> tuple[list[Any], dict[str, Any]] | str:
    """(messages, conversation fields), or why `raw` is not a conversation."""
    if isinstance(raw, list):
        return raw, {}
    if isinstance(raw, dict) and isinstance(raw.get("messages"), list):
        return raw["messages"], raw
    return 'expected a list of messages or {"messages": [...]}'


def _session(
    doc: LinedJSON, raw: Any, conv_id: str, line: int, options: dict, errors: list[LineError]
) -> Session | None:
    got = _messages(raw)
    if isinstance(got, str):
        errors.append(LineError(line, got))
        return None
    messages, fields = got
    meta = fields.get("metadata") if isinstance(fields.get("metadata"), dict) else {}
    user = fields.get("user") or meta.get("user_id") or options.get("user_id")
    sid = fields.get("id") or meta.get("session_id") or meta.get("conversation_id") or conv_id
    started = parse_time(fields.get("created") or fields.get("created_at"))
    turns: list[Turn] = []
    ok = True
    for n, message in enumerate(messages):
        where = f"messages[{n}]"
        mline = doc.line(message, line)
        if not isinstance(message, dict):
            errors.append(LineError(mline, f"{where}: a message must be an object"))
            ok = False
            continue
        role = message.get("role")
        if role not in ROLES:
            errors.append(
                LineError(mline, f"{where}.role must be one of {', '.join(sorted(ROLES))}, not {role!r}")
            )
            ok = False
            continue
        text = _content_text(message.get("content"))
        if text is None:
            errors.append(LineError(mline, f"{where}.content must be a string, a list of parts, or null"))
            ok = False
            continue
        problem = _text_problem(message, text)
        if problem:
            errors.append(LineError(mline, f"{where} {problem}"))
            ok = False
            continue
        when = parse_time(message.get("created_at") or message.get("timestamp"))
        name = message.get("name") if isinstance(message.get("name"), str) else None
        turns.append(Turn(role, text, str(n + 1), speaker=name, time=when, line=mline))
    if not ok:
        return None
    return Session(
        id=str(sid),
        turns=[t for t in turns if t.role != "user" or t.text.strip()],  # an image alone is no memory
        user_id=str(user) if user else None,
        agent_id=options.get("agent_id"),
        started_at=started,
        line=line,
    )


def _conversations(path: Path, text: str) -> tuple[list[tuple[LinedJSON, Any, int]], list[LineError]]:
    """(document, conversation, line) for each conversation in the file, and parse errors."""
    if path.suffix.lower() != ".jsonl":
        try:
            doc = loads_with_lines(text)
        except json.JSONDecodeError as exc:
            if exc.msg != "Extra data" or exc.lineno < 2:
                return [], [json_error(exc)]
        else:  # one JSON document: a conversation, or a list of them
            value = doc.value
            one = isinstance(value, dict) or (
                isinstance(value, list) and bool(value) and isinstance(value[0], dict) and "role" in value[0]
            )
            items = [value] if one or not isinstance(value, list) else value
            return [(doc, item, doc.line(item, 1)) for item in items], []
    out, errors = [], []  # JSON lines: one conversation per line
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            doc = loads_with_lines(line)
        except json.JSONDecodeError as exc:
            errors.append(json_error(exc, n))
            continue
        out.append((_shift(doc, n - 1), doc.value, n))
    return out, errors


def _shift(doc: LinedJSON, by: int) -> LinedJSON:
    """A one-line document's positions moved to its line in the file."""
    return LinedJSON(doc.value, {k: v + by for k, v in doc._lines.items()}, doc._keep)


def read_openai_chat(
    path: str | Path,
    user_id: str | None = None,
    agent_id: str | None = None,
    default_time: datetime | None = None,
) -> ParseResult:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return ParseResult(errors=[LineError(0, f"the file is not UTF-8 text ({exc.reason})")])
    except OSError as exc:
        return ParseResult(errors=[LineError(0, f"cannot read the file: {exc.strerror or exc}")])
    conversations, errors = _conversations(path, text)
    result = ParseResult(errors=errors)
    options = {"user_id": user_id, "agent_id": agent_id}
    clock = default_time or utc_now()
    seen: dict[str, int] = {}
    for n, (doc, raw, line) in enumerate(conversations, start=1):
        session = _session(doc, raw, f"{path.stem}-{n}", line, options, result.errors)
        if session is None:
            continue
        if session.id in seen:
            result.errors.append(
                LineError(line, f"conversation id {session.id!r} already used on line {seen[session.id]}")
            )
            continue
        seen[session.id] = line
        records, errs = session_records(session, DATASET, PREFIX, clock)
        result.records.extend(records)
        result.errors.extend(errs)
        # Undated conversations follow one another instead of all starting at once.
        clock = max([clock, *(r.created_at for r in records if r.created_at)]) + timedelta(seconds=30)
    return result
