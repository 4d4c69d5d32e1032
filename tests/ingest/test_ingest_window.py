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

from gui_support import wait_idle
from memlens.client import connection
from memlens.core.session_log import SessionLog
from memlens.gui.main_window import MainWindow
from memlens.plugin_api import Session, SessionStarted
from memlens.plugin_host import ACTIVE


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
