"""The HTTP side: a small server on its own threads, a bounded queue, one delivering thread.

    POST /v1/events   MemLens session events as JSON (what memlens.client sends)
    POST /v1/traces   OTLP/HTTP trace export, JSON or protobuf (what OpenTelemetry sends)
    GET  /v1/health   {"status": "ok"}; needs no token

Every POST needs the per-install token (`Authorization: Bearer TOKEN`, or the header
`X-MemLens-Token`). Answers: 202/200 accepted; 401 no or wrong token; 411 no length;
413 body too large; 415 a content type it cannot read; 422 malformed, with what is
wrong; 503 the queue is full (retry later). A request is checked whole before any of it
is queued, and the queue is bounded, so a flood costs memory only up to that bound and
the window (which only sees published events) never waits on the network.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import socket
import threading
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from memlens_ingest.incoming import Item, Malformed, event_items
from memlens_ingest.otlp import Converted, convert, protobuf_request

log = logging.getLogger(__name__)

EVENTS, TRACES, HEALTH = "/v1/events", "/v1/traces", "/v1/health"
TOKEN_HEADER = "X-MemLens-Token"
DEFAULT_MAX_BODY = 4 * 1024 * 1024
DEFAULT_QUEUE = 10_000
SOCKET_TIMEOUT = 30.0  # a client that stops sending mid-request frees its thread after this


@dataclass
class Stats:
    accepted: int = 0  # events queued
    delivered: int = 0
    failed: int = 0  # events whose delivery raised (logged)
    refused: int = 0  # requests answered 4xx/5xx


class Refused(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


class BoundedQueue:
    """Items waiting to be delivered; a request's items go in all together or not at all."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: deque[Item | None] = deque()
        self._cond = threading.Condition()
        self.closed = False

    def offer(self, items: list[Item]) -> bool:
        with self._cond:
            if self.closed or len(self._items) + len(items) > self.capacity:
                return False
            self._items.extend(items)
            self._cond.notify()
            return True

    def take(self) -> Item | None:
        """The next item; None once `close()` was called and the queue ran dry."""
        with self._cond:
            while not self._items:
                self._cond.wait()
            return self._items.popleft()

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._items.append(None)
            self._cond.notify()

    def __len__(self) -> int:
        with self._cond:
            return len(self._items)


