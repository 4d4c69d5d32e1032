"""Live sessions in the window: talk to the chat agent in the Sessions panel and watch its
answer stream in, its retrieval become a trace, its memories appear lit in the views;
a user's correction reaches the next turn; a failing plugin is a banner, not a crash."""

from __future__ import annotations

import importlib.metadata
import json
import threading

import pytest
from PySide6 import QtGui
from PySide6.QtCore import QSettings, Qt

from gui_support import wait_idle
from memlens.gui.sessions_panel import TINTS
from memlens.plugin_api import Plugin, Session, SessionStarted
from memlens.plugin_host import ACTIVE, DISABLED, FAILED, HUNG
from memlens.plugin_host.sessions import ADDED


@pytest.fixture
def window(qtbot, tmp_path, embedder, model):
    """A window on a new store, its chat agent pointed at the local fake model."""
    from memlens.gui.main_window import MainWindow

    win = MainWindow(settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    win.embedder = embedder
    qtbot.addWidget(win)
    win.show()
    host = win.plugins.host
    qtbot.waitUntil(lambda: [a.name for a in host.agents()] == ["Chat agent"], timeout=30000)
    host.settings("chat-agent").update({"base_url": model.server.base_url})
    win.open_store(tmp_path / "store")
    qtbot.waitUntil(lambda: win.page is not None, timeout=60000)
    wait_idle(qtbot, win)
    yield win
    win.workers.wait()


def say(qtbot, panel, text: str) -> None:
    panel.input.setText(text)
    qtbot.mouseClick(panel.send_button, Qt.MouseButton.LeftButton)


def turn_done(qtbot, window, panel) -> None:
    qtbot.waitUntil(lambda: panel.send_button.isEnabled(), timeout=60000)
    wait_idle(qtbot, window)


def test_a_chat_session_streams_remembers_and_uses_the_users_correction(qtbot, window, model):
    panel = window.plugins.sessions
    page = window.page
    service = page.service
    qtbot.mouseClick(panel.new_button, Qt.MouseButton.LeftButton)
    assert window.plugins.dock.isVisible() and panel.list.count() == 1
    session_id = panel.shown

    model.decide = lambda shown, body: {"decisions": [{"op": "add", "text": "The user lives in Lyon."}]}
    model.server.gate = threading.Event()
    say(qtbot, panel, "I moved to Lyon last month.")
    # Half an answer is on screen while the model is still writing it.
    qtbot.waitUntil(lambda: "From wha ▍" in panel.transcript.toPlainText(), timeout=30000)
    assert not panel.send_button.isEnabled() and "Chat agent is answering" in panel.status.text()
    model.server.gate.set()
    remembered = "Remembered: The user lives in Lyon."
    qtbot.waitUntil(lambda: remembered in panel.transcript.toPlainText(), timeout=60000)
    turn_done(qtbot, window, panel)

    (lyon,) = [r for r in service.records(service.select()) if "Lyon" in r.text]
    # In the table, lit as written by the shown session, and lit in graph and timeline.
    assert lyon.id in page.model.ids
    assert page.model.row_tints[lyon.id].color().name() == TINTS[ADDED]  # green: it added it
    assert page.timeline.highlight == {lyon.id} and page.graph_view.highlight == {lyon.id}
    # Its retrieval is a trace of the session, listed in the Traces tab.
    (trace,) = service.traces.find(session_id=session_id)
    page.show_view("Traces")
    qtbot.waitUntil(lambda: page.traces_panel.list.count() == 1)
    assert f"agent:{session_id}" in page.traces_panel.list.item(0).text()
    panel.sig_open_trace.emit(trace.id)  # what clicking "trace …" in the transcript does
    assert page.traces_panel.trace.id == trace.id
    # Undo reaches the session's write like any other.
    qtbot.waitUntil(lambda: window.undo_action.text() == "&Undo Chat agent: remember")

    # A click on the memory in the transcript selects it in every view.
    panel.sig_select_memory.emit(lyon.id)  # what clicking its link does
    assert page.selection.ids == [lyon.id]

    # The user corrects it in the inspector; the next turn retrieves the corrected text.
    page.save(lyon.id, {"text": "The user lives in Grenoble."})
    wait_idle(qtbot, window)
    model.decide = lambda shown, body: {"decisions": [{"op": "none"}]}
    model.server.gate = None
    say(qtbot, panel, "Where do I live?")
    qtbot.waitUntil(lambda: "Nothing new to remember" in panel.transcript.toPlainText(), timeout=60000)
    turn_done(qtbot, window, panel)
    # The Traces tab, left open, listed the new retrieval as it happened.
    qtbot.waitUntil(lambda: page.traces_panel.list.count() == 2)
    last_chat = [r for r in model.server.requests if r["body"].get("stream")][-1]
    assert "[1] The user lives in Grenoble." in last_chat["body"]["messages"][0]["content"]
    assert "1. The user lives in Grenoble." in panel.transcript.toPlainText()
    assert "From what I remember: The user lives in Grenoble." in panel.transcript.toPlainText()
    assert len(service.traces.find(session_id=session_id)) == 2 and trace.id


def test_texts_in_a_transcript_are_shown_as_plain_text(qtbot, window, model):
    panel = window.plugins.sessions
    qtbot.mouseClick(panel.new_button, Qt.MouseButton.LeftButton)
    html_memory = {"op": "add", "text": "Likes <b>bold</b> & <i>tags</i>"}
    model.decide = lambda shown, body: {"decisions": [html_memory]}
    say(qtbot, panel, "<script>alert(1)</script> hello")
    qtbot.waitUntil(lambda: "Remembered:" in panel.transcript.toPlainText(), timeout=60000)
    shown = panel.transcript.toPlainText()
    assert "<script>alert(1)</script> hello" in shown
    assert "Remembered: Likes <b>bold</b> & <i>tags</i>" in shown


def test_an_unreachable_model_is_an_error_line_in_the_transcript(qtbot, window):
    window.plugins.host.settings("chat-agent").update({"base_url": "http://127.0.0.1:9/v1"})
    panel = window.plugins.sessions
    qtbot.mouseClick(panel.new_button, Qt.MouseButton.LeftButton)
    say(qtbot, panel, "hello?")
    qtbot.waitUntil(lambda: "Could not get an answer" in panel.transcript.toPlainText(), timeout=60000)
    assert "⚠ Could not get an answer from http://127.0.0.1:9/v1" in panel.transcript.toPlainText()
    assert len(window.page.service) == 0


class Hangs(Plugin):
    """Offers an agent that never answers."""

    def __init__(self, release: threading.Event) -> None:
        self.release = release

    def activate(self, context):
        plugin = self

        class Stuck:
            name, description = "Stuck", "never answers"

            def respond(self, session, text):
                plugin.release.wait(60)

        context.register_agent(Stuck())


def test_a_hung_agent_is_reported_and_the_window_stays_responsive(qtbot, window):
    release = threading.Event()
    host = window.plugins.host
    host.turn_timeout = 0.5
    host.add_plugin("hangs", Hangs(release)).result(30)
    panel = window.plugins.sessions
    qtbot.waitUntil(lambda: panel.agent_box.findText("Stuck") >= 0)
    panel.agent_box.setCurrentIndex(panel.agent_box.findText("Stuck"))
    qtbot.mouseClick(panel.new_button, Qt.MouseButton.LeftButton)
    try:
        say(qtbot, panel, "hello?")
        qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=30000)
        hung = "answering a message did not return within 0.5 s; it may be hung"
        assert window.banner.label.text() == f"Plugin hangs: {hung}"
        qtbot.waitUntil(lambda: "it may be hung" in panel.transcript.toPlainText())
        assert panel.send_button.isEnabled()  # the next message is taken
    finally:
        release.set()


