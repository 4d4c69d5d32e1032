"""The open store's sessions outlive the window: past ones are listed when the store
opens (also those `memlens serve` recorded), new ones are recorded as they happen.

Kept in the store's traces file (core/session_log.py), read off the GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from memlens.core.session_log import SessionLog, SessionRecorder, restore
from memlens.plugin_api import event_from_dict


class SessionHistory:
    def __init__(self, host: Any) -> None:
        self.host = host
        self.recorder: SessionRecorder | None = None
        self._generation = 0  # a store opened again before the last one was read wins

    def attach(self, service: Any, workers: Any, on_restored: Callable[[int], None]) -> None:
        """A store was opened: record its sessions from now on, and restore its past ones
        into the host's registry (then `on_restored(count)` on the GUI thread)."""
        self.close()
        self._generation += 1
        generation = self._generation
        if service.traces is None:
            return
        path = service.traces.path

        def work(_ctx) -> tuple[SessionLog, int]:
            session_log = SessionLog(path)
            return session_log, restore(session_log, self.host.sessions, event_from_dict)

        def done(result: tuple[SessionLog, int]) -> None:
            session_log, count = result
            if generation != self._generation:
                return
            self.recorder = SessionRecorder(session_log)
            self.host.add_listener(self.recorder)
            on_restored(count)

        workers.read("Reading past sessions", work, done)

    def close(self) -> None:
        if self.recorder is not None:
            self.host.remove_listeners(self.recorder)
            self.recorder.close()
            self.recorder = None
