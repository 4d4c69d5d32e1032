"""Slow work off the GUI thread: one helper, progress through signals, cancellable.

Reads run on a shared pool; writes run one at a time in order on their own lane, so an
edit, its undo and its redo reach the store in the order the user made them. A `TaskSlot`
holds one task per purpose (search, load): starting a new one cancels the old, and the
old one's result is dropped (Orange's rule).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, Signal

from memlens.core.embedder import EmbedderError
from memlens.core.importers.formats import ImportRefused
from memlens.core.llm import LLMError
from memlens.core.merge import MergeRefused
from memlens.core.store import StoreError
from memlens.core.traces import TraceImportError
from memlens.core.watch import EditConflict

log = logging.getLogger(__name__)
# What a person's input or situation causes (a folder that is not a store, a wrong
# dimension, an unreachable server or model, a refused merge): their message is enough.
USER_FACING = (
    StoreError,
    EmbedderError,
    LLMError,
    ImportRefused,
    TraceImportError,
    MergeRefused,
    EditConflict,
    OSError,
)


class Cancelled(Exception):
    pass


class TaskContext:
    """What a running function may use: report progress, and learn it was cancelled."""

    def __init__(self, task: Task) -> None:
        self._task = task
        self._last: tuple[int, int] | None = None

    @property
    def cancelled(self) -> bool:
        return self._task.cancelled

    def check(self) -> None:
        if self._task.cancelled:
            raise Cancelled

    def progress(self, done: int, total: int) -> None:
        self.check()
        # Emit only when the shown percentage moves: a signal per item would flood the GUI.
        pct = (done * 100 // total) if total else 0
        if self._last is None or pct != self._last[0] or done == total:
            self._last = (pct, total)
            self._task.sig_progress.emit(done, total)

    def partial(self, result: Any) -> None:
        """Hand over a first, usable result while the work goes on (a store's newest page)."""
        self.check()
        self._task.sig_partial.emit(result)


class Task(QObject):
    sig_progress = Signal(int, int)
    sig_partial = Signal(object)
    sig_done = Signal(object)
    sig_failed = Signal(str)
    sig_finished = Signal()

    def __init__(self, label: str) -> None:
        super().__init__()
        self.label = label
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


def _run(task: Task, fn: Callable[[TaskContext], Any]) -> None:
    """The body of a pool thread: `fn`, its result or error sent back through `task`."""
    try:
        if task.cancelled:
            return
        result = fn(TaskContext(task))
        if not task.cancelled:
            task.sig_done.emit(result)
    except Cancelled:
        pass
    except Exception as exc:  # shown to the user, never swallowed
        if isinstance(exc, USER_FACING):
            log.info("%s: %s", task.label, exc)  # the window says it; no traceback needed
        else:
            log.exception("%s failed", task.label)  # a bug: its traceback goes to the log
        if not task.cancelled:
            task.sig_failed.emit(f"{task.label}: {exc}")
    finally:
        task.sig_finished.emit()


def _unless_cancelled(task: Task, receiver: Callable[[Any], None]) -> Callable[[Any], None]:
    """Deliver a result only if its task still counts when the GUI thread gets it.

    The worker checks before it emits, but a result already queued when the task is
    replaced would otherwise land after the newer one's (a stale page over a search).
    """

    def deliver(value: Any) -> None:
        if not task.cancelled:
            receiver(value)

    return deliver


class Workers(QObject):
    """The application's background lanes; emits busy state for the status bar."""

    sig_busy = Signal(str, int, int)  # label, done, total (total 0: indeterminate)
    sig_idle = Signal()
    sig_error = Signal(str)
    sig_writing = Signal(bool)  # True when a write is queued, False when the last one is done

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._reads = QThreadPool(self)
        self._reads.setMaxThreadCount(2)
        self._writes = QThreadPool(self)
        self._writes.setMaxThreadCount(1)
        self._running: list[Task] = []
        self._writes_pending = 0

    def _start(
        self,
        pool: QThreadPool,
        label: str,
        fn: Callable[[TaskContext], Any],
        on_done: Callable[[Any], None] | None,
        on_error: Callable[[str], None] | None,
        on_partial: Callable[[Any], None] | None = None,
    ) -> Task:
        task = Task(label)
        self._running.append(task)
        if pool is self._writes:  # counted before it starts: a quick write cannot slip past
            self._writes_pending += 1
            task.sig_finished.connect(self._write_finished)
            if self._writes_pending == 1:
                self.sig_writing.emit(True)
        if on_partial:
            task.sig_partial.connect(_unless_cancelled(task, on_partial))
        if on_done:
            task.sig_done.connect(_unless_cancelled(task, on_done))
        task.sig_failed.connect(_unless_cancelled(task, on_error or self.sig_error.emit))
        task.sig_progress.connect(lambda d, t: self.sig_busy.emit(label, d, t))
        task.sig_finished.connect(lambda: self._finished(task))
        self.sig_busy.emit(label, 0, 0)
        # A plain callable: QRunnable subclasses' wrappers outlived their run (about 40%
        # of them, each holding its work and what that captured).
        pool.start(lambda: _run(task, fn))
        return task

    def _finished(self, task: Task) -> None:
        if task in self._running:
            self._running.remove(task)
        # Its connections capture it (deliver, this lambda) and live in Qt, out of the
        # collector's reach: without this every task leaked with whatever its callbacks
        # held, a whole page and its store after switching collections (7 MB a switch).
        # Safe: sig_finished is queued after sig_done/sig_failed, so they were delivered.
        task.deleteLater()
        if self._running:
            last = self._running[-1]
            self.sig_busy.emit(last.label, 0, 0)
        else:
            self.sig_idle.emit()

    def _write_finished(self) -> None:
        self._writes_pending -= 1
        if not self._writes_pending:
            self.sig_writing.emit(False)

    @property
    def writing(self) -> bool:
        """A write is queued or running (undo and redo wait for it)."""
        return self._writes_pending > 0

    def read(self, label, fn, on_done=None, on_error=None, on_partial=None) -> Task:
        return self._start(self._reads, label, fn, on_done, on_error, on_partial)

    def write(self, label, fn, on_done=None, on_error=None) -> Task:
        return self._start(self._writes, label, fn, on_done, on_error)

    @property
    def busy(self) -> bool:
        return bool(self._running)

    def wait(self, msecs: int = 30000) -> bool:
        return self._reads.waitForDone(msecs) and self._writes.waitForDone(msecs)


class TaskSlot:
    """One task at a time for one purpose; a new one cancels the previous."""

    def __init__(self) -> None:
        self.task: Task | None = None

    def replace(self, task: Task) -> Task:
        if self.task is not None:
            self.task.cancel()
        self.task = task
        return task