class Explodes(Plugin):
    """Fails the moment it is started."""

    def activate(self, context):
        raise RuntimeError("cannot find my model files")


def test_a_plugin_that_raises_is_a_banner_and_the_window_carries_on(qtbot, window):
    window.plugins.host.add_plugin("explodes", Explodes())
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=30000)
    assert window.banner.label.text() == (
        "Plugin explodes: activating failed: RuntimeError: cannot find my model files"
    )
    panel = window.plugins.sessions
    qtbot.mouseClick(panel.new_button, Qt.MouseButton.LeftButton)
    assert panel.input.isEnabled()  # the other plugins still work


def test_the_plugins_dialog_lists_enables_and_configures_plugins(qtbot, window, tmp_path):
    from memlens.gui.plugins_dialog import PluginsDialog

    dialog = PluginsDialog(window.plugins.bridge, parent=window)
    qtbot.addWidget(dialog)
    rows = {dialog.table.item(r, 1).text(): r for r in range(dialog.table.rowCount())}
    assert {"chat-agent", "pii-guard"} <= set(rows)
    for name in ("chat-agent", "pii-guard"):
        row = rows[name]
        assert dialog.table.item(row, 0).checkState() == Qt.CheckState.Checked
        assert dialog.table.item(row, 4).text() == ACTIVE
        assert dialog.table.item(row, 3).text() == "memlens"

    # Disabling is applied and remembered.
    dialog.table.item(rows["pii-guard"], 0).setCheckState(Qt.CheckState.Unchecked)
    host = window.plugins.host
    qtbot.waitUntil(lambda: host.state("pii-guard").status == DISABLED)
    saved = json.loads((host.settings_dir / "plugins.json").read_text())
    assert saved["enabled"]["pii-guard"] is False

    # The chat agent's settings are fields; Save writes them (the key stays out of the file).
    dialog.table.selectRow(rows["chat-agent"])
    fields = dialog.settings_form.fields
    assert {"base_url", "model", "api_key", "k", "stream", "extraction"} <= set(fields)
    fields["model"].setText("llama-3.1-8b")
    fields["api_key"].setText("sk-local-123")
    qtbot.mouseClick(dialog.settings_form.save_button, Qt.MouseButton.LeftButton)
    written = (host.settings_dir / "chat-agent.json").read_text()
    assert json.loads(written)["model"] == "llama-3.1-8b" and "sk-local" not in written
    assert host.settings("chat-agent").get("api_key") == "sk-local-123"
    fields["k"].setText("many")
    qtbot.mouseClick(dialog.settings_form.save_button, Qt.MouseButton.LeftButton)
    message = dialog.settings_form.message.text()
    assert message == "Not saved: setting 'Memories per turn' must be a whole number, not 'many'"


