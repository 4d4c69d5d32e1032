"""In the window: listen for agents from the Sessions panel, and watch an agent in another
process appear there live, its retrievals linked to their traces."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from ingest_support import AGENTS, agent_env, free_port
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QLineEdit
from test_serve import start_serve, stop

from gui_support import column_values, wait_idle
from memlens.client import connect, connection
from memlens.core.chroma_store import ChromaBackend
from memlens.core.record import MemoryRecord
from memlens.core.session_log import SessionLog
from memlens.core.store import StoredMemory
from memlens.gui.main_window import MainWindow
from memlens.gui.sessions_panel import TINTS
from memlens.plugin_api import Session, SessionStarted
from memlens.plugin_host import ACTIVE
from memlens.plugin_host.sessions import ADDED, UPDATED


@pytest.fixture
def window(qtbot, tmp_path, embedder):
    win = MainWindow(settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    win.embedder = embedder
    qtbot.addWidget(win)
    win.show()
    host = win.plugins.host
    qtbot.waitUntil(
        lambda: any(p.name == "ingest" and p.status == ACTIVE for p in host.states()), timeout=30000
    )
    host.settings("ingest").update({"port": 0})  # any free port: tests run side by side
    win.open_store(tmp_path / "store")
    qtbot.waitUntil(lambda: win.page is not None, timeout=60000)
    wait_idle(qtbot, win)
    yield win
    host.plugin("ingest").stop()
    win.workers.wait()


def test_an_external_agent_appears_live_in_the_sessions_panel(qtbot, window, start_agent, tmp_path):
    panel = window.plugins.sessions
    bar = panel.ingest_bar
    window.plugins.dock.show()
    assert bar.state.text() == "Agents in other processes: not listening." and not bar.token_row.isVisible()

    qtbot.mouseClick(bar.toggle, Qt.MouseButton.LeftButton)
    plugin = window.plugins.host.plugin("ingest")
    qtbot.waitUntil(
        lambda: bar.state.text().startswith("Listening for agents on http://127.0.0.1:"), timeout=30000
    )
    assert bar.toggle.text() == "Stop" and bar.token_row.isVisible()
    token = connection.read_token()
    assert bar.token_field.text() == token
    assert bar.token_field.echoMode() == QLineEdit.EchoMode.Password  # hidden until asked
    bar.show_token.setChecked(True)
    assert bar.token_field.echoMode() == QLineEdit.EchoMode.Normal
    assert bar.setup_text() == f"MEMLENS_URL={plugin.url}\nMEMLENS_TOKEN={token}\n"

    agent = start_agent("notes_agent.py", env=agent_env())  # finds the address and token MemLens wrote
    sid = agent.send("Alice lives in Paris")["session"]
    qtbot.waitUntil(lambda: panel.list.count() == 1 and panel.shown == sid, timeout=30000)
    agent.send("Alice likes green tea")
    agent.send("Where Alice lives?")
    qtbot.waitUntil(lambda: "Where Alice lives?" in panel.transcript.toPlainText(), timeout=30000)
    text = panel.transcript.toPlainText()
    assert "Alice lives in Paris" in text and "Noted (2 related note(s))." in text
    assert "notes-agent" in panel.list.item(0).text() and "live" in panel.list.item(0).text()
    assert "3 retrievals" in panel.list.item(0).text()
    assert "another process" in panel.status.text()  # it cannot be messaged from here
    # Each retrieval is a trace of the open collection, linked from the transcript.
    traces = window.page.service.traces.find(session_id=sid)
    assert len(traces) == 3
    assert f"trace:{traces[0].id}" in panel.transcript.toHtml()

    bar.show_token.setChecked(False)
    panel.resize(460, 640)
    qtbot.wait(50)
    assert panel.grab().save(str(tmp_path / "live-agent-session.png"))  # looked at by eye, in the docs

    agent.finish()
    qtbot.waitUntil(lambda: "ended" in panel.list.item(0).text(), timeout=30000)
    qtbot.mouseClick(bar.toggle, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bar.state.text() == "Agents in other processes: not listening.", timeout=30000)
    assert not plugin.running and connection.read_endpoint() is None


def row_colour(page, memory_id: str) -> str:
    """The background the user sees in a memory's row (its empty Tags cell, right edge)."""
    model, view = page.model, page.table
    index = model.index(model.ids.index(memory_id), model.columnCount() - 1)
    view.scrollTo(index)
    rect = view.visualRect(index)
    return view.viewport().grab().toImage().pixelColor(rect.right() - 3, rect.center().y()).name()


