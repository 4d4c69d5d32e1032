"""memlens.client: the JSON it sends is MemLens' own event schema, it stays light, and it
never lets MemLens' absence, slowness or refusal reach the agent."""

from __future__ import annotations

import json
import logging
import socket
import stat
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from ingest_support import free_port

from memlens.client import connect, connection, wire
from memlens.plugin_api import (
    EVENT_SCHEMA_VERSION,
    EVENT_TYPES,
    MemoryAdded,
    MessageExchanged,
    RetrievalPerformed,
    SessionEnded,
    SessionStarted,
    SessionStatus,
    events,
)
from tests_support import json_file_keyring


@pytest.fixture
def live(ingest):
    """(client, received): a client of the running endpoint, and a function returning the
    events MemLens received (read back with event_from_dict) once it has all of them."""
    harness, plugin = ingest
    client = connect(plugin.url, plugin.token)

    def received(session_id: str) -> list:
        assert client.flush(30)
        harness.wait_for(lambda: harness.of(SessionEnded, session_id))
        return [e for e in harness.events if e.session_id == session_id]

    yield client, received
    client.close()


def test_schema_is_the_plugin_apis():
    assert wire.SCHEMA_VERSION == EVENT_SCHEMA_VERSION
    assert set(wire.KINDS) == set(EVENT_TYPES) - {"message.delta"}  # the client sends whole messages
    assert tuple(events.ROLES) == wire.ROLES


def test_every_event_the_client_sends_reads_back_in_memlens(live):
    client, received = live
    s = client.session("reader-agent", title="round trip")
    s.message("user", "hello")
    s.memory_added(
        "m1", "Alice lives in Paris", record={"id": "m1", "text": "Alice lives in Paris"}, latency_ms=2
    )
    s.memory_updated("m1", "Alice lives in Lyon", before="Alice lives in Paris")
    s.memory_deleted("m1", "Alice lives in Lyon")
    s.retrieval(
        "where",
        [
            ("m1", 0.9, "Alice lives in Lyon"),
            {"id": "m2", "memory": "tea", "score": 0.5},
            {"id": "m3", "content": "x"},
        ],
        k=5,
        latency_ms=1.5,
    )
    with s.retrieving("timed", k=2) as r:
        r.hits = [{"memory_id": "m4", "distance": 0.3, "text": "y"}]
    s.end()
    events = received(s.id)
    kinds = [type(e) for e in events]
    assert kinds[0] is SessionStarted and kinds[-1] is SessionEnded
    started = events[0]
    assert (started.session.id, started.session.agent, started.session.title) == (
        s.id,
        "reader-agent",
        "round trip",
    )
    assert all(e.session_id == s.id for e in events)
    added = next(e for e in events if isinstance(e, MemoryAdded))
    assert added.record == {"id": "m1", "text": "Alice lives in Paris"}
    where, timed = [e for e in events if isinstance(e, RetrievalPerformed)]
    assert [(h.memory_id, h.rank, h.score, h.text) for h in where.hits] == [
        ("m1", 1, 0.9, "Alice lives in Lyon"),
        ("m2", 2, 0.5, "tea"),
        ("m3", 3, None, "x"),
    ]
    assert (where.k, where.latency_ms) == (5, 1.5)
    assert (timed.k, timed.hits[0].distance) == (2, 0.3) and timed.latency_ms >= 0
    assert events[-1].status == SessionStatus.ENDED


def test_bad_retrieval_arguments_become_error_lines_not_exceptions(live):
    client, received = live
    with client.session("careless-agent") as s:
        s.retrieval("q", [{"score": 0.4, "text": "no id"}])
        s.retrieval("q", [("m1", 0.9)], k="five")
        s.retrieval("q", 42)
        s.retrieval("q", None)  # nothing came back: an empty retrieval, not an error
    errors = [e.text for e in received(s.id) if isinstance(e, MessageExchanged) and e.role == "error"]
    assert len(errors) == 3
    assert "no memory id" in errors[0] and "'five'" in errors[1] and "not iterable" in errors[2]
    empty = [e for e in received(s.id) if isinstance(e, RetrievalPerformed)]
    assert len(empty) == 1 and empty[0].hits == () and empty[0].k == 1


def test_a_failing_session_block_ends_failed_and_the_exception_still_reaches_the_agent(live):
    client, received = live
    with pytest.raises(KeyError), client.session("crashy") as s:
        raise KeyError("boom")
    end = received(s.id)[-1]
    assert end.session_id == s.id and end.status == SessionStatus.FAILED and "KeyError" in end.error


