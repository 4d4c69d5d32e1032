"""Carries the service's change notices, made on worker threads, onto the GUI thread."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from memlens.core.service import Change, MemoryService


class ServiceBridge(QObject):
    sig_changed = Signal(object)  # Change

    def __init__(self, service: MemoryService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.service = service
        # Emitting from a worker thread queues the signal to this object's (GUI) thread.
        service.subscribe(self._on_change)

    def _on_change(self, change: Change) -> None:
        self.sig_changed.emit(change)