def shown_tooltip(tip: str) -> str:
    """The text a tooltip shows: Qt renders it as rich text when it looks like HTML."""
    if not QtGui.Qt.mightBeRichText(tip):
        return tip
    doc = QtGui.QTextDocument()
    doc.setHtml(tip)
    return doc.toPlainText()


def dialog_rows(dialog) -> dict[str, int]:
    return {dialog.table.item(r, 1).text(): r for r in range(dialog.table.rowCount())}


class ExplodesInHtml(Plugin):
    """Fails the moment it is started, with markup in its error."""

    def activate(self, context):
        raise RuntimeError("cannot find <b>model.bin</b> in <i>~/models</i>")


def test_the_plugins_dialog_shows_each_plugins_version_and_last_error(qtbot, window):
    from memlens.gui.plugins_dialog import PluginsDialog

    host = window.plugins.host
    with pytest.raises(RuntimeError):
        host.add_plugin("explodes", ExplodesInHtml(), version="0.3.1").result(30)
    dialog = PluginsDialog(window.plugins.bridge, parent=window)
    qtbot.addWidget(dialog)
    rows = dialog_rows(dialog)
    row = rows["explodes"]
    cell = lambda col: dialog.table.item(row, col)  # noqa: E731
    error = "activating failed: RuntimeError: cannot find <b>model.bin</b> in <i>~/models</i>"
    assert (cell(2).text(), cell(4).text(), cell(5).text()) == ("0.3.1", FAILED, error)
    assert cell(4).foreground().color().name() == "#b91c1c"
    assert shown_tooltip(cell(5).toolTip()) == error  # the markup is shown, not applied
    assert shown_tooltip(cell(1).toolTip()) == "test_sessions_window:ExplodesInHtml"
    dialog.table.selectRow(row)
    assert dialog.error.text() == f"Last error: {error}"
    assert dialog.settings_form.message.text() == "It did not start. Untick and tick Enabled to try again."
    # The first-party plugins carry the version of the package that installed them.
    chat = rows["chat-agent"]
    assert dialog.table.item(chat, 2).text() == importlib.metadata.version("memlens")
    assert dialog.table.item(chat, 5).text() == "" and dialog.table.item(chat, 5).toolTip() == ""


