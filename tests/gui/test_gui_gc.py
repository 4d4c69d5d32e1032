"""Garbage cycles are torn down on the GUI thread while a window is open, whatever thread
made them; closing the window gives the collector back."""

from __future__ import annotations

import gc
import threading

from memlens.core.gcpause import no_gc_pauses

DIED_ON: list[str] = []


class Cycle:
    def __init__(self) -> None:
        self.me = self

    def __del__(self) -> None:
        DIED_ON.append(threading.current_thread().name)


def test_cycles_made_on_a_worker_die_on_the_gui_thread(open_window, qtbot):
    was = gc.isenabled()
    window = open_window()
    assert not gc.isenabled()
    DIED_ON.clear()

    def worker() -> None:
        # Far past the young generation's threshold: a worker allocating this much set off
        # a collection on itself before.
        for _ in range(20_000):
            Cycle()
            [object() for _ in range(3)]

    thread = threading.Thread(target=worker, name="worker")
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: len(DIED_ON) == 20_000, timeout=10000)
    assert set(DIED_ON) == {threading.main_thread().name}

    window.close()
    assert gc.isenabled() == was


def test_a_pause_inside_a_window_leaves_collection_to_the_window(open_window):
    window = open_window()
    with no_gc_pauses(freeze=False):
        assert not gc.isenabled()
    assert not gc.isenabled()  # the window still collects by hand
    window.close()
    assert gc.isenabled()
