"""Live sessions, kept: every session event as JSON in the store's traces file.

Sessions are what agents did while MemLens listened (messages, retrievals, memory
writes). Kept beside the retrieval traces they point to, they outlive the process that
heard them: `memlens serve` records agents headless, and the window shows those
sessions when it opens the same store. Events are stored in the JSON form of
`memlens.plugin_api.events` (this module only needs `to_dict()` and a "session_id").

Writes happen on a thread of the recorder's own, so whoever publishes an event (the
GUI thread, an agent's worker) never waits on the disk.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from memlens.core.record import parse_time
from memlens.core.sqlite_file import SqliteFile

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS session_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL,
    ts REAL NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS session_events_session ON session_events(session_id, seq);
"""
DEFAULT_MAX_SESSIONS = 1000
#: Pieces of a message being streamed: the whole message follows, so they are not kept.
TRANSIENT_KINDS = frozenset({"message.delta"})
UNFINISHED = "no end was recorded (the agent or MemLens stopped first)"


class JsonEvent(Protocol):
    KIND: str

    def to_dict(self) -> dict[str, Any]: ...


class SessionLog(SqliteFile):
    """Session events in one SQLite file (the store's traces file: sessions follow the store).

    Keeps the newest `max_sessions` sessions, pruned when opened.
    """

    def __init__(self, path: str | Path, max_sessions: int | None = DEFAULT_MAX_SESSIONS) -> None:
        super().__init__(path, _SCHEMA)
        self.max_sessions = max_sessions
        if max_sessions is not None:
            self.prune(max_sessions)

    def append(self, events: Sequence[dict[str, Any]]) -> int:
        """Store event dicts (as `Event.to_dict()` gives them); returns how many were kept."""
        rows = []
        for data in events:
            if data.get("kind") in TRANSIENT_KINDS:
                continue
            when = parse_time(data.get("time"))
            rows.append(
                (
                    str(data["session_id"]),
                    when.timestamp() if when else 0.0,
                    str(data.get("kind", "")),
                    json.dumps(data, ensure_ascii=False, default=str),
                )
            )
        if rows:
            with self._tx() as db:
                db.executemany(
                    "INSERT INTO session_events(session_id, ts, kind, data) VALUES (?,?,?,?)", rows
                )
        return len(rows)

    def session_ids(self) -> list[str]:
        """Newest first (by the first event of each)."""
        return [
            r[0]
            for r in self._rows(
                "SELECT session_id FROM session_events GROUP BY session_id ORDER BY min(seq) DESC"
            )
        ]

    def events(self, session_id: str | None = None) -> list[dict[str, Any]]:
        """Event dicts in the order they were recorded (one session's, or every one's)."""
        if session_id is None:
            rows = self._rows("SELECT data FROM session_events ORDER BY seq")
        else:
            rows = self._rows(
                "SELECT data FROM session_events WHERE session_id=? ORDER BY seq", (session_id,)
            )
        return [json.loads(r[0]) for r in rows]

    def past(self) -> Iterator[dict[str, Any]]:
        """Every recorded event, oldest first, and for each session that has no end an
        ended event after its last one: whoever recorded it has stopped listening."""
        last: dict[str, dict[str, Any]] = {}
        ended: set[str] = set()
        for data in self.events():
            sid = data["session_id"]
            last[sid] = data
            if data.get("kind") == "session.ended":
                ended.add(sid)
            yield data
        for sid, data in last.items():
            if sid not in ended:
                yield {
                    "v": data.get("v", 1),
                    "kind": "session.ended",
                    "session_id": sid,
                    "time": data.get("time"),
                    "status": "ended",
                    "error": UNFINISHED,
                }

    def prune(self, max_sessions: int) -> int:
        """Drop all but the newest `max_sessions` sessions; returns how many were dropped."""
        doomed = self.session_ids()[max_sessions:]
        with self._tx() as db:
            for start in range(0, len(doomed), 500):
                chunk = doomed[start : start + 500]
                db.execute(
                    f"DELETE FROM session_events WHERE session_id IN ({','.join('?' * len(chunk))})", chunk
                )
        return len(doomed)


class SessionRecorder:
    """A host listener (`host.add_listener(recorder)`) that appends every event to a
    `SessionLog` from a thread of its own. `close()` writes what is still queued."""

    _STOP = object()

    def __init__(self, session_log: SessionLog, batch: int = 200) -> None:
        self.log = session_log
        self.batch = batch
        self.written = 0
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="memlens session recorder", daemon=True)
        self._thread.start()

    def __call__(self, event: JsonEvent) -> None:
        if event.KIND not in TRANSIENT_KINDS:
            self._queue.put(event)

    def close(self, wait: float = 5.0) -> None:
        self._queue.put(self._STOP)
        self._thread.join(wait)

    def _run(self) -> None:
        while True:
            items = [self._queue.get()]
            while len(items) < self.batch:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = any(i is self._STOP for i in items)
            events = [i.to_dict() for i in items if i is not self._STOP]
            try:
                self.written += self.log.append(events)
            except Exception:  # the window must go on; the sessions stay on screen
                log.exception("could not record %d session event(s) in %s", len(events), self.log.path)
            if stop:
                return


def restore(session_log: SessionLog, registry: Any, decode: Any) -> int:
    """Apply the log's past sessions to a registry (`apply`, `get`), skipping sessions it
    already knows (a store opened again); `decode` turns a dict into an event
    (`memlens.plugin_api.event_from_dict`). A line that no longer reads is skipped.
    Returns how many sessions were restored."""
    known = {sid for sid in session_log.session_ids() if registry.get(sid) is not None}
    restored: set[str] = set()
    for data in session_log.past():
        sid = data.get("session_id")
        if sid in known:
            continue
        try:
            registry.apply(decode(data))
        except ValueError as exc:
            log.warning("skipped a recorded session event of %s: %s", sid, exc)
            continue
        restored.add(sid)
    return len(restored)