class SlowToStart(Plugin):
    """Takes its time to start (a model loading, a server that does not answer)."""

    def __init__(self, release: threading.Event) -> None:
        self.release = release

    def activate(self, context):
        self.release.wait(60)


def test_a_plugin_that_hangs_while_starting_is_shown_not_responding_and_the_window_carries_on(qtbot, window):
    from memlens.gui.plugins_dialog import PluginsDialog

    host = window.plugins.host
    host.timeout = 0.5
    release = threading.Event()
    try:
        host.add_plugin("slow-start", SlowToStart(release))
        qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=30000)
        hung = "activating did not return within 0.5 s; it may be hung"
        assert window.banner.label.text() == f"Plugin slow-start: {hung}"
        dialog = PluginsDialog(window.plugins.bridge, parent=window)
        qtbot.addWidget(dialog)
        row = dialog_rows(dialog)["slow-start"]
        assert (dialog.table.item(row, 4).text(), dialog.table.item(row, 5).text()) == (HUNG, hung)
        assert dialog.table.item(row, 4).foreground().color().name() == "#b91c1c"
        dialog.table.selectRow(row)
        assert dialog.settings_form.message.text() == "It has not finished starting; it may still do so."
        # The window and the other plugins go on: a chat turn is answered meanwhile.
        panel = window.plugins.sessions
        qtbot.mouseClick(panel.new_button, Qt.MouseButton.LeftButton)
        say(qtbot, panel, "hello")
        qtbot.waitUntil(lambda: "From what I remember" in panel.transcript.toPlainText(), timeout=60000)
        # It starts after all: the dialog, still open, says so.
        release.set()
        qtbot.waitUntil(lambda: dialog.table.item(dialog_rows(dialog)["slow-start"], 4).text() == ACTIVE)
    finally:
        release.set()


class AgentNamedInHtml(Plugin):
    """Offers an agent whose description holds markup."""

    def activate(self, context):
        class Agent:
            name, description = "Marked", "Answers in <b>bold</b> & <i>italics</i>"

            def respond(self, session, text):
                pass

        context.register_agent(Agent())


def test_tooltips_of_sessions_and_agents_show_their_text_as_written(qtbot, window):
    """Session ids and agent names come from agents in other processes, descriptions from
    plugins: a tooltip must show them, tags and all, never render them."""
    host = window.plugins.host
    host.add_plugin("marked", AgentNamedInHtml()).result(30)
    panel = window.plugins.sessions
    qtbot.waitUntil(lambda: panel.agent_box.findText("Marked") >= 0)
    tip = panel.agent_box.itemData(panel.agent_box.findText("Marked"), Qt.ItemDataRole.ToolTipRole)
    assert shown_tooltip(tip) == "Answers in <b>bold</b> & <i>italics</i>"

    host.publish(SessionStarted.of(Session(id="<i>remote</i>-1", agent="<b>Bold</b> <img src=x> bot")))
    qtbot.waitUntil(lambda: panel.list.count() == 1)
    assert shown_tooltip(panel.list.item(0).toolTip()) == (
        "<i>remote</i>-1\nagent: <b>Bold</b> <img src=x> bot\nplugin: (another process)"
    )
    assert "<b>Bold</b> <img src=x> bot" in panel.list.item(0).text()
