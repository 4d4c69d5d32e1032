"""What MemLens hands a plugin: the store, an event publisher, a logger, its settings.

The context is the plugin's only door into MemLens. It holds no Qt object; everything
in it may be used from any thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from memlens.plugin_api.events import Event, Session, SessionStarted, new_session_id
from memlens.plugin_api.plugin import ChatAgent
from memlens.plugin_api.session import EventPublisher, SessionHandle
from memlens.plugin_api.settings import PluginSettings
from memlens.plugin_api.store import MemoryStoreView

EventCallback = Callable[[Event], None]


class PluginServices(Protocol):
    """What the host does for a context (implemented by memlens.plugin_host)."""

    def register_agent(self, plugin: str, agent: ChatAgent) -> None: ...
    def subscribe(self, plugin: str, callback: EventCallback, kinds: frozenset[str] | None) -> None: ...
    def notify(self, plugin: str, message: str) -> None: ...
    def adopt_session(self, plugin: str, handle: SessionHandle) -> None: ...


@dataclass
class PluginContext:
    name: str
    store: MemoryStoreView
    events: EventPublisher
    log: logging.Logger
    settings: PluginSettings
    services: PluginServices

    def register_agent(self, agent: ChatAgent) -> None:
        """Offer a chat agent in the Sessions panel (its `respond` is called per user message)."""
        self.services.register_agent(self.name, agent)

    def subscribe(self, callback: EventCallback, kinds: Iterable[str] | None = None) -> None:
        """Receive session events (all, or only these kinds, e.g. {"memory.added"}).

        Calls come on a thread of the plugin's own, in order; a slow callback delays only
        this plugin's events.
        """
        self.services.subscribe(self.name, callback, None if kinds is None else frozenset(kinds))

    def notify(self, message: str) -> None:
        """Tell the user something (shown as a notice in the window)."""
        self.services.notify(self.name, message)

    def start_session(
        self, agent: str, title: str | None = None, session_id: str | None = None
    ) -> SessionHandle:
        """Start a live session the window lists; end it with `handle.end()`."""
        info = Session(id=session_id or new_session_id(agent), agent=agent, plugin=self.name, title=title)
        handle = SessionHandle(info, self.store.for_actor(info.actor), self.events)
        self.services.adopt_session(self.name, handle)
        self.events.publish(SessionStarted.of(info))
        return handle