def test_an_agents_own_writes_reach_the_table_graph_and_timeline_through_its_events(
    qtbot, window, embedder, tmp_path
):
    """An agent writes to the store MemLens has open with its own Chroma client (MemLens'
    index knows nothing of it) and reports each write. The window reads the store again for
    the memories the events name: the new one and the changed one are in the table, tinted
    green and amber, and lit in graph and timeline, with no reload and no Follow."""
    page, panel = window.page, window.plugins.sessions
    service = page.service
    service.add([MemoryRecord(id="alice-home", text="Alice lives in Paris", user_id="alice")])
    wait_idle(qtbot, window)
    assert page.model.ids == ["alice-home"] and not window.follow_action.isChecked()
    bar = panel.ingest_bar
    qtbot.mouseClick(bar.toggle, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bar.state.text().startswith("Listening for agents on"), timeout=30000)
    plugin = window.plugins.host.plugin("ingest")
    client = connect(plugin.url, plugin.token)
    session = client.session("store-agent")

    # The agent's own handle on the store: what it writes bypasses MemLens altogether.
    agent_store = ChromaBackend.open_path(tmp_path / "store").open(service.store.collection)
    cat = MemoryRecord(
        id="alice-cat", text="Alice has a cat named Tom", user_id="alice", session_id=session.id
    )
    (home,) = agent_store.get(["alice-home"])
    moved = home.record.replace(text="Alice lives in Lyon", version=2)
    vectors = embedder.encode([cat.text, moved.text])
    agent_store.upsert([StoredMemory(cat, vectors[0]), StoredMemory(moved, vectors[1])])
    session.memory_added(cat.id, cat.text, record=cat.to_dict())
    session.memory_updated(moved.id, moved.text, before="Alice lives in Paris")
    assert client.flush(10)

    qtbot.waitUntil(lambda: "alice-cat" in page.model.ids, timeout=30000)
    qtbot.waitUntil(lambda: service.get("alice-home").text == "Alice lives in Lyon", timeout=30000)
    wait_idle(qtbot, window)
    assert sorted(page.model.ids) == ["alice-cat", "alice-home"]
    assert sorted(column_values(page, "Memory")) == ["Alice has a cat named Tom", "Alice lives in Lyon"]
    assert panel.shown == session.id
    assert set(page.model.row_tints) == {"alice-cat", "alice-home"}
    page.selection.set([])  # a selected row shows the selection's colour instead
    qtbot.waitUntil(lambda: row_colour(page, "alice-home") == TINTS[UPDATED])  # amber: changed
    assert row_colour(page, "alice-cat") == TINTS[ADDED]  # green: new
    lit = {"alice-cat", "alice-home"}
    assert page.graph_view.highlight == lit and page.timeline.highlight == lit
    client.close()


def test_opening_a_store_an_agent_holds_open_warns(qtbot, window, tmp_path):
    folder = tmp_path / "agent-store"
    agent = subprocess.Popen(
        [sys.executable, str(AGENTS / "embedded_agent.py"), str(folder)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert agent.stdout.readline().strip() == "open"
        window.open_store(folder, "agent-memories")
        qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=60000)
        message = window.banner.label.text()
        assert f"process {agent.pid}" in message and "Chroma server" in message
        assert window.page.service.store.location == str(folder)  # a warning, not a refusal
    finally:
        agent.stdin.close()
        agent.wait(30)


def test_sessions_recorded_headless_are_listed_when_the_window_opens_the_store(qtbot, tmp_path, embedder):
    """`memlens serve` heard an agent; later the window opens the same store and lists that
    session (ended), and records the next ones in the same place."""
    store = tmp_path / "store"
    store.mkdir()
    port = free_port()
    serve = start_serve(store, port, "--quiet")
    try:
        agent_proc = subprocess_agent(
            agent_env(f"http://127.0.0.1:{port}", connection.read_token()), tmp_path
        )
        assert agent_proc.returncode == 0, agent_proc.stderr
    finally:
        stop(serve)
    sid = json.loads(agent_proc.stdout.splitlines()[0])["session"]

    win = MainWindow(settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    win.embedder = embedder
    qtbot.addWidget(win)
    win.show()
    win.open_store(store)
    panel = win.plugins.sessions
    qtbot.waitUntil(lambda: win.page is not None and panel.list.count() == 1, timeout=60000)
    assert panel.shown == sid
    assert "notes-agent" in panel.list.item(0).text() and "ended" in panel.list.item(0).text()
    assert "Alice lives in Paris" in panel.transcript.toPlainText()

    # A session in this window is recorded beside it.
    session = win.plugins.host.sessions  # the registry the panel reads
    win.plugins.host.publish(SessionStarted.of(Session(id="later-1", agent="later-agent")))
    win.plugins.history.close()
    assert "later-1" in SessionLog(win.page.service.traces.path).session_ids()
    assert session.get("later-1") is not None
    win.workers.wait()


def subprocess_agent(env, cwd):
    return subprocess.run(
        [sys.executable, str(AGENTS / "notes_agent.py")],
        input="Alice lives in Paris\n",
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
