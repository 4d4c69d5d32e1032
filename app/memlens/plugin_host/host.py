"""The plugin host: finds plugins, runs the enabled ones isolated, carries session events.

Everything here is Qt-free and thread-safe: events may be published from any thread
(plugin workers, an HTTP server, a trace receiver). The window listens through a Qt
adapter (gui/plugin_bridge.py) that moves each notification onto the GUI thread.

Isolation: a plugin's calls (activate, a chat turn, an event handler) run on threads of
their own under a deadline. An exception or a missed deadline marks the plugin with its
last error and becomes a `Notice`; the window stays up and other plugins carry on.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from memlens.core.record import utc_now
from memlens.plugin_api.context import EventCallback, PluginContext
from memlens.plugin_api.events import USER, Event, SessionStatus
from memlens.plugin_api.plugin import API_VERSION, ChatAgent, Setting, api_compatible
from memlens.plugin_api.session import SessionHandle
from memlens.plugin_api.settings import PluginSettings
from memlens.plugin_api.store import MemoryStoreView
from memlens.plugin_host.discovery import PluginEntry, discover
from memlens.plugin_host.runner import Call, PluginTimeout, Runner, settle
from memlens.plugin_host.sessions import SessionRegistry

if TYPE_CHECKING:
    from memlens.core.service import MemoryService

log = logging.getLogger(__name__)

ENABLED_FILE = "plugins.json"
# Statuses a plugin shows in the Plugins dialog.
DISABLED, NOT_LOADED, LOADING, ACTIVE, FAILED, HUNG = (
    "disabled",
    "not loaded",
    "loading",
    "active",
    "failed",
    "not responding",
)
HOST = "MemLens"  # the "plugin" named on notices about the host itself


class PluginError(Exception):
    """A plugin that cannot run here (wrong API version, nothing to activate)."""


class SessionError(Exception):
    """A message could not be given to the session's agent; the message says why."""


class SessionBusy(SessionError):
    """The agent is still answering this session's previous message."""


@dataclass(frozen=True)
class Notice:
    """Something the user should hear about a plugin: an error, a hang, a message."""

    plugin: str
    message: str
    level: str = "error"  # "error" or "info"
    detail: str | None = None  # a traceback, for the curious
    time: datetime = field(default_factory=utc_now)

    @property
    def text(self) -> str:
        return f"Plugin {self.plugin}: {self.message}"


@dataclass(frozen=True)
class PluginInfo:
    """One row of the Plugins dialog."""

    name: str
    version: str
    distribution: str
    target: str
    enabled: bool
    status: str
    last_error: str | None
    description: str
    settings_schema: tuple[Setting, ...]
    agents: tuple[str, ...]


@dataclass(frozen=True)
class AgentInfo:
    name: str
    description: str
    plugin: str


class _Subscriber:
    """Delivers events to one plugin callback, in order, on the plugin's own thread."""

    _STOP = object()

    def __init__(self, host: PluginHost, plugin: str, callback: EventCallback, kinds: frozenset[str] | None):
        self.host, self.plugin, self.callback, self.kinds = host, plugin, callback, kinds
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._loop, name=f"plugin {plugin}: events", daemon=True)
        self.thread.start()

    def offer(self, event: Event) -> None:
        if self.kinds is None or event.KIND in self.kinds:
            self.queue.put(event)

    def stop(self) -> None:
        self.queue.put(self._STOP)

    def _loop(self) -> None:
        while (event := self.queue.get()) is not self._STOP:
            label = f"handling a {event.KIND} event"
            with self.host.runner.watch(self.plugin, label, self.host.event_timeout):
                try:
                    self.callback(event)
                except Exception as exc:
                    self.host._plugin_failed(self.plugin, label, exc)