def test_importing_the_client_pulls_in_nothing_heavy():
    code = (
        "import sys, memlens.client, memlens.client.mem0; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('numpy', 'chromadb', 'PySide6', 'torch', 'mem0') "
        "or m.startswith(('memlens.core', 'memlens.plugin'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_data_folder_is_memlens_own(monkeypatch, tmp_path):
    from memlens.core import workspace

    assert connection.data_dir() == workspace.data_dir()
    monkeypatch.delenv("MEMLENS_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert connection.data_dir() == workspace.data_dir()


def test_the_token_is_kept_in_the_system_keyring_when_it_has_one(tmp_path, monkeypatch):
    keyring = pytest.importorskip("keyring")
    from keyring.backends import fail

    from memlens_ingest.endpoint import IngestEndpoint

    desktop = json_file_keyring(tmp_path / "keyring.json")
    before = keyring.get_keyring()
    keyring.set_keyring(desktop)
    try:
        token = connection.ensure_token()
        assert not connection.token_path().exists()  # no file: the keyring holds it
        assert desktop.get_password("memlens-ingest", str(connection.ingest_dir())) == token
        assert connection.ensure_token() == connection.read_token() == token
        assert connection.token_location().startswith("the system keyring (service 'memlens-ingest'")
        received: list = []
        endpoint = IngestEndpoint(token, lambda item: received.append(item.event))
        client = connect(endpoint.start())  # no token given: found in the keyring
        with client.session("keyring-agent") as s:
            s.message("user", "hello")
        assert client.flush(10) and (client.sent, client.dropped) == (3, 0)
        client.close()
        endpoint.stop()

        # keyring installed with no backend that keeps secrets: the owner-only file.
        keyring.set_keyring(fail.Keyring())
        monkeypatch.setenv("MEMLENS_DATA_DIR", str(tmp_path / "headless"))
        token = connection.ensure_token()
        assert connection.read_token(connection.token_path()) == token
        assert stat.S_IMODE(connection.token_path().stat().st_mode) == 0o600
        assert connection.token_location() == str(connection.token_path())
    finally:
        keyring.set_keyring(before)


def test_events_wait_for_memlens_and_a_gap_is_reported_in_the_session(memlens_harness, caplog):
    """MemLens starts after the agent: buffered events arrive; those that overflowed the
    buffer are counted, the agent was warned once, and the session says what is missing."""
    from memlens_ingest import IngestPlugin

    port = free_port()
    caplog.set_level(logging.WARNING, logger="memlens.client")
    client = connect(f"http://127.0.0.1:{port}", capacity=5)  # token: MemLens' file, read when sending
    s = client.session("early-agent")
    for n in range(8):
        s.message("user", f"message {n}")
    assert client.flush(1) is False  # nobody listens: at once, not after the timeout
    assert client.dropped == 4  # 9 events, 5 kept
    warnings = [r.message for r in caplog.records]
    assert len(warnings) == 1 and "dropping events" in warnings[0]  # told once, not per event

    memlens_harness.activate(IngestPlugin(), "ingest", settings={"port": port, "autostart": True})
    assert client.flush(30) is True
    host = memlens_harness.host
    memlens_harness.wait_for(
        lambda: any("dropped" in m.text for m in memlens_harness.of(MessageExchanged, s.id))
    )
    texts = [m.text for m in memlens_harness.of(MessageExchanged, s.id)]
    assert texts[:4] == ["message 0", "message 1", "message 2", "message 3"]  # the ones kept, in order
    assert "4 event(s) of this session were dropped" in texts[-1]
    assert host.sessions.get(s.id).agent == "early-agent"
    client.close()
    host.plugin("ingest").stop()


def test_a_wrong_token_costs_the_events_not_the_agent(ingest, caplog):
    harness, plugin = ingest
    caplog.set_level(logging.WARNING, logger="memlens.client")
    client = connect(plugin.url, token="wrong")
    with client.session("locked-out") as s:
        s.message("user", "hello")
    assert client.flush(10) is True  # delivered as far as it goes: refused, so dropped
    assert client.dropped == 3 and client.sent == 0
    assert "HTTP 401" in caplog.records[0].message
    assert harness.host.sessions.get(s.id) is None
    client.close()


def test_a_batch_too_large_is_split_and_an_event_too_large_is_dropped(memlens_harness, caplog):
    from memlens_ingest import IngestPlugin

    plugin = memlens_harness.activate(
        IngestPlugin(), "ingest", settings={"port": 0, "autostart": True, "max_body": 4000}
    )
    caplog.set_level(logging.WARNING, logger="memlens.client")
    client = connect(plugin.url, plugin.token)
    s = client.session("chatty-agent")
    for n in range(20):  # ~300 bytes each: together far over the limit, one by one well under it
        s.message("user", f"{n:02d} " + "word " * 50)
    s.message("user", "x" * 5000)  # over the limit on its own
    s.end()
    assert client.flush(30)
    assert client.dropped == 1 and "HTTP 413" in caplog.records[0].message
    memlens_harness.wait_for(lambda: memlens_harness.of(SessionEnded, s.id))
    texts = [m.text[:2] for m in memlens_harness.of(MessageExchanged, s.id) if m.role == "user"]
    assert texts == [f"{n:02d}" for n in range(20)]  # all of them, in order
    client.close()
    plugin.stop()


def test_memlens_restarting_between_events_costs_no_event_and_no_error():
    """The client keeps its connection open; MemLens closing it (a restart) is met with one
    fresh connection at once, not a failure and a back-off."""
    from memlens_ingest.endpoint import IngestEndpoint

    received: list = []
    first = IngestEndpoint("t0ken", lambda item: received.append(item.event))
    url = first.start()
    client = connect(url, "t0ken")
    s = client.session("steady-agent")
    s.message("user", "before")
    assert client.flush(30)
    first.stop()
    second = IngestEndpoint("t0ken", lambda item: received.append(item.event), port=first.port)
    second.start()
    try:
        s.message("user", "after")
        assert client.flush(30)
        assert client.last_error is None and client.dropped == 0
        client.close()
        second.stop()
        assert [getattr(e, "text", None) for e in received] == [None, "before", "after", None]
    finally:
        second.stop()


# -- a MemLens that is slow, busy, broken or badly addressed ---------------------------------------


class ScriptedMemLens:
    """An HTTP server on 127.0.0.1 that answers each POST with what `answer(events)` says: a
    status (JSON body), or raw bytes sent as they are (an answer that is not proper HTTP).
    It keeps every request's events and status, to see what the client sent and when."""

    def __init__(self, answer) -> None:
        self.answer = answer
        self.requests: list[tuple[list[dict], int | bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                events = json.loads(body)["events"]
                reply = outer.answer(events)
                outer.requests.append((events, reply))
                if isinstance(reply, bytes):
                    self.wfile.write(reply)
                    self.close_connection = True
                    return
                data = json.dumps({"error": "busy"} if reply >= 400 else {"accepted": len(events)}).encode()
                self.send_response(reply)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def texts(self, status: int = 202) -> list[str]:
        """Texts of the messages it took (answered `status`), in order."""
        return [e.get("text") for events, s in self.requests if s == status for e in events if "text" in e]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def scripted():
    servers: list[ScriptedMemLens] = []

    def make(answer) -> ScriptedMemLens:
        servers.append(ScriptedMemLens(answer))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def timed_messages(session, n: int) -> float:
    """The slowest of `n` message() calls on the agent's thread, in seconds."""
    slowest = 0.0
    for i in range(n):
        start = time.perf_counter()
        session.message("user", f"message {i}")
        slowest = max(slowest, time.perf_counter() - start)
    return slowest


def test_a_memlens_that_accepts_and_never_answers_does_not_hold_up_the_agent():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    held: list[socket.socket] = []  # connections taken and never answered
    threading.Thread(
        target=lambda: held.extend(iter(lambda: listener.accept()[0], None)), daemon=True
    ).start()
    port = listener.getsockname()[1]
    client = connect(f"http://127.0.0.1:{port}", "t0ken", timeout=1.5)
    try:
        s = client.session("patient-agent")
        start = time.perf_counter()
        slowest = timed_messages(s, 200)
        assert time.perf_counter() - start < 0.5 and slowest < 0.25  # each request waits 1.5 s
        assert client.dropped == 0 and client.pending == 201  # kept, waiting for an answer
        start = time.perf_counter()
        client.close(timeout=0.3)  # at exit: waits as long as it was told, not for the server
        assert time.perf_counter() - start < 1.5
        deadline = time.monotonic() + 10
        while client.dropped < 202 and time.monotonic() < deadline:  # the one in flight times out
            time.sleep(0.05)
        assert client.dropped == 202 and "did not take them before the agent closed" in client.last_error
    finally:
        client.close()
        listener.close()
        for conn in held:
            conn.close()


def test_events_memlens_answers_busy_for_are_retried_until_it_takes_them():
    """The real endpoint with a queue of 5, its delivery held up: batches beyond it are
    answered 503, and the client sends them again, smaller, until all are in, in order."""
    from memlens_ingest.endpoint import IngestEndpoint

    release = threading.Event()
    delivered: list = []

    def held_deliver(item) -> None:
        release.wait(60)
        delivered.append(item.event)

    endpoint = IngestEndpoint("t0ken", held_deliver, queue_size=5)
    client = connect(endpoint.start(), "t0ken")
    try:
        s = client.session("busy-day-agent")
        assert timed_messages(s, 12) < 0.25
        deadline = time.monotonic() + 30
        while endpoint.stats.refused < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert endpoint.stats.refused >= 3  # told "busy" (503) again and again...
        assert client.dropped == 0 and client.pending > 0  # ...and nothing was given up
        release.set()
        assert client.flush(30)
        s.end()
        assert client.flush(30) and client.dropped == 0
        endpoint.stop()
        texts = [getattr(e, "text", None) for e in delivered]
        assert texts == [None] + [f"message {i}" for i in range(12)] + [None]  # all, in order
    finally:
        release.set()
        client.close()
        endpoint.stop()


def test_an_answer_that_is_not_http_costs_its_batch_not_the_client(scripted, caplog):
    """Nonsense back from the endpoint (here a length no read can take) drops that batch,
    counted with the reason; the client's thread carries on with the next events, and the
    session is told what it lost."""
    garbage = b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n"
    mended = threading.Event()  # set by the "kept" message: from then on, proper answers

    def answer(events: list[dict]) -> bytes | int:
        if any(e.get("text") == "kept" for e in events):
            mended.set()
        return 202 if mended.is_set() else garbage

    server = scripted(answer)
    caplog.set_level(logging.WARNING, logger="memlens.client")
    client = connect(server.url, "t0ken")
    s = client.session("unlucky-agent")
    s.message("user", "lost")
    assert client.flush(10)
    assert client.dropped == 2 and "sending them failed: OverflowError" in client.last_error
    assert "dropping events" in caplog.records[0].message
    s.message("user", "kept")
    assert client.flush(10) and client.sent == 1
    deadline = time.monotonic() + 10
    while len(server.texts()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    kept, notice = server.texts()
    assert kept == "kept"
    assert notice.startswith("MemLens client: 2 event(s) of this session were dropped (sending them failed")
    client.close()


def test_a_notice_of_dropped_events_that_does_not_arrive_is_sent_again(scripted):
    open_ = threading.Event()
    refused_notices: list[list[dict]] = []
    busy_answers: list[float] = []

    def answer(events: list[dict]) -> int:
        if not open_.is_set():
            busy_answers.append(time.monotonic())
            return 503  # busy while the agent fills its buffer of 2
        if any(e.get("role") == "notice" for e in events) and not refused_notices:
            refused_notices.append(events)
            return 503  # the first notice is lost on the way
        return 202

    server = scripted(answer)
    client = connect(server.url, "t0ken", capacity=2)
    s = client.session("gappy-agent")
    for n in range(5):
        s.message("user", f"message {n}")
    assert client.dropped == 4  # 6 events, 2 kept
    # Two more "busy" answers after the drops: the notice must still say why events were
    # dropped, not what the last delivery met (it said "MemLens is busy (HTTP 503)").
    seen, deadline = len(busy_answers), time.monotonic() + 10
    while len(busy_answers) < seen + 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    open_.set()
    assert client.flush(10)
    deadline = time.monotonic() + 10
    while not refused_notices and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "4 event(s)" in refused_notices[0][0]["text"]
    s.message("user", "later")  # a delivery after it brings the notice again
    assert client.flush(10)
    deadline = time.monotonic() + 10
    while len(server.texts()) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    taken = server.texts()
    assert [t for t in taken if not t.startswith("MemLens client")] == ["message 0", "later"]
    assert [t for t in taken if t.startswith("MemLens client")] == [
        "MemLens client: 4 event(s) of this session were dropped "
        "(the buffer is full: MemLens is not reachable or too slow)."
    ]
    client.close()


@pytest.mark.parametrize(
    ("url", "env"),
    [("localhost:4319", None), (None, "http://127.0.0.1:port"), ("ftp://127.0.0.1:4319", None)],
)
def test_a_url_that_is_not_one_is_one_warning_and_the_agent_runs_on(url, env, monkeypatch, caplog):
    if env is not None:
        monkeypatch.setenv("MEMLENS_URL", env)
    caplog.set_level(logging.WARNING, logger="memlens.client")
    client = connect(url, "t0ken")
    with client.session("misconfigured-agent") as s:
        s.message("user", "hello")
        s.retrieval("q", [("m1", 0.5)])
    assert client.flush(1) is True and client.dropped == 4 and client.sent == 0
    (warning,) = [r.getMessage() for r in caplog.records]
    assert warning.startswith("MemLens client: a MemLens URL looks like http://127.0.0.1:4319, not ")
    assert warning.endswith("every event is dropped (counted in client.dropped).")
    assert ("(from $MEMLENS_URL)" in warning) == (env is not None) and "\n" not in warning
    client.close()
    with pytest.raises(ValueError, match="a MemLens URL looks like"):
        connect(url, "t0ken", strict=True)
