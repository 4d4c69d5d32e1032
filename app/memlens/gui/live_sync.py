"""Following other writers while the window is open (see core/watch.py).

A timer asks the watcher to look at the store off the GUI thread, one look at a time;
what other processes changed reaches the views through the service's usual change
notice (kind "external"), so the table, graph and inspector refresh as after any edit.
The looks run on a lane of their own, so they neither flash the status bar's progress
nor wait behind a long import. A server that stops answering is reported once and
retried with growing pauses.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QObject, QTimer, Signal

from memlens.core.service import MemoryService
from memlens.core.watch import PollResult, StoreWatcher, pause_after
from memlens.gui.workers import TaskSlot, Workers

BASE_INTERVAL = 2.0
MAX_BACKOFF = 60.0


class LiveSync(QObject):
    sig_status = Signal(str)  # a short line for the status bar
    sig_error = Signal(str)  # the first failure after a working look

    def __init__(self, service: MemoryService, interval: float = BASE_INTERVAL, parent=None) -> None:
        super().__init__(parent)
        self.watcher = StoreWatcher(service, interval)
        self.interval = interval
        self.lane = Workers(self)  # its own threads: not shown as busy, not queued behind writes
        self._slot = TaskSlot()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.look)
        self._failures = 0
        self._stopped = True
        self.last: PollResult | None = None
        self.outside_changes = 0

    @property
    def running(self) -> bool:
        return self._timer.isActive() or self.looking

    @property
    def looking(self) -> bool:
        return self._slot.task is not None

    def start(self) -> None:
        self._stopped = False
        self._schedule(0.0)

    def stop(self) -> None:
        """Stop looking and wait for a look under way (it may be telling the views)."""
        self._stopped = True
        self._timer.stop()
        self.lane.wait()
        self._slot.task = None
        self.sig_status.emit("")

    def _schedule(self, seconds: float) -> None:
        self._timer.start(int(seconds * 1000))

    def look(self) -> None:
        """Look now (the timer calls this; a test or a Reload may too)."""
        if self.looking:
            return
        task = self.lane.read(
            "Looking for outside changes", lambda ctx: self.watcher.poll(), self._done, self._failed
        )
        self._slot.replace(task)

    def _done(self, result: PollResult) -> None:
        self._slot.task = None
        if self._stopped:
            return
        self.last = result
        self._failures = 0
        if result.change is not None:
            self.outside_changes += len(result.change.ids)
        seen = f" · {self.outside_changes} outside change(s) so far" if self.outside_changes else ""
        self.sig_status.emit(f"Following other writers · looked {datetime.now():%H:%M:%S}{seen}")
        self._schedule(pause_after(self.watcher, result))

    def _failed(self, message: str) -> None:
        self._slot.task = None
        if self._stopped:
            return
        self._failures += 1
        pause = min(self.interval * 2**self._failures, MAX_BACKOFF)
        if self._failures == 1:
            self.sig_error.emit(f"{message} — MemLens keeps trying.")
        self.sig_status.emit(f"Store not answering; next try in {pause:.0f} s")
        self._schedule(pause)