@dataclass
class _Slot:
    """The host's own record of one plugin."""

    entry: PluginEntry
    enabled: bool
    settings: PluginSettings
    status: str = NOT_LOADED
    last_error: str | None = None
    plugin: Any = None
    context: PluginContext | None = None
    description: str = ""
    agents: dict[str, ChatAgent] = field(default_factory=dict)
    subscribers: list[_Subscriber] = field(default_factory=list)

    def info(self) -> PluginInfo:
        e = self.entry
        return PluginInfo(
            e.name,
            e.version,
            e.distribution,
            e.target,
            self.enabled,
            self.status if self.enabled else DISABLED,
            self.last_error,
            self.description,
            tuple(self.settings.schema),
            tuple(self.agents),
        )


def _plugin_object(loaded: Any) -> Any:
    """An entry point may name a plugin class, a factory, or an object with `activate`."""
    if isinstance(loaded, type):
        return loaded()
    if hasattr(loaded, "activate"):
        return loaded
    if callable(loaded):
        return loaded()
    raise PluginError("the entry point names nothing with an activate(context) method")


def _error_text(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, PluginTimeout | PluginError) else f"{type(exc).__name__}: {exc}"


class PluginHost:
    """`settings_dir=None` keeps enabled states and settings in memory (tests)."""

    def __init__(
        self,
        settings_dir: Path | None = None,
        *,
        timeout: float = 15.0,
        turn_timeout: float = 180.0,
        event_timeout: float = 15.0,
        discover_entries: Callable[[], tuple[list[PluginEntry], list[str]]] = discover,
    ) -> None:
        self.settings_dir = settings_dir
        self.timeout, self.turn_timeout, self.event_timeout = timeout, turn_timeout, event_timeout
        self._discover = discover_entries
        self._lock = threading.RLock()
        self._slots: dict[str, _Slot] = {}
        self._service: MemoryService | None = None
        self._handles: dict[str, tuple[str, SessionHandle]] = {}  # session id -> (plugin, handle)
        self._session_agents: dict[str, str] = {}  # session id -> agent name
        self._busy: dict[str, object] = {}  # session id -> the message being answered
        self._listeners: list[Callable[[Event], None]] = []
        self._notice_listeners: list[Callable[[Notice], None]] = []
        self._state_listeners: list[Callable[[], None]] = []
        self.notices: list[Notice] = []
        self.sessions = SessionRegistry()
        self.runner = Runner(self._on_timeout)
        self._enabled = self._read_enabled()

    # -- the store ------------------------------------------------------------------------------
    def set_service(self, service: MemoryService | None) -> None:
        """The collection open in the window; plugins' store facades follow it."""
        self._service = service

    @property
    def service(self) -> MemoryService | None:
        return self._service

    # -- listeners ------------------------------------------------------------------------------
    def add_listener(self, fn: Callable[[Event], None]) -> None:
        """Called with every event, on the publishing thread: be quick and thread-safe."""
        self._listeners.append(fn)

    def add_notice_listener(self, fn: Callable[[Notice], None]) -> None:
        self._notice_listeners.append(fn)

    def add_state_listener(self, fn: Callable[[], None]) -> None:
        """Called when a plugin's status, error or agents change."""
        self._state_listeners.append(fn)

    def remove_listeners(self, *fns: Callable) -> None:
        for group in (self._listeners, self._notice_listeners, self._state_listeners):
            for fn in fns:
                if fn in group:
                    group.remove(fn)

    def _call_listeners(self, listeners: list[Callable], *args: Any) -> None:
        for fn in list(listeners):
            try:
                fn(*args)
            except Exception:
                log.exception("a plugin host listener failed")

    def _changed(self) -> None:
        self._call_listeners(self._state_listeners)

    # -- discovery and enabling -----------------------------------------------------------------
    def discover(self) -> list[PluginInfo]:
        """Read installed plugins from package metadata (nothing is imported)."""
        entries, warnings = self._discover()
        with self._lock:
            for entry in entries:
                if entry.name not in self._slots:
                    enabled = self._enabled.get(entry.name, entry.first_party)
                    self._slots[entry.name] = _Slot(entry, enabled, self._settings_for(entry.name))
        for warning in warnings:
            self._notice(Notice(HOST, warning, level="info"))
        self._changed()
        return self.states()

    def start(self) -> list[Future]:
        """Discover, then activate every enabled plugin in the background."""
        self.discover()
        with self._lock:
            slots = [s for s in self._slots.values() if s.enabled and s.status == NOT_LOADED]
        return [self._activate(s) for s in slots]

    def add_plugin(
        self, name: str, plugin: Any, version: str = "0", settings: dict[str, Any] | None = None
    ) -> Future:
        """Run a plugin object that no package installed (tests, a script embedding MemLens),
        with these settings (not saved)."""
        kind = type(plugin)
        entry = PluginEntry(name, f"{kind.__module__}:{kind.__qualname__}", "(in process)", version)
        values = self._settings_for(name)
        values.set_schema(tuple(getattr(plugin, "settings_schema", ()) or ()))
        values.update(settings or {})
        with self._lock:
            if name in self._slots:
                raise PluginError(f"a plugin named {name!r} is already installed")
            slot = self._slots[name] = _Slot(entry, True, values, plugin=plugin)
        return self._activate(slot)

    def states(self) -> list[PluginInfo]:
        with self._lock:
            return [s.info() for s in sorted(self._slots.values(), key=lambda s: s.entry.name)]

    def state(self, name: str) -> PluginInfo:
        with self._lock:
            return self._slot(name).info()

    def settings(self, name: str) -> PluginSettings:
        with self._lock:
            return self._slot(name).settings

    def plugin(self, name: str) -> Any:
        """The plugin object (None unless loaded)."""
        with self._lock:
            return self._slot(name).plugin

    def set_enabled(self, name: str, enabled: bool) -> Future:
        """Enable (load and activate) or disable (deactivate) a plugin; remembered."""
        with self._lock:
            slot = self._slot(name)
            slot.enabled = enabled
            self._enabled[name] = enabled
            self._write_enabled()
        self._changed()
        if enabled:
            return settle_now() if slot.status in (ACTIVE, LOADING) else self._activate(slot)
        return self._deactivate(slot)

    def _slot(self, name: str) -> _Slot:
        try:
            return self._slots[name]
        except KeyError:
            raise KeyError(f"No plugin named {name!r} is installed.") from None

    def _activate(self, slot: _Slot) -> Future:
        name = slot.entry.name
        slot.status, slot.last_error = LOADING, None
        self._changed()

        def work() -> None:
            obj = slot.plugin
            if obj is None:
                obj = _plugin_object(slot.entry.load())
            wanted = str(getattr(obj, "api_version", API_VERSION))
            if not api_compatible(wanted):
                raise PluginError(
                    f"it was written for plugin API {wanted}; this MemLens offers {API_VERSION}"
                )
            slot.plugin = obj
            slot.description = " ".join((getattr(obj, "__doc__", None) or "").split())[:300]
            slot.settings.set_schema(tuple(getattr(obj, "settings_schema", ()) or ()))
            if slot.settings.load_error:
                self._notice(Notice(name, slot.settings.load_error, level="info"))
            slot.context = PluginContext(
                name=name,
                store=MemoryStoreView(lambda: self._service, f"plugin:{name}"),
                events=self,
                log=logging.getLogger(f"memlens.plugins.{name}"),
                settings=slot.settings,
                services=self,
            )
            obj.activate(slot.context)
            slot.status = ACTIVE
            self._changed()

        work = self._reporting(name, "activating", work, slot)
        return self.runner.submit(name, "activating", work, self.timeout)

    def _deactivate(self, slot: _Slot) -> Future:
        name = slot.entry.name
        was_active = slot.plugin is not None and slot.status == ACTIVE
        with self._lock:
            subscribers, slot.subscribers = slot.subscribers, []
            slot.agents.clear()
            slot.status = NOT_LOADED if slot.plugin is None else DISABLED
            sessions = [sid for sid, (plugin, _h) in self._handles.items() if plugin == name]
        for sub in subscribers:
            sub.stop()
        for sid in sessions:
            self.end_session(sid, reason="its plugin was disabled")
        self._changed()
        deactivate = getattr(slot.plugin, "deactivate", None)  # optional for plugins not subclassing Plugin
        if not was_active or deactivate is None:
            return settle_now()
        work = self._reporting(name, "deactivating", deactivate)
        return self.runner.submit(name, "deactivating", work, self.timeout)

    def _reporting(self, plugin: str, doing: str, fn: Callable[[], Any], slot: _Slot | None = None):
        """`fn`, reporting what it raises (and marking `slot` failed) before re-raising it,
        so that whoever waits on the call's future finds the report already made."""

        def run() -> Any:
            try:
                return fn()
            except Exception as exc:
                if slot is not None:
                    slot.status = FAILED
                self._plugin_failed(plugin, doing, exc)
                raise

        return run

    # -- reports ----------------------------------------------------------------------------------
    def _notice(self, notice: Notice) -> None:
        self.notices.append(notice)
        (log.warning if notice.level == "error" else log.info)("%s", notice.text)
        self._call_listeners(self._notice_listeners, notice)

    def _plugin_failed(self, plugin: str, doing: str, exc: BaseException) -> None:
        message = f"{doing} failed: {_error_text(exc)}"
        with self._lock:
            slot = self._slots.get(plugin)
            if slot is not None:
                slot.last_error = message
        detail = "".join(traceback.format_exception(exc)) if not isinstance(exc, PluginTimeout) else None
        self._notice(Notice(plugin, message, detail=detail))
        self._changed()

    def _on_timeout(self, call: Call) -> None:
        with self._lock:
            slot = self._slots.get(call.plugin)
            if slot is not None:
                slot.last_error = call.describe()
                if slot.status == LOADING:
                    slot.status = HUNG
        self._notice(Notice(call.plugin, call.describe()))
        self._changed()

    # -- what a context asks of the host (PluginServices) -------------------------------------------
    def register_agent(self, plugin: str, agent: ChatAgent) -> None:
        with self._lock:
            for other in self._slots.values():
                if agent.name in other.agents:
                    raise PluginError(
                        f"an agent named {agent.name!r} is already offered by {other.entry.name}"
                    )
            self._slot(plugin).agents[agent.name] = agent
        self._changed()

    def subscribe(self, plugin: str, callback: EventCallback, kinds: frozenset[str] | None) -> None:
        sub = _Subscriber(self, plugin, callback, kinds)
        with self._lock:
            self._slot(plugin).subscribers.append(sub)

    def notify(self, plugin: str, message: str) -> None:
        self._notice(Notice(plugin, message, level="info"))

    def adopt_session(self, plugin: str, handle: SessionHandle) -> None:
        with self._lock:
            self._handles[handle.id] = (plugin, handle)

    # -- events ---------------------------------------------------------------------------------
    def publish(self, event: Event) -> None:
        """Take an event from any thread: record it, tell the window and subscribed plugins."""
        if not isinstance(event, Event):
            raise TypeError(f"publish() takes a session event, not {type(event).__name__}")
        self.sessions.apply(event)
        self._call_listeners(self._listeners, event)
        with self._lock:
            subscribers = [s for slot in self._slots.values() for s in slot.subscribers]
        for sub in subscribers:
            sub.offer(event)

    # -- chat sessions --------------------------------------------------------------------------
    def agents(self) -> list[AgentInfo]:
        with self._lock:
            return [
                AgentInfo(name, getattr(agent, "description", ""), slot.entry.name)
                for slot in sorted(self._slots.values(), key=lambda s: s.entry.name)
                if slot.enabled and slot.status == ACTIVE
                for name, agent in slot.agents.items()
            ]

    def _agent(self, name: str) -> tuple[_Slot, ChatAgent]:
        with self._lock:
            for slot in self._slots.values():
                if name in slot.agents and slot.status == ACTIVE:
                    return slot, slot.agents[name]
        raise KeyError(f"No active plugin offers an agent named {name!r}.")

    def start_session(self, agent_name: str, title: str | None = None) -> SessionHandle:
        """Start a session with an agent; the user talks to it with `send`."""
        slot, _agent = self._agent(agent_name)
        assert slot.context is not None
        handle = slot.context.start_session(agent_name, title)
        with self._lock:
            self._session_agents[handle.id] = agent_name
        return handle

    def busy(self, session_id: str) -> bool:
        with self._lock:
            return session_id in self._busy

    def send(self, session_id: str, text: str) -> Future:
        """Say `text` to the session's agent; its answer arrives as events. The future
        fails with SessionBusy while the previous message is still being answered."""
        with self._lock:
            plugin, handle = self._handles.get(session_id, (None, None))
            agent_name = self._session_agents.get(session_id)
            if handle is None or agent_name is None or handle.ended:
                raise KeyError(f"Session {session_id!r} is not a live chat session.")
            if session_id in self._busy:
                return settle_now(error=SessionBusy("The agent is still answering the previous message."))
            token = object()
            self._busy[session_id] = token
        try:
            slot, agent = self._agent(agent_name)
        except KeyError:
            self._release(session_id, token)
            message = f"The agent {agent_name!r} is no longer available (its plugin was disabled or failed)."
            handle.error(message)
            return settle_now(error=SessionError(message))
        handle.say(USER, text)

        def turn() -> None:
            try:
                agent.respond(handle, text)
            except Exception as exc:
                handle.error(f"The agent failed: {_error_text(exc)}")
                raise
            finally:
                self._release(session_id, token)

        def late() -> None:
            self._release(session_id, token)
            handle.error(f"The agent did not answer within {self.turn_timeout:g} s; it may be hung.")

        work = self._reporting(slot.entry.name, "answering a message", turn)
        return self.runner.submit(plugin, "answering a message", work, self.turn_timeout, on_late=late)

    def _release(self, session_id: str, token: object) -> None:
        """Free the session for its next message (unless a newer message already holds it)."""
        with self._lock:
            if self._busy.get(session_id) is token:
                del self._busy[session_id]

    def end_session(self, session_id: str, reason: str | None = None) -> None:
        with self._lock:
            _plugin, handle = self._handles.pop(session_id, (None, None))
            self._session_agents.pop(session_id, None)
        if handle is not None:
            if reason:
                handle.notice(f"Session ended: {reason}.")
            handle.end(SessionStatus.ENDED)

    # -- closing -----------------------------------------------------------------------------------
    def shutdown(self, wait: float = 2.0) -> None:
        """End live sessions and deactivate plugins, waiting at most `wait` s in all."""
        with self._lock:
            sessions = list(self._handles)
            slots = [s for s in self._slots.values() if s.status == ACTIVE]
        for sid in sessions:
            self.end_session(sid)
        futures = [self._deactivate(slot) for slot in slots]
        end = time.monotonic() + wait
        for future in futures:
            with contextlib.suppress(Exception):  # reported through the notice listeners
                future.result(timeout=max(0.0, end - time.monotonic()))
        self.runner.stop()

    # -- persistence ---------------------------------------------------------------------------------
    def _settings_for(self, name: str) -> PluginSettings:
        path = None if self.settings_dir is None else self.settings_dir / f"{name}.json"
        return PluginSettings(name, path)

    def _read_enabled(self) -> dict[str, bool]:
        if self.settings_dir is None:
            return {}
        path = self.settings_dir / ENABLED_FILE
        if not path.exists():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            enabled = data.get("enabled", {}) if isinstance(data, dict) else None
            if not isinstance(enabled, dict):
                raise ValueError("no 'enabled' object")
            return {str(k): bool(v) for k, v in enabled.items()}
        except (OSError, ValueError) as exc:
            self._notice(
                Notice(HOST, f"{path} could not be read ({exc}); plugins start as installed.", level="info")
            )
            return {}

    def _write_enabled(self) -> None:
        if self.settings_dir is None:
            return
        self.settings_dir.mkdir(parents=True, exist_ok=True)
        path = self.settings_dir / ENABLED_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"enabled": self._enabled}, indent=2, sort_keys=True), encoding="utf-8")
        tmp.replace(path)


def settle_now(result: Any = None, error: BaseException | None = None) -> Future:
    """A future that is already done (for calls with nothing to wait for, or refused)."""
    future: Future = Future()
    settle(future, result, error)
    return future
