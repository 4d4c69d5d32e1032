"""The peak resident memory of a process and its children together, sampled from outside.

    python bench/tree_memory.py PID     # prints the peak (JSON, MB) when sent SIGTERM

MemLens runs its model in a child process, so "peak memory, model included" is the peak
of the sum of both resident sets. Adding each process's own peak (VmHWM) overstates it:
the window peaks while it builds a graph, the model while it embeds an import. Sampled
every 20 ms here, in a process of its own, so the window's interpreter lock is never
taken; a spike shorter than that can be missed, which VmHWM would not.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from pathlib import Path


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:  # it has ended
        pass
    return 0


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children(p)
    return out


def main() -> int:
    root = int(sys.argv[1])
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    peak, parts, pids, looked = 0, {}, [root], 0.0
    while not stop and Path(f"/proc/{root}").exists():
        now = time.monotonic()
        if now - looked > 0.5:  # new children (the model's process) are rare
            pids, looked = [p for p in tree(root) if p != os.getpid()], now
        sizes = {p: rss_kb(p) for p in pids}
        if sum(sizes.values()) > peak:
            peak, parts = sum(sizes.values()), sizes
        time.sleep(0.02)
    # The peak, and what each process held at that moment (the root first).
    order = [root] + [p for p in parts if p != root]
    shares = [round(parts.get(p, 0) / 1024, 1) for p in order]
    with contextlib.suppress(BrokenPipeError):  # the bench it measured for has ended
        print(json.dumps({"peak_mb": round(peak / 1024, 1), "shares_mb": shares}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
