"""Background lanes: the newest request's result is the one the user sees."""

from __future__ import annotations

import gc
import weakref

from PySide6.QtCore import QCoreApplication, QEvent

from memlens.gui.workers import TaskSlot, Workers


def test_a_result_queued_before_its_task_was_replaced_is_dropped(qtbot):
    workers = Workers()
    slot = TaskSlot()
    shown: list[str] = []
    slot.replace(workers.read("Filtering", lambda ctx: "browse page", shown.append))
    # The first task finishes and queues its result; the GUI thread has not seen it yet
    # when the user's search replaces it (the race that once showed a page over a search).
    assert workers.wait()
    slot.replace(workers.read("Searching", lambda ctx: "search hits", shown.append))
    qtbot.waitUntil(lambda: not workers.busy, timeout=10000)
    assert shown == ["search hits"]


def test_a_failure_of_a_replaced_task_is_not_reported(qtbot):
    workers = Workers()
    slot = TaskSlot()
    errors: list[str] = []

    def fail(ctx):
        raise RuntimeError("store went away")

    slot.replace(workers.read("Filtering", fail, on_error=errors.append))
    assert workers.wait()
    slot.replace(workers.read("Filtering", lambda ctx: None, on_error=errors.append))
    qtbot.waitUntil(lambda: not workers.busy, timeout=10000)
    assert errors == []


def test_a_users_error_is_shown_without_a_traceback_and_a_bug_keeps_its_own(qtbot, caplog):
    from memlens.core.store import StoreError

    workers = Workers()
    errors: list[str] = []

    def not_a_store(ctx):
        raise StoreError("/tmp/x is not a Chroma store (no chroma.sqlite3).")

    def bug(ctx):
        raise KeyError("page")

    with caplog.at_level("INFO", logger="memlens.gui.workers"):
        workers.read("Opening x", not_a_store, on_error=errors.append)
        workers.read("Filtering", bug, on_error=errors.append)
        qtbot.waitUntil(lambda: len(errors) == 2, timeout=10000)
    assert sorted(errors) == [
        "Filtering: 'page'",
        "Opening x: /tmp/x is not a Chroma store (no chroma.sqlite3).",
    ]
    said = {r.getMessage(): r.exc_info for r in caplog.records}
    assert said["Opening x: /tmp/x is not a Chroma store (no chroma.sqlite3)."] is None
    assert said["Filtering failed"] is not None  # the bug's traceback is kept for its report


def test_finished_tasks_and_what_their_callbacks_hold_are_let_go(qtbot):
    """A task's connections capture it; kept, every search or write leaked what it held."""
    workers = Workers()

    class Page:  # stands for what a callback holds: a page, its store
        def show(self, value) -> None:
            self.shown = value

    pages = [Page() for _ in range(50)]
    held = [weakref.ref(page) for page in pages]
    tasks = [weakref.ref(workers.read("Searching", lambda ctx: "hits", page.show)) for page in pages]
    del pages
    qtbot.waitUntil(lambda: not workers.busy, timeout=10000)
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    gc.collect()
    assert sum(ref() is not None for ref in tasks) == 0
    assert sum(ref() is not None for ref in held) == 0
