"""Plugin code runs on threads of its own, watched: a call that raises or never returns
becomes a report, never a frozen or crashed window.

Python cannot kill a thread, so a hung call is abandoned: its future fails with
`PluginTimeout`, the host tells the user, and whatever the call returns later is ignored.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, InvalidStateError
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


class PluginTimeout(Exception):
    """A plugin call did not return in time."""


@dataclass
class Call:
    plugin: str
    label: str
    timeout: float
    started: float = field(default_factory=time.monotonic)
    future: Future | None = None
    on_late: Callable[[], None] | None = None  # the caller's own clean-up for a missed deadline
    reported: bool = False

    @property
    def deadline(self) -> float:
        return self.started + self.timeout

    def describe(self) -> str:
        return f"{self.label} did not return within {self.timeout:g} s; it may be hung"


def settle(future: Future, result: Any = None, error: BaseException | None = None) -> None:
    """Set a future's outcome unless it already has one (a call that timed out)."""
    try:
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)
    except InvalidStateError:
        pass


class Runner:
    """Runs plugin calls on daemon threads; a watchdog reports calls past their deadline."""

    def __init__(self, on_timeout: Callable[[Call], None], tick: float = 0.05) -> None:
        self._on_timeout = on_timeout
        self._tick = tick
        self._lock = threading.Lock()
        self._inflight: dict[int, Call] = {}
        self._ids = itertools.count()
        self._watchdog: threading.Thread | None = None
        self._stop = threading.Event()

    def submit(
        self,
        plugin: str,
        label: str,
        fn: Callable[[], Any],
        timeout: float,
        on_late: Callable[[], None] | None = None,
    ) -> Future:
        """Start `fn` on a new thread; the future fails with PluginTimeout after `timeout` s
        (after the host was told and `on_late` ran, so a waiter sees the report)."""
        future: Future = Future()
        future.set_running_or_notify_cancel()

        def run() -> None:
            with self.watch(plugin, label, timeout, future, on_late):
                try:
                    result = fn()
                except BaseException as exc:
                    settle(future, error=exc)
                else:
                    settle(future, result)

        threading.Thread(target=run, name=f"plugin {plugin}: {label}", daemon=True).start()
        return future

    @contextmanager
    def watch(
        self,
        plugin: str,
        label: str,
        timeout: float,
        future: Future | None = None,
        on_late: Callable[[], None] | None = None,
    ) -> Iterator[Call]:
        """Watch code running on the current thread (an event delivery) for a deadline."""
        call = Call(plugin, label, timeout, future=future, on_late=on_late)
        key = next(self._ids)
        with self._lock:
            self._inflight[key] = call
            self._ensure_watchdog()
        try:
            yield call
        finally:
            with self._lock:
                self._inflight.pop(key, None)

    def busy(self, plugin: str) -> list[Call]:
        with self._lock:
            return [c for c in self._inflight.values() if c.plugin == plugin]

    def stop(self) -> None:
        self._stop.set()

    def _ensure_watchdog(self) -> None:
        if self._watchdog is None or not self._watchdog.is_alive():
            self._watchdog = threading.Thread(target=self._watch_loop, name="plugin watchdog", daemon=True)
            self._watchdog.start()

    def _watch_loop(self) -> None:
        while not self._stop.wait(self._tick):
            now = time.monotonic()
            with self._lock:
                late = [c for c in self._inflight.values() if not c.reported and now >= c.deadline]
                for c in late:
                    c.reported = True
            for call in late:
                try:
                    self._on_timeout(call)
                    if call.on_late is not None:
                        call.on_late()
                except Exception:
                    log.exception("reporting a hung plugin call failed")
                if call.future is not None:
                    settle(call.future, error=PluginTimeout(call.describe()))
