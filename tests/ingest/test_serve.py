"""`memlens serve`: agents stream into a headless MemLens; their retrievals are traces of
the store and their sessions are kept where the window finds them later."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from ingest_support import agent_env, free_port

from memlens.client import connection
from memlens.core.session_log import UNFINISHED, SessionLog
from memlens.plugin_api import MemoryAdded, RetrievalPerformed, SessionStatus, event_from_dict
from memlens.plugin_host import SessionRegistry


def start_serve(store, port: int, *extra: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "memlens", "serve", "--store", str(store), "--port", str(port), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # wait for its "Listening" line (not a timed assert)
        line = proc.stderr.readline()
        if not line and proc.poll() is not None:
            raise AssertionError(f"memlens serve exited: {proc.stderr.read()}")
        if line.startswith("Listening for agents on "):
            return proc
    proc.kill()
    raise AssertionError("memlens serve did not start listening")


def stop(proc: subprocess.Popen) -> tuple[int, str, str]:
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, err


@pytest.mark.slow
def test_serve_records_an_agents_session_and_traces_for_the_window(tmp_path, start_agent):
    store = tmp_path / "store"
    store.mkdir()
    port = free_port()
    serve = start_serve(store, port)
    try:
        url = f"http://127.0.0.1:{port}"
        assert connection.read_endpoint() == url
        agent = start_agent("notes_agent.py", env=agent_env(url, connection.read_token()))
        sid = agent.send("Alice lives in Paris")["session"]
        agent.send("Where Alice lives?")
        agent.finish()
        wrong = urllib.request.Request(
            f"{url}/v1/events", b"{}", {"Authorization": "Bearer nope", "Content-Type": "application/json"}
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(wrong, timeout=30)
        assert refused.value.code == 401
    finally:
        code, out, err = stop(serve)
    assert code == 0, err
    # A refused request is said on the terminal: an agent with the wrong token is not silent.
    assert "refused POST /v1/events: 401 missing or wrong token" in err
    assert "Stopped. 1 session(s), 10 event(s) recorded, 2 retrieval trace(s) kept." in err
    # One line per event as it came, for the person watching the terminal.
    lines = [line for line in out.splitlines() if sid in line]
    assert "session started  agent='notes-agent'" in lines[0] and "session ended" in lines[-1]
    assert any("retrieval 'Where Alice lives?' -> 1 hit(s)" in line for line in lines)
    assert connection.read_endpoint() is None  # the address is withdrawn when it stops

    # The traces are the store's, as every trace command sees them.
    listed = subprocess.run(
        [sys.executable, "-m", "memlens", "traces", "--store", str(store), "--session", sid],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.count(f"agent:{sid}") == 2 and "'Where Alice lives?'" in listed.stdout

    # The session is kept in the store's traces file: the window replays it into its registry.
    from memlens.core.chroma_store import ChromaBackend
    from memlens.core.workspace import traces_path

    registry = SessionRegistry()
    for data in SessionLog(traces_path(ChromaBackend.open_path(store))).past():
        registry.apply(event_from_dict(data))
    (session,) = registry.sessions()
    assert (session.id, session.agent, session.status) == (sid, "notes-agent", SessionStatus.ENDED)
    kinds = [type(e) for e in registry.transcript(sid)]
    assert kinds.count(RetrievalPerformed) == 2 and kinds.count(MemoryAdded) == 2


def test_a_session_cut_short_is_shown_ended_with_the_reason(tmp_path):
    log = SessionLog(tmp_path / "traces.sqlite3")
    log.append(
        [
            {"v": 1, "kind": "session.started", "session_id": "s1", "time": "2026-01-01T10:00:00+00:00",
             "session": {"id": "s1", "agent": "a", "started_at": "2026-01-01T10:00:00+00:00"}},
            {"v": 1, "kind": "message", "session_id": "s1", "time": "2026-01-01T10:00:01+00:00",
             "role": "user", "text": "hi", "message_id": "m"},
            {"v": 1, "kind": "message.delta", "session_id": "s1", "time": "2026-01-01T10:00:02+00:00",
             "role": "assistant", "delta": "h", "message_id": "n"},
        ]
    )  # fmt: skip
    registry = SessionRegistry()
    for data in log.past():
        registry.apply(event_from_dict(data))
    (session,) = registry.sessions()
    assert session.status == SessionStatus.ENDED
    last = registry.transcript("s1")[-1]
    assert last.error == UNFINISHED
    assert len(log.events("s1")) == 2  # pieces of a streamed message are not kept


def test_session_log_keeps_the_newest_sessions(tmp_path):
    path = tmp_path / "traces.sqlite3"
    log = SessionLog(path)
    for n in range(5):
        log.append([{"kind": "message", "session_id": f"s{n}", "time": None, "role": "user", "text": "x"}])
    assert SessionLog(path, max_sessions=2).session_ids() == ["s4", "s3"]


def test_serve_on_a_taken_port_says_so(tmp_path):
    store = tmp_path / "store"
    store.mkdir()
    port = free_port()
    first = start_serve(store, port, "--quiet")
    try:
        second = subprocess.run(
            [sys.executable, "-m", "memlens", "serve", "--store", str(store), "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        stop(first)
    assert second.returncode == 1
    assert f"another MemLens already listens for agents on http://127.0.0.1:{port}" in second.stderr
    assert "--port" in second.stderr
    assert "activating failed" not in second.stderr  # said once, by the command
