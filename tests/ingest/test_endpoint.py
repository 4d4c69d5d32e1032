"""The endpoint refuses what it must, says why, and accepts nothing from a bad request."""

from __future__ import annotations

import gzip
import http.client
import json
import stat
import threading
import time
from urllib.parse import urlsplit

import pytest

from memlens.client import connection, wire
from memlens.plugin_api import MessageExchanged


def post(url: str, path: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, dict, dict]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": "application/json", **(headers or {})})
        resp = conn.getresponse()
        raw = resp.read()
        return resp.status, (json.loads(raw) if raw else {}), dict(resp.getheaders())
    finally:
        conn.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def one_message(session_id: str = "s-1", text: str = "hello") -> bytes:
    return json.dumps({"events": [wire.event(wire.MESSAGE, session_id, role="user", text=text)]}).encode()


def test_token_is_made_once_and_kept_owner_only(ingest):
    _harness, plugin = ingest
    path = connection.token_path()
    assert plugin.token == connection.read_token() and len(plugin.token) >= 40
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert connection.ensure_token() == plugin.token  # not replaced on the next start
    assert connection.read_endpoint() == plugin.url  # where connect() finds it


def test_wrong_or_missing_token_is_refused_with_401_and_nothing_arrives(ingest):
    harness, plugin = ingest
    for headers in ({}, bearer("not-the-token"), {"X-MemLens-Token": plugin.token + "x"}):
        status, body, sent_headers = post(plugin.url, "/v1/events", one_message(), headers)
        assert status == 401
        assert "token" in body["error"] and plugin.token not in body["error"]
        assert sent_headers["WWW-Authenticate"].startswith("Bearer")
    status, _body, _ = post(plugin.url, "/v1/events", one_message("s-2"), {"X-MemLens-Token": plugin.token})
    assert status == 202
    harness.wait_for(lambda: harness.host.sessions.get("s-2") is not None)
    assert harness.host.sessions.get("s-1") is None


def test_oversized_body_is_refused_with_413_unread(memlens_harness):
    from memlens_ingest import IngestPlugin

    plugin = memlens_harness.activate(
        IngestPlugin(), "ingest", settings={"port": 0, "autostart": True, "max_body": 2000}
    )
    big = one_message(text="x" * 5000)
    status, body, _ = post(plugin.url, "/v1/events", big, bearer(plugin.token))
    assert status == 413 and "2000" in body["error"]
    # Packed small but large once unpacked: refused the same way.
    status, body, _ = post(
        plugin.url, "/v1/events", gzip.compress(big), {**bearer(plugin.token), "Content-Encoding": "gzip"}
    )
    assert status == 413 and "unpacked" in body["error"]
    status, _, _ = post(plugin.url, "/v1/events", one_message(), bearer(plugin.token))
    assert status == 202
    plugin.stop()


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b'{"events": [', "not valid JSON: Expecting value at line 1, column 13"),
        (b"\xff\xfe", "not UTF-8"),
        (b'"hello"', "expected an event object"),
        (b'{"events": {"kind": "message"}}', "'events' must be a list"),
        (b'[{"kind": "teleport", "session_id": "s"}]', "event 0: unknown event kind 'teleport'"),
        (b'[{"kind": "message", "session_id": "s", "role": "user"}]', "missing field 'text'"),
        (b'[{"v": 9, "kind": "message", "session_id": "s", "role": "user", "text": "t"}]', "newer than"),
    ],
)
def test_malformed_body_is_refused_with_422_saying_what_is_wrong(ingest, body, says):
    harness, plugin = ingest
    status, answer, _ = post(plugin.url, "/v1/events", body, bearer(plugin.token))
    assert status == 422
    assert says in answer["error"]
    assert harness.host.sessions.sessions() == []


def test_one_bad_event_refuses_the_whole_request(ingest):
    harness, plugin = ingest
    good = wire.event(wire.MESSAGE, "s-1", role="user", text="fine")
    bad = wire.event(wire.RETRIEVAL, "s-1", query="q", k="five")
    status, answer, _ = post(plugin.url, "/v1/events", json.dumps([good, bad]).encode(), bearer(plugin.token))
    assert status == 422 and "1 of 2 event(s) are invalid" in answer["error"] and "event 1" in answer["error"]
    status, _, _ = post(plugin.url, "/v1/events", json.dumps([good]).encode(), bearer(plugin.token))
    assert status == 202
    harness.wait_for(lambda: harness.of(MessageExchanged))
    assert [m.text for m in harness.of(MessageExchanged)] == ["fine"]


def test_other_refusals_name_the_problem(ingest):
    _harness, plugin = ingest
    status, answer, _ = post(plugin.url, "/v1/elsewhere", one_message(), bearer(plugin.token))
    assert status == 404 and "/v1/events" in answer["error"]
    status, answer, _ = post(
        plugin.url, "/v1/events", one_message(), {**bearer(plugin.token), "Content-Type": "text/csv"}
    )
    assert status == 415 and "application/json" in answer["error"]
    status, answer, _ = post(
        plugin.url, "/v1/events", b"junk", {**bearer(plugin.token), "Content-Encoding": "br"}
    )
    assert status == 415 and "gzip" in answer["error"]
    with http_conn(plugin.url) as conn:
        conn.request("GET", "/v1/health")
        resp = conn.getresponse()
        assert resp.status == 200 and json.loads(resp.read())["status"] == "ok"


def test_a_full_queue_answers_503_and_accepts_again_once_it_drains(memlens_harness):
    """The queue is bounded: while the delivering thread is held up, requests beyond it are
    told to retry (HTTP 503 with Retry-After) instead of piling up in memory."""
    from memlens_ingest.endpoint import IngestEndpoint

    release = threading.Event()
    delivered = []

    def slow_deliver(item) -> None:
        release.wait(60)
        delivered.append(item.event)

    endpoint = IngestEndpoint("t0ken", slow_deliver, queue_size=3)
    url = endpoint.start()
    try:
        assert post(url, "/v1/events", one_message(text="m0"), bearer("t0ken"))[0] == 202
        deadline = time.monotonic() + 30
        while len(endpoint.queue) and time.monotonic() < deadline:  # m0 is taken, and held
            time.sleep(0.01)
        statuses = [post(url, "/v1/events", one_message(text=f"m{n}"), bearer("t0ken"))[0] for n in (1, 2, 3)]
        assert statuses == [202, 202, 202]  # the queue holds three
        status, answer, headers = post(url, "/v1/events", one_message(text="late"), bearer("t0ken"))
        assert status == 503 and headers["Retry-After"] == "1" and "retry later" in answer["error"]
        release.set()
        endpoint.stop()
        assert [e.text for e in delivered] == ["m0", "m1", "m2", "m3"]
    finally:
        release.set()
        endpoint.stop()


class http_conn:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)

    def __enter__(self) -> http.client.HTTPConnection:
        return self.conn

    def __exit__(self, *exc) -> None:
        self.conn.close()
