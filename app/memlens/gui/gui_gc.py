"""Cyclic garbage is collected on the GUI thread, never on a worker's.

Python collects in whichever thread allocates past its threshold. A garbage cycle that
holds a Qt object (a closed dialog, a replaced page and its connections) is then torn
down on that thread, and Qt objects must die on their own: a collection on the plugin
host's thread crashed the test suite (a segmentation fault). While a window is open,
automatic collection is off and a timer on the GUI thread runs the same generational
collections when Python's counters call for them.
"""

from __future__ import annotations

import gc
import time

from PySide6.QtCore import QObject, QTimer

from memlens.core.gcpause import collect_by_hand, paused

CHECK_MS = 100  # young collections are cheap; the counters are read this often
# CPython spares full collections until a quarter of the old objects are new; that count
# is not readable from Python, so a full one waits instead for this many times its last
# duration, and at least FULL_EVERY_S: at most ~1% of the time goes to them, and a window
# busy with a store too small to be frozen (see gcpause) pauses for one twice a minute.
FULL_SPACING = 100
FULL_EVERY_S = 30.0


class GuiThreadCollector(QObject):
    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self._on = False
        self._next_full = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(CHECK_MS)
        self._timer.timeout.connect(self.collect_due)

    def start(self) -> None:
        if not self._on:
            self._on = True
            collect_by_hand(True)
            self._timer.start()

    def stop(self) -> None:
        if self._on:
            self._on = False
            self._timer.stop()
            collect_by_hand(False)

    def collect_due(self) -> int | None:
        """Collect the oldest generation whose counter passed its threshold; the
        generation collected, or None."""
        if paused():  # large work asked for no pauses; it collects what it made itself
            return None
        counts, limits = gc.get_count(), gc.get_threshold()
        due = None
        for generation in range(3):
            if counts[generation] > limits[generation]:
                due = generation
            else:
                break
        if due == 2 and time.monotonic() < self._next_full:
            due = 1
        if due is not None:
            started = time.monotonic()
            gc.collect(due)
            if due == 2:
                took = time.monotonic() - started
                self._next_full = started + max(FULL_EVERY_S, FULL_SPACING * took)
        return due
