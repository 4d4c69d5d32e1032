"""What the benchmark scripts share: a GUI heartbeat, waiting on the event loop, memory
readings, the machine's facts, tables and result files.

`timed` and `paint` come from bench_graph so every script measures the same way.
"""

from __future__ import annotations

import faulthandler
import gc
import json
import os
import platform
import statistics
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bench_graph import paint, timed

__all__ = [
    "RESULTS",
    "Heartbeat",
    "TreeMemory",
    "format_table",
    "machine",
    "paint",
    "peak_rss_mb",
    "percentile",
    "timed",
]

RESULTS = Path(__file__).resolve().parent / "results"


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100): a value that was actually measured."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def _status_kb(key: str, pid: int | str = "self") -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:  # that process has ended
        return 0.0
    for line in status.splitlines():
        if line.startswith(key + ":"):
            return float(line.split()[1])
    return 0.0


def peak_rss_mb(pid: int | str = "self") -> float:
    """A process's peak resident memory so far (VmHWM); this one's by default."""
    return _status_kb("VmHWM", pid) / 1024


def rss_mb() -> float:
    return _status_kb("VmRSS") / 1024


class TreeMemory:
    """Samples this process's and its children's resident memory together, from a
    process of its own (bench/tree_memory.py)."""

    def __init__(self) -> None:
        import sys

        script = Path(__file__).resolve().parent / "tree_memory.py"
        self._sampler = subprocess.Popen(
            [sys.executable, str(script), str(os.getpid())], stdout=subprocess.PIPE, text=True
        )

    def stop(self) -> tuple[float, list[float]]:
        """The peak of the sum, and each process's share at that moment (this one first)."""
        self._sampler.terminate()
        out, _ = self._sampler.communicate(timeout=10)
        got = json.loads(out) if out.strip() else {"peak_mb": 0.0, "shares_mb": []}
        return got["peak_mb"], got["shares_mb"]


class Heartbeat:
    """A timer that should fire every `interval_ms`; a late tick is a GUI event-loop stall.

    `phase(name)` opens a named window; the longest gap between ticks inside each window
    is kept. Only time spent in the event loop is meaningful: a harness that blocks the
    GUI thread itself (a synchronous repaint it times) must not be inside a phase.
    """

    def __init__(self, interval_ms: int = 10, stacks_to: Path | None = None) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.interval_ms = interval_ms
        # With `stacks_to`: every thread's stack is written there whenever a tick is over
        # 60 ms late. faulthandler's watchdog is a C thread that needs no interpreter lock,
        # so it sees who holds the lock while the GUI thread waits for it.
        self._stacks = stacks_to.open("w") if stacks_to else None
        if self._stacks is not None:  # the collector's long passes too, and on which thread
            gc.callbacks.append(self._note_collection)
            self._collecting: dict[int, float] = {}
        self.log: list[tuple[str, float, int]] = []  # (phase, when in s, gap in ms) of long gaps
        self.log_over_ms = 100.0
        self.started = time.perf_counter()
        self.longest: dict[str, float] = {}
        self.ticks: dict[str, int] = {}
        self._phase: str | None = None
        self._last = time.perf_counter()
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._timer.start()

    def _note_collection(self, event: str, info: dict) -> None:
        me = threading.get_ident()
        if event == "start":
            self._collecting[me] = time.perf_counter()
        elif me in self._collecting:
            took = (time.perf_counter() - self._collecting.pop(me)) * 1000
            if took >= 30:
                where = threading.current_thread().name
                line = f"gc: generation {info['generation']} took {took:.0f} ms on {where} ({self._phase})"
                print(line, file=self._stacks, flush=True)

    def _tick(self) -> None:
        now = time.perf_counter()
        gap = (now - self._last) * 1000
        self._last = now
        if self._stacks is not None:
            if gap >= 60 + self.interval_ms:
                print(f"^^^ phase {self._phase}: tick {gap:.0f} ms apart\n", file=self._stacks, flush=True)
            faulthandler.dump_traceback_later(0.06, file=self._stacks)
        if self._phase is not None:
            self.longest[self._phase] = max(self.longest.get(self._phase, 0.0), gap)
            self.ticks[self._phase] = self.ticks.get(self._phase, 0) + 1
            if gap >= self.log_over_ms:
                self.log.append((self._phase, round(now - self.started, 3), round(gap)))

    def start(self, name: str) -> None:
        self._last = time.perf_counter()
        self._phase = name
        self.longest.setdefault(name, 0.0)

    def stop(self) -> float:
        """Close the window; the longest stall in it (ms beyond the interval).

        The gap since the last tick counts too: a stall that ends the phase (the scene that
        the harness waits for, painted on arrival) is over before the timer can tick again,
        and was missed."""
        if self._phase is not None:
            self._tick()
        name, self._phase = self._phase, None
        return self.stall_ms(name) if name else 0.0

    def stall_ms(self, name: str) -> float:
        return max(0.0, self.longest.get(name, 0.0) - self.interval_ms)


def wait_until(condition: Callable[[], bool], timeout_s: float = 600.0, what: str = "") -> float:
    """Run the real event loop until `condition` holds; returns when it did (perf_counter)."""
    from PySide6.QtCore import QEventLoop, QTimer

    if condition():
        return time.perf_counter()
    loop = QEventLoop()
    deadline = time.perf_counter() + timeout_s
    done: list[float] = []

    def poll() -> None:
        if condition():
            done.append(time.perf_counter())
            loop.quit()
        elif time.perf_counter() > deadline:
            loop.quit()

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(poll)
    timer.start()
    loop.exec()
    timer.stop()
    if not done:
        raise TimeoutError(f"gave up after {timeout_s:.0f} s waiting for {what or condition}")
    return done[0]


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def busy_processes(exclude: set[int] = frozenset(), over: float = 20.0) -> dict[str, float]:
    """Processes using more than `over` % of a core right now (top over half a second), by
    command name: other agents sharing the machine."""
    try:
        out = subprocess.run(
            ["top", "-b", "-n", "2", "-d", "0.5", "-o", "%CPU", "-w", "200"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return {}
    frames = out.split("\ntop - ")
    busy: dict[str, float] = {}
    for line in frames[-1].splitlines():
        fields = line.split(None, 11)
        if len(fields) < 12 or not fields[0].isdigit() or int(fields[0]) in exclude:
            continue
        cpu = float(fields[8].replace(",", "."))
        if cpu >= over:
            busy[fields[11]] = max(busy.get(fields[11], 0.0), cpu)
    return busy


def machine() -> dict:
    mem_kb = 0.0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = float(line.split()[1])
    return {
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def format_table(rows: list[dict], columns: list[tuple[str, str, str]]) -> str:
    """Right-aligned plain-text table; a missing value prints as a dash."""
    head = [c[1] for c in columns]
    body = [[("—" if r.get(k) is None else f.format(r[k])) for k, _, f in columns] for r in rows]
    widths = [max(len(x) for x in col) for col in zip(head, *body, strict=False)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(head, widths, strict=True))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(b, widths, strict=True)) for b in body]
    return "\n".join(lines)


def write_result(name: str, rows: list[dict], **extra) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), "rows": rows, **extra}, indent=2))
    return path


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")
