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


def address(url: str) -> tuple[bool, str, int | None, str]:
    """(https, host, port, path prefix) of a MemLens URL; ValueError saying what one looks like."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:  # "http://host:abc"
        port = -1
    if parts.scheme not in ("http", "https") or not parts.hostname or port == -1:
        raise ValueError(f"a MemLens URL looks like {connection.default_url()}, not {url!r}")
    return parts.scheme == "https", parts.hostname, port, parts.path.rstrip("/")


class Sender:
    """Never raises: a URL it cannot use makes it `unusable` (the reason), and then every
    event is dropped and counted, as when MemLens refuses them."""

    def __init__(
        self,
        url: str,
        token: Callable[[], str | None],
        capacity: int = 10_000,
        batch: int = 256,
        timeout: float = 2.0,
    ) -> None:
        self.url = url
        try:
            self._https, self._host, self._port, self._prefix = address(url)
            self.unusable: str | None = None
        except ValueError as exc:
            self._https, self._host, self._port, self._prefix = False, "", None, ""
            self.unusable = str(exc)
        self._token = token
        self.capacity, self.batch, self.timeout = capacity, batch, timeout
        self._batch_now = batch  # smaller while MemLens answers "busy": its queue may hold fewer
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
        self._warned = self.unusable is not None  # the client said so when it was made
        self._failing = False  # the last delivery found MemLens unreachable
        self.last_error: str | None = None
        # Why events were lost, for the notice: `last_error` moves on with each failed
        # delivery, and a 503 after the drops made the notice blame the wrong thing.
        self._drop_reason: str | None = None
        self.token_refused = False  # the last answer was 401: the token may have changed

    # -- the agent's side ---------------------------------------------------------------
    def put(self, event: dict) -> None:
        with self._cond:
            if self.unusable is not None:
                self._drop([event], self.unusable)
                return
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
        self.last_error = self._drop_reason = why
        if not self._warned:
            self._warned = True
            log.warning(
                "MemLens client: dropping events for %s (%s). The agent is not affected; the count is "
                "kept in client.dropped and reported to MemLens when it answers again.",
                self.url,
                why,
            )

    def _notices(self) -> tuple[list[dict], Counter[str]]:
        """One notice per session that lost events since the last report, and the counts
        they tell (put back if the notices do not arrive). The caller holds the lock."""
        told, self._missing = self._missing, Counter()
        out = [
            wire.event(
                wire.MESSAGE,
                sid,
                role="notice",
                text=f"MemLens client: {n} event(s) of this session were dropped ({self._drop_reason}).",
            )
            for sid, n in told.items()
            if sid
        ]
        return out, told

    def _tell(self, notices: list[dict], told: Counter[str]) -> None:
        try:
            self._post(notices)
        except _Refused as exc:  # MemLens will not take them as they are: sending again cannot help
            log.info(
                "MemLens client: the notice of dropped events was refused (HTTP %d: %s).", exc.status, exc
            )
        except Exception:  # unreachable, busy, or nonsense back: told with the next delivery
            self._disconnect()
            with self._cond:
                self._missing.update(told)

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
                batch = [self._buf.popleft() for _ in range(min(self._batch_now, len(self._buf)))]
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
                if exc.busy:  # MemLens' queue may be smaller than a batch: halve until one fits
                    self._batch_now = max(1, len(batch) // 2)
                self._wake.wait(RETRY_MIN if exc.busy else pause)  # new events do not wake it: no storm
                self._wake.clear()
                pause = pause if exc.busy else min(pause * 2, RETRY_MAX)
                continue
            pause = RETRY_MIN
            self._batch_now = min(self.batch, self._batch_now * 2)  # back to full size, not at once
            with self._cond:
                self._inflight = 0
                self._failing = False
                self._attempts += 1
                notices, told = self._notices() if self._missing else ([], Counter())
                self._cond.notify_all()
            if notices:
                self._tell(notices, told)

    def _deliver(self, batch: list[dict]) -> None:
        """Post a batch; one MemLens refuses as too large is split; refused events are dropped,
        and so are events that fail in any other way (an answer that is not HTTP as expected,
        a text that cannot be encoded): this thread must outlive any one batch."""
        try:
            self._post(batch)
        except _Unreachable:
            raise
        except _Refused as exc:
            if exc.status == 413 and len(batch) > 1:
                half = len(batch) // 2
                self._deliver(batch[:half])
                self._deliver(batch[half:])
                return
            with self._cond:
                self._drop(batch, f"MemLens refused them: HTTP {exc.status}: {exc}")
            return
        except Exception as exc:
            self._disconnect()  # whatever came back, the connection is in no state to reuse
            log.debug("MemLens client: a batch could not be sent", exc_info=True)
            with self._cond:
                self._drop(batch, f"sending them failed: {type(exc).__name__}: {exc}")
            return
        self.sent += len(batch)

    def _post(self, events: list[dict]) -> None:
        # "replace": a lone surrogate (text decoded with surrogateescape) costs one character,
        # not the batch.
        body = json.dumps({"events": events}, ensure_ascii=False, default=str).encode("utf-8", "replace")
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
        self.token_refused = resp.status == 401
        if resp.status in (200, 202):
            return
        if resp.status in (429, 502, 503, 504):
            raise _Unreachable(f"MemLens is busy (HTTP {resp.status})", busy=True)
        try:
            message = json.loads(text).get("error", text)
        except (ValueError, AttributeError, RecursionError):  # not MemLens' JSON: say what came
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
