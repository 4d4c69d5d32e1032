"""The plugin layer in the window: the Qt side of the (Qt-free) plugin host.

`PluginBridge` turns the host's notifications, made on any thread, into Qt signals
delivered on the GUI thread. `WindowPlugins` puts the layer into the main window: the
Sessions dock, the Plugins menu, notices in the error banner, and the open collection
page kept in step with what live sessions do (rows tinted, views lit, traces listed,
the undo stack mirroring the journal).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDockWidget

from memlens.core.record import HIDDEN_STATUSES, MemoryRecord
from memlens.core.workspace import data_dir
from memlens.gui.session_history import SessionHistory
from memlens.plugin_api.events import MEMORY_EVENTS, Event, MemoryDeleted, RetrievalPerformed, SessionStarted
from memlens.plugin_host.host import Notice, PluginHost

if TYPE_CHECKING:
    from memlens.gui.collection_page import CollectionPage
    from memlens.gui.main_window import MainWindow

PLUGINS_FOLDER = "plugins"  # in the user data folder: enabled states and settings


def _stale(event: Event, record: MemoryRecord | None) -> bool:
    """Does the window's index lag behind what a session says it did to a memory?"""
    if isinstance(event, MemoryDeleted):
        return record is not None and record.status not in HIDDEN_STATUSES
    return record is None or record.text != event.text


class PluginBridge(QObject):
    """Host notifications as signals on the GUI thread (emitting from another thread
    queues the call to this object's thread)."""

    sig_event = Signal(object)  # Event
    sig_notice = Signal(object)  # Notice
    sig_plugins = Signal()  # a plugin's status, error or agents changed
    sig_turn_done = Signal(str)  # session id: the agent finished answering

    def __init__(self, host: PluginHost, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.host = host
        self._listeners = (self.sig_event.emit, self.sig_notice.emit, self.sig_plugins.emit)
        host.add_listener(self._listeners[0])
        host.add_notice_listener(self._listeners[1])
        host.add_state_listener(self._listeners[2])

    def send(self, session_id: str, text: str) -> None:
        """Give the user's message to the agent; `sig_turn_done` says when it has answered."""
        future = self.host.send(session_id, text)
        future.add_done_callback(lambda _f: self.sig_turn_done.emit(session_id))

    def close(self) -> None:
        """Stop listening (before this object goes away with its window)."""
        self.host.remove_listeners(*self._listeners)


class WindowPlugins(QObject):
    """Everything the plugin layer adds to a main window."""

    def __init__(self, window: MainWindow, host: PluginHost | None = None) -> None:
        super().__init__(window)
        from memlens.gui.sessions_panel import SessionsPanel

        self.window = window
        self.host = host or PluginHost(data_dir() / PLUGINS_FOLDER)
        self.bridge = PluginBridge(self.host, self)
        self.history = SessionHistory(self.host)  # past sessions of the open store, and new ones
        self.page: CollectionPage | None = None
        self.sessions = SessionsPanel(self.bridge)
        self.dock = QDockWidget("Sessions", window)
        self.dock.setObjectName("sessionsDock")
        self.dock.setWidget(self.sessions)
        window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.dock)
        self.dock.hide()

        menu = window.menuBar().addMenu("&Plugins")
        toggle = self.dock.toggleViewAction()
        toggle.setText("&Sessions")
        toggle.setShortcut(QKeySequence("Ctrl+Shift+L"))
        toggle.setStatusTip("Live agent sessions and their transcripts")
        menu.addAction(toggle)
        window.addAction(toggle)
        self.plugins_action = menu.addAction("&Plugins…", self.show_dialog)
        self.plugins_action.setStatusTip("Installed plugins: enable, configure, see their errors")

        self._undo_timer = QTimer(self, singleShot=True, interval=100)
        self._undo_timer.timeout.connect(self._mirror_undo_stack)
        self.bridge.sig_notice.connect(self._on_notice)
        self.bridge.sig_event.connect(self._on_event)
        self.sessions.sig_select_memory.connect(self._select_memory)
        self.sessions.sig_open_trace.connect(self._open_trace)
        self.sessions.sig_marks.connect(self._mark)

    def start(self) -> None:
        """Discover and activate plugins off the GUI thread (activation runs on plugin threads)."""
        threading.Thread(target=self.host.start, name="plugin discovery", daemon=True).start()

    def attach(self, page: CollectionPage) -> None:
        """A collection was opened: plugins now read and write it."""
        self.page = page
        self.host.set_service(page.service)
        self.history.attach(page.service, self.window.workers, lambda _n: self.sessions.refresh_list())
        self._mark(self.sessions.marks())

    def shutdown(self) -> None:
        self.history.close()
        self.bridge.close()
        self.host.shutdown(wait=1.0)

    def show_dialog(self) -> None:
        from memlens.gui.plugins_dialog import PluginsDialog

        PluginsDialog(self.bridge, parent=self.window).exec()

    # -- host to window -------------------------------------------------------------------
    def _on_notice(self, notice: Notice) -> None:
        if notice.level == "error":
            self.window.show_error(notice.text)
        else:
            self.window.statusBar().showMessage(notice.text, 10000)

    def _on_event(self, event: Event) -> None:
        if isinstance(event, SessionStarted):
            self.dock.show()
        page = self.page
        if page is None or page.service is not self.host.service:
            return
        if isinstance(event, RetrievalPerformed):
            page.retrieval_recorded()
        elif isinstance(event, MEMORY_EVENTS):
            self._undo_timer.start()
            if _stale(event, page.service.get(event.memory_id)):
                # Written by an agent in another process: take the store's word for it.
                service, ids = page.service, [event.memory_id]
                self.window.workers.read(
                    "Reading an agent's change", lambda ctx: service.sync_from_store(ids)
                )

    def _mirror_undo_stack(self) -> None:
        """Session writes are journal groups like the user's: undo must reach them, in order."""
        service = self.host.service
        if service is not None and self.page is not None and service is self.page.service:
            applied, undone = service.undo_stack()
            self.window.undo_stack.rebuild(applied, undone)

    def _select_memory(self, memory_id: str) -> None:
        if self.page is not None:
            self.page.selection.set([memory_id])

    def _open_trace(self, trace_id: str) -> None:
        if self.page is not None:
            self.page.open_trace(trace_id)

    def _mark(self, marks: dict[str, str] | None) -> None:
        if self.page is not None:
            self.page.mark_session_memories(marks)