class IngestEndpoint:
    """Listens on `host:port` (port 0: any free port) and hands each item to `deliver`, in
    the order received, on one thread of its own. `collection()` names the collection
    traces are filed under (None when no store is open)."""

    def __init__(
        self,
        token: str,
        deliver: Callable[[Item], None],
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        max_body: int = DEFAULT_MAX_BODY,
        queue_size: int = DEFAULT_QUEUE,
        collection: Callable[[], str | None] = lambda: None,
    ) -> None:
        if not token:
            raise ValueError("the ingest endpoint needs a token")
        self.token = token
        self.deliver = deliver
        self.host, self.port = host, port
        self.max_body = max_body
        self.queue = BoundedQueue(queue_size)
        self.collection = collection
        self.stats = Stats()
        self._server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._connections: set[socket.socket] = set()  # open (kept-alive) client connections
        self._conn_lock = threading.Lock()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> str:
        """Bind and serve; returns the URL. OSError (the port is taken) says which port."""
        if self._server is not None:
            return self.url
        try:
            server = ThreadingHTTPServer((self.host, self.port), _handler(self))
        except OSError as exc:
            raise OSError(
                exc.errno, f"cannot listen on {self.host}:{self.port}: {exc.strerror or exc}"
            ) from None
        server.daemon_threads = True
        self._server = server
        self.port = server.server_address[1]
        self._threads = [
            threading.Thread(target=server.serve_forever, name="memlens-ingest http", daemon=True),
            threading.Thread(target=self._deliver_loop, name="memlens-ingest deliver", daemon=True),
        ]
        for t in self._threads:
            t.start()
        return self.url

    def stop(self, wait: float = 5.0) -> None:
        """Stop listening, deliver what was accepted (waiting at most `wait` s), then stop."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        with self._conn_lock:  # kept-alive connections would otherwise outlive the server
            for conn in self._connections:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        self.queue.close()
        for t in self._threads:
            t.join(wait)
        self._threads = []

    def _deliver_loop(self) -> None:
        while (item := self.queue.take()) is not None:
            try:
                self.deliver(item)
                self.stats.delivered += 1
            except Exception:  # one bad event must not stop the others
                self.stats.failed += 1
                log.exception("could not deliver a %s event", item.event.KIND)

    # -- one request, checked -------------------------------------------------------------
    def authorized(self, headers: Any) -> bool:
        given = headers.get(TOKEN_HEADER) or ""
        auth = headers.get("Authorization") or ""
        if auth[:7].lower() == "bearer ":
            given = auth[7:].strip()
        return bool(given) and hmac.compare_digest(given.encode(), self.token.encode())

    def items(self, path: str, content_type: str, body: bytes) -> tuple[list[Item], Converted | None]:
        if path == TRACES and content_type == "application/x-protobuf":
            try:
                data = protobuf_request(body)
            except LookupError as exc:
                raise Refused(415, str(exc)) from None
        elif content_type not in ("", "application/json", "text/json"):
            wanted = "application/json" + (" or application/x-protobuf" if path == TRACES else "")
            raise Refused(415, f"cannot read Content-Type {content_type!r}; send {wanted}")
        else:
            data = _json(body)
        if path == EVENTS:
            return event_items(data), None
        converted = convert(data, self.collection())
        return converted.items, converted


def _json(body: bytes) -> Any:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Malformed(f"body is not UTF-8 text (byte {exc.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise Malformed(
            f"body is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None


def _gunzip(body: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj(wbits=31)
    try:
        out = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise Malformed(f"body is not valid gzip: {exc}") from None
    if len(out) > limit:
        raise Refused(413, f"body is larger than {limit} bytes once unpacked")
    return out


def _handler(endpoint: IngestEndpoint) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "MemLens-ingest"
        timeout = SOCKET_TIMEOUT

        def setup(self) -> None:
            super().setup()
            with endpoint._conn_lock:
                endpoint._connections.add(self.connection)

        def finish(self) -> None:
            with endpoint._conn_lock:
                endpoint._connections.discard(self.connection)
            super().finish()

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("%s %s", self.address_string(), format % args)

        def _answer(
            self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
        ) -> None:
            body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)

        def _refuse(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
            endpoint.stats.refused += 1
            log.info(
                "refused %s %s: %s %s", self.command, self.path, status, message, extra={"refused": status}
            )
            self._answer(status, {"error": message}, headers)

        def do_GET(self) -> None:
            if urlsplit(self.path).path == HEALTH:
                self._answer(200, {"status": "ok", "service": "memlens", "queued": len(endpoint.queue)})
            else:
                self._refuse(404, f"nothing at {self.path}; POST to {EVENTS} or {TRACES}")

        def do_POST(self) -> None:
            path = urlsplit(self.path).path
            try:
                self._post(path)
            except Refused as exc:
                self._refuse(exc.status, str(exc), exc.headers)
            except Malformed as exc:
                self._refuse(422, str(exc))

        def _post(self, path: str) -> None:
            if path not in (EVENTS, TRACES):
                self.close_connection = True  # the body stays unread
                raise Refused(404, f"nothing at {path}; POST to {EVENTS} or {TRACES}")
            if not endpoint.authorized(self.headers):
                self.close_connection = True
                raise Refused(
                    401,
                    "missing or wrong token: send 'Authorization: Bearer TOKEN' with the token MemLens "
                    "shows in its Sessions panel (or `memlens serve --show-token` prints)",
                    {"WWW-Authenticate": 'Bearer realm="memlens"'},
                )
            body = self._body()
            content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            items, converted = endpoint.items(path, content_type, body)
            if not endpoint.queue.offer(items):
                why = "stopping" if endpoint.queue.closed else f"busy ({len(endpoint.queue)} events waiting)"
                raise Refused(503, f"MemLens is {why}; retry later", {"Retry-After": "1"})
            endpoint.stats.accepted += len(items)
            if path == EVENTS:
                self._answer(202, {"accepted": len(items)})
                return
            payload: dict[str, Any] = {}
            if converted is not None and converted.rejected:
                payload["partialSuccess"] = {
                    "rejectedSpans": str(converted.rejected),
                    "errorMessage": "; ".join(converted.problems[:10]),
                }
            if content_type == "application/x-protobuf":
                self._protobuf_ok()
            else:
                self._answer(200, payload)

        def _protobuf_ok(self) -> None:
            # An empty ExportTraceServiceResponse is zero bytes.
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _body(self) -> bytes:
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                self.close_connection = True
                raise Refused(411, "send the body with a Content-Length, not chunked")
            raw = self.headers.get("Content-Length")
            if raw is None:
                self.close_connection = True
                raise Refused(411, "a Content-Length header is required")
            try:
                length = int(raw)
                if length < 0:
                    raise ValueError
            except ValueError:
                self.close_connection = True
                raise Refused(400, f"Content-Length {raw!r} is not a size") from None
            if length > endpoint.max_body:
                self.close_connection = True  # not read: the connection cannot be reused
                raise Refused(413, f"body of {length} bytes is larger than the limit of {endpoint.max_body}")
            body = self.rfile.read(length)
            if len(body) < length:
                self.close_connection = True
                raise Refused(400, f"body ended after {len(body)} of {length} bytes")
            encoding = (self.headers.get("Content-Encoding") or "identity").lower()
            if encoding == "gzip":
                return _gunzip(body, endpoint.max_body)
            if encoding not in ("identity", ""):
                raise Refused(415, f"cannot read Content-Encoding {encoding!r}; send gzip or nothing")
            return body

    return Handler


def probe(url: str, timeout: float = 1.0) -> bool:
    """True when a MemLens ingest endpoint answers at `url` (used to explain a taken port)."""
    import urllib.request

    with (
        contextlib.suppress(OSError, ValueError),
        urllib.request.urlopen(url.rstrip("/") + HEALTH, timeout=timeout) as r,
    ):
        return json.loads(r.read()).get("service") == "memlens"
    return False
