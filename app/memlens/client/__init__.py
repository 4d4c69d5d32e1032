"""Stream an agent's memory activity into a running MemLens, from any Python process.

    from memlens.client import connect

    memlens = connect()                      # or connect("http://127.0.0.1:4319", token="...")
    with memlens.session("support-bot", title="ticket 4711") as s:
        s.message("user", "Where does Alice live now?")
        s.retrieval("where does alice live", [("m1", 0.82, "Alice lives in Paris")], k=5, latency_ms=12.5)
        s.memory_updated("m1", "Alice lives in Lyon", before="Alice lives in Paris")
        s.message("assistant", "In Lyon.")

Every call returns at once: events go to a bounded buffer that a background thread
posts to MemLens' ingest endpoint. Nothing here raises into the agent when MemLens is
closed, slow or refuses the token; lost events are counted (`client.dropped`), logged
once, and reported to MemLens as a notice when it answers again.

Stdlib only, no Qt, no MemLens engine: importing this costs an agent next to nothing.
`memlens.client.mem0.MemLensMemory` wraps a live `mem0.Memory` so that every add,
search, update and delete is reported without further code.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import threading
import time
import uuid
import weakref
from collections.abc import Iterable, Iterator
from typing import Any

from memlens.client import connection, wire
from memlens.client.sender import Sender

__all__ = ["Client", "Retrieval", "Session", "connect"]

log = logging.getLogger("memlens.client")


class Session:
    """One conversation of one agent, as MemLens' Sessions panel lists it. Every method
    queues one event and returns; none raises because of MemLens."""

    def __init__(self, client: Client, session_id: str, agent: str) -> None:
        self.client = client
        self.id = session_id
        self.agent = agent
        self.ended = False

    def _send(self, kind: str, **fields: Any) -> None:
        self.client._put(wire.event(kind, self.id, **fields))

    # -- talking ---------------------------------------------------------------------
    def message(self, role: str, text: str, message_id: str | None = None) -> None:
        """A whole message: role is user, assistant, system, tool, notice or error."""
        self._send(wire.MESSAGE, role=role, text=str(text), message_id=message_id or uuid.uuid4().hex[:12])

    # -- memory ----------------------------------------------------------------------
    def memory_added(
        self,
        memory_id: str,
        text: str,
        record: dict[str, Any] | None = None,
        latency_ms: float | None = None,
    ) -> None:
        """The agent stored a memory. `record`: its fields as a MemLens record dict, if known
        (id, text, user_id, agent_id, session_id, created_at, tags, extra...)."""
        self._send(
            wire.MEMORY_ADDED, memory_id=str(memory_id), text=str(text), record=record, latency_ms=latency_ms
        )

    def memory_updated(
        self, memory_id: str, text: str, before: str | None = None, latency_ms: float | None = None
    ) -> None:
        self._send(
            wire.MEMORY_UPDATED,
            memory_id=str(memory_id),
            text=str(text),
            before_text=before,
            latency_ms=latency_ms,
        )

    def memory_deleted(
        self, memory_id: str, text: str | None = None, latency_ms: float | None = None
    ) -> None:
        self._send(wire.MEMORY_DELETED, memory_id=str(memory_id), text=text, latency_ms=latency_ms)

    def retrieval(
        self,
        query: str,
        hits: Iterable[Any] = (),
        k: int | None = None,
        latency_ms: float | None = None,
    ) -> None:
        """What a retrieval returned, best first. A hit is a dict ({"id", "score", "text"};
        Mem0's "memory" and OpenInference's "content" work too) or a tuple (id, score[, text]).
        MemLens keeps it as a retrieval trace of this session."""
        try:
            items = wire.hits(hits if hits is not None else ())
            k = int(k) if k else max(len(items), 1)
        except (TypeError, ValueError) as exc:  # a hit without an id, k="five": say so, go on
            self.message("error", f"MemLens client: retrieval for {query!r} not recorded: {exc}")
            return
        self._send(wire.RETRIEVAL, query=str(query), k=k, hits=items, latency_ms=latency_ms)

    def retrieving(self, query: str, k: int | None = None) -> Retrieval:
        """Time a retrieval: `with s.retrieving(q, k=5) as r: r.hits = store.search(q)`."""
        return Retrieval(self, query, k)

    # -- the end ---------------------------------------------------------------------
    def end(self, error: str | None = None) -> None:
        if self.ended:
            return
        self.ended = True
        self.client._forget(self)
        self._send(wire.SESSION_ENDED, status="failed" if error else "ended", error=error)

    def __enter__(self) -> Session:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.end(error=f"{exc_type.__name__}: {exc}" if exc_type is not None else None)


class Retrieval:
    """A retrieval being timed; set `hits` inside the `with` block."""

    def __init__(self, session: Session, query: str, k: int | None) -> None:
        self.session, self.query, self.k = session, query, k
        self.hits: Iterable[Any] = ()
        self._start = 0.0

    def __enter__(self) -> Retrieval:
        self._start = time.perf_counter()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        latency = (time.perf_counter() - self._start) * 1000.0
        if exc_type is not None:
            self.session.message("error", f"retrieval for {self.query!r} failed: {exc_type.__name__}: {exc}")
            return
        self.session.retrieval(self.query, self.hits, self.k, latency)


class Client:
    """A connection to one MemLens. Cheap to keep for the life of the agent; `close()`
    (also run at interpreter exit) ends open sessions and delivers what it can."""

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        capacity: int = 10_000,
        timeout: float = 2.0,
        exit_timeout: float = 2.0,
        strict: bool = False,
    ) -> None:
        self.url, self._token, self._token_kept = connection.resolve(url, token)
        self._sender = Sender(self.url, self._current_token, capacity=capacity, timeout=timeout)
        if self._sender.unusable is not None:
            if strict:
                raise ValueError(self._sender.unusable)
            where = (
                "" if url else f" (from ${connection.URL_ENV})" if os.environ.get(connection.URL_ENV) else ""
            )
            log.warning(
                "MemLens client: %s%s; every event is dropped (counted in client.dropped).",
                self._sender.unusable,
                where,
            )
        self.exit_timeout = exit_timeout
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()
        self.closed = False
        _open_clients.add(self)

    def _current_token(self) -> str | None:
        # MemLens' own token is read again before each post (MemLens may make it after the
        # agent starts): its file every time, as that is cheap; the keyring, which may be
        # slow, only while there is no token or after MemLens refused the one sent (401).
        if self._token_kept:
            fresh = connection.read_token(connection.token_path())
            if fresh is None and (self._token is None or self._sender.token_refused):
                fresh = connection.read_token()
            self._token = fresh or self._token
        return self._token

    # -- sessions ----------------------------------------------------------------------
    def session(self, agent: str, title: str | None = None, session_id: str | None = None) -> Session:
        """Start a session MemLens lists live until `end()` (or the `with` block's end)."""
        sid = session_id or wire.new_session_id(agent)
        s = Session(self, sid, agent)
        with self._lock:
            self._sessions[sid] = s
        self._put(wire.session_started(sid, agent, title))
        return s

    def _forget(self, session: Session) -> None:
        with self._lock:
            self._sessions.pop(session.id, None)

    def _put(self, event: dict) -> None:
        try:
            self._sender.put(event)
        except Exception:  # never into the agent; a bug here must not cost it its answer
            log.exception("MemLens client: could not queue an event")

    # -- delivery ----------------------------------------------------------------------
    @property
    def dropped(self) -> int:
        """Events lost so far (buffer full, or refused by MemLens)."""
        return self._sender.dropped

    @property
    def sent(self) -> int:
        return self._sender.sent

    @property
    def pending(self) -> int:
        return self._sender.pending

    @property
    def last_error(self) -> str | None:
        return self._sender.last_error

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until MemLens has every event sent so far; False if it did not within `timeout`."""
        return self._sender.flush(timeout)

    def close(self, timeout: float | None = None) -> None:
        if self.closed:
            return
        self.closed = True
        with self._lock:
            open_sessions = list(self._sessions.values())
        for s in open_sessions:
            s.end()
        self._sender.close(self.exit_timeout if timeout is None else timeout)
        _open_clients.discard(self)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def connect(
    url: str | None = None,
    token: str | None = None,
    *,
    capacity: int = 10_000,
    timeout: float = 2.0,
    exit_timeout: float = 2.0,
    strict: bool = False,
) -> Client:
    """A client for MemLens' ingest endpoint.

    `url` defaults to $MEMLENS_URL, else the address the running MemLens wrote in its data
    folder, else http://127.0.0.1:4319; `token` to $MEMLENS_TOKEN, else the token MemLens
    keeps (its keyring entry or its token file). `capacity` bounds the buffer (events);
    `timeout` is per request, in seconds; at exit the client waits at most `exit_timeout`
    seconds for MemLens. Never contacts MemLens here.

    A URL that is not one (say $MEMLENS_URL=localhost:4319) is logged as one warning and
    the client drops every event, counted, so that the agent runs on; `strict=True`
    raises ValueError instead (for a setup script that should stop there).
    """
    return Client(url, token, capacity=capacity, timeout=timeout, exit_timeout=exit_timeout, strict=strict)


@contextlib.contextmanager
def session(agent: str, title: str | None = None, **connect_args: Any) -> Iterator[Session]:
    """Connect, run one session, close: for a script that is one conversation."""
    client = connect(**connect_args)
    try:
        with client.session(agent, title) as s:
            yield s
    finally:
        client.close()


_open_clients: weakref.WeakSet[Client] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for client in list(_open_clients):
        client.close()
