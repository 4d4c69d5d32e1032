"""`memlens --screenshot FILE`: open the window, wait until its collection is shown, save
a picture of it and quit.

For bug reports, and for the packaged bundle's smoke test (packaging/smoke_test.py),
which must see a real window with real rows rather than a process that merely started.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QTimer

from memlens.gui.main_window import MainWindow

_POLL_MS = 100
# Opening the default store loads the model first: a cold start on a slow disk is slow.
DEFAULT_TIMEOUT_S = 180.0


class Snapshot:
    """Polls the window until a collection is on screen and nothing runs in the background."""

    def __init__(
        self,
        window: MainWindow,
        path: Path,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        on_done: Callable[[int], None] | None = None,
    ) -> None:
        self.window = window
        self.path = path
        self.on_done = on_done  # e.g. QApplication.exit: the run ends with the exit code
        self.deadline = time.monotonic() + timeout_s
        self.exit_code: int | None = None
        self._idle_polls = 0
        self._timer = QTimer(window)
        self._timer.timeout.connect(self._poll)
        self._timer.start(_POLL_MS)

    def _ready(self) -> bool:
        page = self.window.page
        return page is not None and page.model.rowCount() > 0 and not self.window.workers.busy

    def _poll(self) -> None:
        banner = self.window.banner
        if self.window.page is None and not banner.isHidden() and not self.window.workers.busy:
            # Nothing was opened and the window says why: the picture shows the message.
            print(f"memlens: {banner.label.text()}", file=sys.stderr)
            self._finish(1)
            return
        # Idle for three polls in a row: a finished load often starts a follow-up task.
        self._idle_polls = self._idle_polls + 1 if self._ready() else 0
        if self._idle_polls >= 3:
            self._finish(0)
        elif time.monotonic() > self.deadline:
            print(
                f"memlens: the window showed no memories within the time allowed; "
                f"saved what it showed to {self.path}",
                file=sys.stderr,
            )
            self._finish(1)

    def _finish(self, code: int) -> None:
        self._timer.stop()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.window.grab().save(str(self.path)):
            print(f"memlens: could not write {self.path}", file=sys.stderr)
            code = 1
        self.exit_code = code
        if self.on_done is not None:
            self.on_done(code)
