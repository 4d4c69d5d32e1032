"""The plugin host: discovery without import, enable/disable remembered, errors and hangs
isolated, events taken from any thread."""

from __future__ import annotations

import json
import re
import sys
import threading
import uuid
from pathlib import Path

import pytest

from memlens.plugin_api import (
    API_VERSION,
    MemoryAdded,
    MessageExchanged,
    Plugin,
    Session,
    SessionStarted,
    Setting,
)
from memlens.plugin_host import ACTIVE, DISABLED, FAILED, PluginHost, PluginTimeout, discover


def install_fake_distribution(site: Path, plugin_source: str, name: str = "boom") -> str:
    """A real installed package (dist-info with an entry point) in `site`; returns its module name."""
    module = f"memlens_test_{name}_{uuid.uuid4().hex[:8]}"
    (site / f"{module}.py").write_text(plugin_source, encoding="utf-8")
    dist = site / f"{module}-2.5.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 2.5\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text(f"[memlens.plugins]\n{name} = {module}:Plugin\n", encoding="utf-8")
    return module


@pytest.fixture
def site(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "site"
    path.mkdir()
    monkeypatch.syspath_prepend(str(path))
    return path


def test_first_party_plugins_are_found_from_metadata():
    entries, warnings = discover()
    by_name = {e.name: e for e in entries}
    assert by_name["chat-agent"].target == "memlens_chat_agent:ChatAgentPlugin"
    assert by_name["pii-guard"].distribution == "memlens" and by_name["pii-guard"].first_party
    assert warnings == []


def test_a_disabled_plugin_is_listed_but_never_imported(site, tmp_path):
    module = install_fake_distribution(site, "raise RuntimeError('boom at import')\n")
    settings = tmp_path / "plugin-settings"
    settings.mkdir()
    (settings / "plugins.json").write_text(json.dumps({"enabled": {"boom": False}}), encoding="utf-8")
    host = PluginHost(settings)
    futures = host.start()
    for f in futures:
        f.result(30)
    boom = host.state("boom")
    assert (boom.version, boom.enabled, boom.status) == ("2.5", False, DISABLED)
    assert module not in sys.modules
    assert not [n for n in host.notices if n.plugin == "boom"]

    # The same plugin enabled is imported, and its import error is a notice, not a crash.
    with pytest.raises(RuntimeError, match="boom at import"):
        host.set_enabled("boom", True).result(30)
    boom = host.state("boom")
    assert boom.status == FAILED and "RuntimeError: boom at import" in boom.last_error
    assert any("boom at import" in n.text for n in host.notices if n.plugin == "boom")
    # Remembered for the next start.
    assert json.loads((settings / "plugins.json").read_text())["enabled"]["boom"] is True
    host.shutdown()


def test_third_party_plugins_start_disabled_until_the_user_enables_them(site):
    source = "class Plugin:\n    def activate(self, ctx):\n        pass\n"
    module = install_fake_distribution(site, source, "quiet")
    host = PluginHost(None)
    host.start()
    assert host.state("quiet").status == DISABLED and module not in sys.modules
    host.set_enabled("quiet", True).result(30)
    assert host.state("quiet").status == ACTIVE and module in sys.modules
    host.shutdown()


class Raises(Plugin):
    def activate(self, context):
        raise ValueError("no endpoint configured")


class Agent:
    name = "Echo"
    description = "says it back"

    def __init__(self, behaviour):
        self.behaviour = behaviour

    def respond(self, session, text):
        self.behaviour(session, text)


class AgentPlugin(Plugin):
    def __init__(self, behaviour):
        self.behaviour = behaviour

    def activate(self, context):
        context.register_agent(Agent(self.behaviour))


def echo(session, text):
    session.say("assistant", text.upper())


def test_a_plugin_that_raises_on_activation_is_marked_and_others_run(memlens_host):
    with pytest.raises(ValueError):
        memlens_host.add_plugin("broken", Raises()).result(30)
    memlens_host.add_plugin("echo", AgentPlugin(echo)).result(30)
    assert memlens_host.state("broken").status == FAILED
    assert memlens_host.state("broken").last_error == "activating failed: ValueError: no endpoint configured"
    assert [n.text for n in memlens_host.notices] == [
        "Plugin broken: activating failed: ValueError: no endpoint configured"
    ]
    assert memlens_host.state("echo").status == ACTIVE
    session = memlens_host.start_session("Echo")
    memlens_host.send(session.id, "hi").result(30)
    assert session.messages[-1].text == "HI"


def test_an_agent_that_raises_reports_in_the_transcript_and_the_session_goes_on(memlens_harness):
    def flaky(session, text):
        if text == "crash":
            raise KeyError("missing thing")
        echo(session, text)

    memlens_harness.activate(AgentPlugin(flaky), name="flaky")
    session = memlens_harness.start_session("Echo")
    with pytest.raises(KeyError):
        memlens_harness.send(session, "crash")
    assert memlens_harness.transcript(session.id) == [
        ("user", "crash"),
        ("error", "The agent failed: KeyError: 'missing thing'"),
    ]
    error = memlens_harness.host.state("flaky").last_error
    assert error == "answering a message failed: KeyError: 'missing thing'"
    memlens_harness.send(session, "again")
    assert memlens_harness.transcript(session.id)[-1] == ("assistant", "AGAIN")


def test_a_hung_agent_becomes_a_notice_and_the_next_message_is_taken(memlens_service):
    release = threading.Event()

    def hangs(session, text):
        if text == "hang":
            release.wait(60)
        echo(session, text)

    host = PluginHost(None, discover_entries=lambda: ([], []), turn_timeout=0.3)
    host.set_service(memlens_service)
    host.add_plugin("sleepy", AgentPlugin(hangs)).result(30)
    session = host.start_session("Echo")
    try:
        with pytest.raises(PluginTimeout, match=r"did not return within 0\.3 s"):
            host.send(session.id, "hang").result(30)
        hung = "answering a message did not return within 0.3 s; it may be hung"
        assert host.state("sleepy").last_error == hung
        assert host.notices[-1].text == f"Plugin sleepy: {hung}"
        transcript = host.sessions.transcript(session.id)
        lines = [(e.role, e.text) for e in transcript if isinstance(e, MessageExchanged)]
        assert lines[-1] == ("error", "The agent did not answer within 0.3 s; it may be hung.")
        host.send(session.id, "hello").result(30)
        assert session.messages[-1].text == "HELLO"
    finally:
        release.set()
        host.shutdown()


def test_a_hung_or_raising_event_handler_is_reported_and_later_events_still_arrive(memlens_service):
    release = threading.Event()
    seen: list[str] = []

    class Watcher(Plugin):
        def activate(self, context):
            context.subscribe(self.on_event, kinds={"memory.added"})

        def on_event(self, event):
            if event.text == "hang":
                release.wait(60)
            if event.text == "raise":
                raise RuntimeError("cannot handle")
            seen.append(event.text)

    host = PluginHost(None, discover_entries=lambda: ([], []), event_timeout=0.3)
    notices = threading.Semaphore(0)
    host.add_notice_listener(lambda n: notices.release())
    host.add_plugin("watcher", Watcher()).result(30)
    for text in ("raise", "hang", "after"):
        host.publish(MemoryAdded(session_id="s", memory_id=text, text=text))
    assert notices.acquire(timeout=30) and notices.acquire(timeout=30)
    assert [n.message for n in host.notices] == [
        "handling a memory.added event failed: RuntimeError: cannot handle",
        "handling a memory.added event did not return within 0.3 s; it may be hung",
    ]
    release.set()
    host.shutdown()
    for _ in range(300):
        if seen:
            break
        threading.Event().wait(0.1)
    assert seen == ["hang", "after"]


def test_events_are_taken_from_many_threads_at_once():
    host = PluginHost(None, discover_entries=lambda: ([], []))
    got: list = []
    lock = threading.Lock()

    def listener(event):
        with lock:
            got.append(event)

    host.add_listener(listener)

    def agent(n: int) -> None:
        sid = f"agent-{n}"
        host.publish(SessionStarted.of(Session(id=sid, agent=f"Agent {n}")))
        for i in range(50):
            host.publish(MemoryAdded(session_id=sid, memory_id=f"{sid}-{i}", text=f"fact {i}"))

    threads = [threading.Thread(target=agent, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 8 * 51
    assert len(host.sessions.sessions()) == 8
    assert all(len(host.sessions.memories(f"agent-{n}")) == 50 for n in range(8))


def test_events_of_an_agent_that_never_announced_its_session_are_kept():
    host = PluginHost(None, discover_entries=lambda: ([], []))
    host.publish(MemoryAdded(session_id="elsewhere-1", memory_id="m", text="t"))
    (session,) = host.sessions.sessions()
    assert (session.id, session.agent) == ("elsewhere-1", "unknown agent")
    host.publish(SessionStarted.of(Session(id="elsewhere-1", agent="Remote agent")))
    assert host.sessions.get("elsewhere-1").agent == "Remote agent"
    assert [e.KIND for e in host.sessions.transcript("elsewhere-1")] == ["session.started", "memory.added"]


def test_settings_persist_per_plugin_and_secrets_never_reach_the_file(tmp_path, memlens_service):
    class Configurable(Plugin):
        settings_schema = (
            Setting("model", "Model", "small"),
            Setting("k", "K", 5),
            Setting("api_key", "Key", "", secret=True),
        )

        def activate(self, context):
            self.context = context

    folder = tmp_path / "plugin-settings"
    host = PluginHost(folder, discover_entries=lambda: ([], []))
    host.add_plugin("conf", Configurable()).result(30)
    settings = host.settings("conf")
    assert settings.get("model") == "small" and settings.get("k") == 5
    settings.update({"model": "large", "k": "8", "api_key": "sk-secret-123"})
    settings.save()
    assert settings.get("k") == 8 and settings.get("api_key") == "sk-secret-123"
    written = (folder / "conf.json").read_text()
    assert json.loads(written) == {"k": 8, "model": "large"}
    assert "sk-secret" not in written

    again = PluginHost(folder, discover_entries=lambda: ([], []))
    again.add_plugin("conf", Configurable()).result(30)
    assert again.settings("conf").get("model") == "large"
    with pytest.raises(ValueError, match="setting 'K' must be a whole number, not 'many'"):
        again.settings("conf").set("k", "many")


def test_a_plugin_for_another_api_version_is_refused_with_the_versions():
    class Future(Plugin):
        api_version = "2.0"

    host = PluginHost(None, discover_entries=lambda: ([], []))
    with pytest.raises(
        Exception, match=rf"written for plugin API 2\.0; this MemLens offers {re.escape(API_VERSION)}"
    ):
        host.add_plugin("future", Future()).result(30)
    assert host.state("future").status == FAILED


def test_disabling_ends_the_plugins_sessions(memlens_harness):
    memlens_harness.activate(AgentPlugin(echo), name="echo")
    session = memlens_harness.start_session("Echo")
    memlens_harness.host.set_enabled("echo", False).result(30)
    assert memlens_harness.host.sessions.get(session.id).status == "ended"
    assert memlens_harness.host.agents() == []
    with pytest.raises(KeyError, match="not a live chat session"):
        memlens_harness.host.send(session.id, "hello")
