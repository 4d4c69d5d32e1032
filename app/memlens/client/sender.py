"""A bounded buffer and one background thread that posts events to MemLens in batches.

The agent's thread only appends to the buffer (microseconds, never the network). When
MemLens is closed or slow the buffer fills; past its capacity new events are dropped and
counted, the agent is told once (one log warning), and when MemLens answers again each
affected session gets a notice in its transcript saying how many events are missing.
Nothing here raises into the caller.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from urllib.parse import urlsplit

from memlens.client import connection, wire

log = logging.getLogger("memlens.client")

EVENTS_PATH = "/v1/events"
RETRY_MIN, RETRY_MAX = 0.2, 5.0


class _Refused(Exception):
    """MemLens answered, and said no: these events will never be accepted as they are."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _Unreachable(Exception):
    """No answer (`busy` False), or "try again later" (503: MemLens is there, catching up)."""

    def __init__(self, message: str, busy: bool = False) -> None:
        super().__init__(message)
        self.busy = busy


class Sender:
    def __init__(
        self,
        url: str,
        token: Callable[[], str | None],
        capacity: int = 10_000,
        batch: int = 256,
        timeout: float = 2.0,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"a MemLens URL looks like {connection.default_url()}, not {url!r}")
        self.url = url
        self._https = parts.scheme == "https"
        self._host, self._port = parts.hostname, parts.port
        self._prefix = parts.path.rstrip("/")
        self._token = token
        self.capacity, self.batch, self.timeout = capacity, batch, timeout
        self._buf: deque[dict] = deque()
        self._cond = threading.Condition()
        self._inflight = 0
        self._closing = False
        self._wake = threading.Event()  # set by close() and flush(): retry now
        self._attempts = 0
        self._thread: threading.Thread | None = None
        self._conn: http.client.HTTPConnection | None = None
        self.sent = 0
        self.dropped = 0
        self._missing: Counter[str] = Counter()  # session id -> events dropped, not yet told
        self._warned = False
        self._failing = False  # the last delivery found MemLens unreachable
        self.last_error: str | None = None

    # -- the agent's side ---------------------------------------------------------------
    def put(self, event: dict) -> None:
        with self._cond:
            if self._closing or len(self._buf) + self._inflight >= self.capacity:
                self._drop([event], "the buffer is full: MemLens is not reachable or too slow")
                return
            self._buf.append(event)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="memlens-client", daemon=True)
                self._thread.start()
            self._cond.notify()

    @property
    def pending(self) -> int:
        with self._cond:
            return len(self._buf) + self._inflight

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every buffered event is delivered (or dropped); False on timeout, and
        at once while MemLens is unreachable (the events stay buffered)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            tried = None  # the attempt count when flush asked for one more try
            while self._buf or self._inflight:
                left = deadline - time.monotonic()
                if left <= 0 or self._thread is None or not self._thread.is_alive():
                    return False
                if self._failing:
                    if tried is not None and self._attempts > tried:
                        return False  # tried once more for this flush: still unreachable
                    if tried is None:
                        tried = self._attempts
                        self._wake.set()  # cut the back-off short: MemLens may be back
                self._cond.wait(min(left, 0.05))
            return True

    def close(self, timeout: float = 2.0) -> None:
        """Deliver what can be delivered within `timeout`, then stop; what is left is dropped."""
        self.flush(timeout)
        with self._cond:
            self._closing = True
            self._wake.set()
            left = list(self._buf)
            self._buf.clear()
            if left:
                self._drop(left, "MemLens did not take them before the agent closed")
            self._cond.notify_all()
        if self.dropped:  # the warning came with the first drop; this is the total, quietly
            log.info("MemLens client: %d event(s) were dropped in all (%s).", self.dropped, self.last_error)

    # -- dropping -----------------------------------------------------------------------
    def _drop(self, events: list[dict], why: str) -> None:
        """Count lost events (caller holds the lock); warn the first time only."""
        self.dropped += len(events)
        self._missing.update(e.get("session_id", "") for e in events)
        self.last_error = why
        if not self._warned:
            self._warned = True
            log.warning(
                "MemLens client: dropping events for %s (%s). The agent is not affected; the count is "
                "kept in client.dropped and reported to MemLens when it answers again.",
                self.url,
                why,
            )

    def _notices(self) -> list[dict]:
        """One notice per session that lost events since the last report (caller holds the lock)."""
        out = [
            wire.event(
                wire.MESSAGE,
                sid,
                role="notice",
                text=f"MemLens client: {n} event(s) of this session were dropped ({self.last_error}).",
            )
            for sid, n in self._missing.items()
            if sid
        ]
        self._missing.clear()
        return out

    # -- the background thread ----------------------------------------------------------
    def _run(self) -> None:
        pause = RETRY_MIN
        while True:
            with self._cond:
                while not self._buf and not self._closing:
                    self._cond.wait()
                if not self._buf:  # closing, and nothing left
                    self._disconnect()
                    return
                batch = [self._buf.popleft() for _ in range(min(self.batch, len(self._buf)))]
                self._inflight = len(batch)
            try:
                self._deliver(batch)
            except _Unreachable as exc:
                with self._cond:
                    self._inflight = 0
                    self._failing = not exc.busy
                    self.last_error = str(exc)
                    if self._closing:
                        self._drop(batch, f"MemLens did not take them before the agent closed ({exc})")
                    else:
                        self._buf.extendleft(reversed(batch))  # first out, first in again
                    self._attempts += 1
                    self._cond.notify_all()
                self._wake.wait(RETRY_MIN if exc.busy else pause)  # new events do not wake it: no storm
                self._wake.clear()
                pause = pause if exc.busy else min(pause * 2, RETRY_MAX)
                continue
            pause = RETRY_MIN
            with self._cond:
                self._inflight = 0
                self._failing = False
                self._attempts += 1
                notices = self._notices() if self._missing else []
                self._cond.notify_all()
            if notices:
                with contextlib.suppress(_Unreachable, _Refused):
                    self._post(notices)

    def _deliver(self, batch: list[dict]) -> None:
        """Post a batch; one MemLens refuses as too large is split; refused events are dropped."""
        try:
            self._post(batch)
            self.sent += len(batch)
        except _Refused as exc:
            if exc.status == 413 and len(batch) > 1:
                half = len(batch) // 2
                self._deliver(batch[:half])
                self._deliver(batch[half:])
                return
            with self._cond:
                self._drop(batch, f"MemLens refused them: HTTP {exc.status}: {exc}")

    def _post(self, events: list[dict]) -> None:
        body = json.dumps({"events": events}, ensure_ascii=False, default=str).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        token = self._token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        for attempt in (1, 2):
            reused = self._conn is not None
            try:
                conn = self._connection()
                conn.request("POST", self._prefix + EVENTS_PATH, body=body, headers=headers)
                resp = conn.getresponse()
                text = resp.read().decode("utf-8", "replace")
                break
            except (OSError, http.client.HTTPException) as exc:
                self._disconnect()
                # A kept-alive connection MemLens closed while idle: one fresh try, at once.
                if not (reused and attempt == 1):
                    raise _Unreachable(f"cannot reach MemLens at {self.url}: {exc}") from None
        if resp.status in (200, 202):
            return
        if resp.status in (429, 502, 503, 504):
            raise _Unreachable(f"MemLens is busy (HTTP {resp.status})", busy=True)
        try:
            message = json.loads(text).get("error", text)
        except (ValueError, AttributeError):
            message = text
        raise _Refused(resp.status, str(message)[:500])

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._conn = cls(self._host, self._port, timeout=self.timeout)
        return self._conn

    def _disconnect(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
