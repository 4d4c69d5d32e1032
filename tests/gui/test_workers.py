"""Background lanes: the newest request's result is the one the user sees."""

from __future__ import annotations

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
