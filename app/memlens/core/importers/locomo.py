"""LoCoMo (snap-research/LoCoMo) conversations: each observation becomes a memory.

An observation is a fact a speaker revealed in one session, with the dialogue turns it
rests on (`dia_id`, e.g. "D1:3"). The memory keeps those turns as its source, belongs to
the speaker, and is dated by its session ("1:56 pm on 8 May, 2023", no zone: read as
UTC), a few seconds per turn into it so a session's memories keep their order.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from memlens.core.importers.json_lines import LinedJSON, load_json
from memlens.core.jsonl import LineError, ParseResult
from memlens.core.record import MemoryRecord

AGENT = "locomo"
_SESSION_TIME = "%I:%M %p on %d %B, %Y"
_DIA = re.compile(r"D(\d+):(\d+)")
_SEPARATORS = re.compile(r"[,;]")


def _session_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(value.strip(), _SESSION_TIME).replace(tzinfo=UTC)
    except ValueError:
        return None


def _turn_index(dia_id: str) -> int:
    m = _DIA.fullmatch(dia_id.strip())
    return int(m.group(2)) if m else 0


def _evidence_ids(evidence: Any) -> list[str] | None:
    """Turn ids an observation cites: "D1:3", ["D1:3", "D1:5"], or (in the published
    file) several in one string, "D22:21, D22:23". None when it is none of these."""
    if isinstance(evidence, str):
        items = [evidence]
    elif isinstance(evidence, list) and all(isinstance(e, str) for e in evidence):
        items = evidence
    else:
        return None
    return [part.strip() for item in items for part in _SEPARATORS.split(item) if part.strip()]


def conversation_records(
    sample: dict[str, Any], doc: LinedJSON
) -> tuple[list[MemoryRecord], list[LineError]]:
    sid = sample.get("sample_id", "conv")
    conv = sample.get("conversation") or {}
    turns = {
        t["dia_id"]: t
        for key, value in conv.items()
        if re.fullmatch(r"session_\d+", key) and isinstance(value, list)
        for t in value
        if isinstance(t, dict) and "dia_id" in t
    }
    participants = [p for p in (conv.get("speaker_a"), conv.get("speaker_b")) if isinstance(p, str)]
    records, errors = [], []
    observations = sample.get("observation") or {}
    for key, by_speaker in observations.items():
        m = re.fullmatch(r"session_(\d+)_observation", key)
        if not m or not isinstance(by_speaker, dict):
            continue
        n = int(m.group(1))
        where = doc.line(by_speaker, doc.line(observations, doc.line(sample)))
        start = _session_time(conv.get(f"session_{n}_date_time"))
        if start is None:
            errors.append(
                LineError(where, f"{sid} session {n}: no readable date; its observations were skipped")
            )
            continue
        for speaker, facts in by_speaker.items():
            for k, item in enumerate(facts if isinstance(facts, list) else []):
                line = doc.line(item, doc.line(facts, where))
                what = f"{sid} session {n} {speaker} #{k + 1}"
                ids = _evidence_ids(item[1]) if isinstance(item, list) and len(item) == 2 else None
                if ids is None or not isinstance(item[0], str):
                    errors.append(LineError(line, f"{what}: not [fact, evidence turn id(s)]"))
                    continue
                if not item[0].strip():
                    errors.append(LineError(line, f"{what}: the fact is blank"))
                    continue
                missing = [d for d in ids if d not in turns]
                if missing:
                    errors.append(LineError(line, f"{what}: evidence {missing} names no turn"))
                    continue
                source_turns = [
                    {"role": turns[d]["speaker"], "text": turns[d].get("text", ""), "message_id": d}
                    for d in ids
                ]
                first = min((_turn_index(d) for d in ids), default=0)
                created = start + timedelta(seconds=30 * first + k)
                records.append(
                    MemoryRecord(
                        id=f"{sid}:s{n}:{speaker}:{k + 1}",
                        text=item[0],
                        kind="episodic",
                        user_id=speaker,
                        agent_id=AGENT,
                        session_id=f"{sid}-session-{n}",
                        created_at=created,
                        updated_at=created,
                        source={
                            "type": "conversation",
                            "dataset": "LoCoMo",
                            "participants": participants,
                            "evidence": ids,
                            "turns": source_turns,
                        },
                    )
                )
    return records, errors


def read_locomo_doc(doc: LinedJSON, conversations: set[str] | None = None) -> ParseResult:
    data = doc.value
    if not isinstance(data, list):
        return ParseResult(errors=[LineError(1, "a LoCoMo file is a JSON list of conversations")])
    result = ParseResult()
    for n, sample in enumerate(data, start=1):
        if not isinstance(sample, dict):
            result.errors.append(LineError(doc.line(data), f"conversation #{n} is not a JSON object"))
            continue
        if conversations and sample.get("sample_id") not in conversations:
            continue
        records, errors = conversation_records(sample, doc)
        result.records.extend(records)
        result.errors.extend(errors)
    if conversations:
        found = {s.get("sample_id") for s in data if isinstance(s, dict)}
        for missing in sorted(conversations - found):
            result.errors.append(LineError(0, f"no conversation {missing!r} in the file"))
    return result


def read_locomo(path: str | Path, conversations: set[str] | None = None) -> ParseResult:
    """Records from a locomo10.json-shaped file; `conversations` picks sample ids."""
    doc = load_json(path)
    return doc if isinstance(doc, ParseResult) else read_locomo_doc(doc, conversations)
