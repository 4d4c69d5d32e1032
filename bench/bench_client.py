"""What reporting to MemLens costs an agent: memlens.client's time per event, on the
agent's thread, against a no-op baseline; and how fast events reach a real `memlens serve`.

    .venv/bin/python bench/bench_client.py [--events 20000]

Each call is timed on its own (perf_counter_ns); the table gives the median and the 99th
percentile over all calls. Cases:
- no-op: the same method calls on an object that does nothing (Python's call cost);
- memory_added / retrieval (5 hits): the client, with `memlens serve` running in another
  process on a temporary store (it records every event and every retrieval as a trace);
- MemLens not running: the client with nothing listening (the buffer fills, then drops).
"Delivered" is the end-to-end rate: from the first call until MemLens has taken them all.
Prints a table and writes bench/results/client.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
TEXT = "Alice moved from Paris to Lyon in March and now works at the city library."
HITS = [{"id": f"mem-{n}", "score": 0.9 - n / 10, "memory": TEXT} for n in range(5)]


class NoOpSession:
    """The baseline: the client's methods, doing nothing."""

    def memory_added(self, memory_id, text, record=None, latency_ms=None) -> None:
        pass

    def retrieval(self, query, hits=(), k=None, latency_ms=None) -> None:
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_serve(store: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "memlens", "serve", "--store", str(store), "--port", str(port), "--quiet"],
        stderr=subprocess.PIPE,
        text=True,
    )
    for line in proc.stderr:
        if line.startswith("Listening for agents on "):
            return proc
    raise SystemExit(f"memlens serve did not start: {proc.stderr.read()}")


def per_call(fn, n: int) -> list[float]:
    """Microseconds of each of n calls of fn(i)."""
    clock = time.perf_counter_ns
    out = []
    for i in range(n):
        t0 = clock()
        fn(i)
        out.append((clock() - t0) / 1000)
    return out


def row(name: str, times: list[float], extra: str = "") -> dict:
    p99 = statistics.quantiles(times, n=100)[98]
    return {
        "case": name,
        "calls": len(times),
        "median_us": statistics.median(times),
        "p99_us": p99,
        "note": extra,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=20_000)
    n = ap.parse_args().events
    tmp = Path(tempfile.mkdtemp(prefix="memlens-bench-client-"))
    os.environ["MEMLENS_DATA_DIR"] = str(tmp / "data")
    (tmp / "store").mkdir()
    port = free_port()
    serve = start_serve(tmp / "store", port)
    from memlens.client import connect

    rows = []
    try:
        noop = NoOpSession()
        rows.append(
            row("no-op baseline: memory_added", per_call(lambda i: noop.memory_added(f"m{i}", TEXT), n))
        )
        rows.append(row("no-op baseline: retrieval", per_call(lambda i: noop.retrieval("q", HITS, k=5), n)))

        client = connect(f"http://127.0.0.1:{port}", capacity=2 * n)
        session = client.session("bench-agent")
        start = time.perf_counter()
        times = per_call(lambda i: session.memory_added(f"m{i}", TEXT), n)
        assert client.flush(300), client.last_error
        rate = n / (time.perf_counter() - start)
        rows.append(row("client: memory_added", times, f"delivered {rate:,.0f} events/s"))
        start = time.perf_counter()
        times = per_call(lambda i: session.retrieval(f"query {i}", HITS, k=5, latency_ms=1.0), n)
        assert client.flush(300), client.last_error
        rate = n / (time.perf_counter() - start)
        rows.append(row("client: retrieval (5 hits)", times, f"delivered {rate:,.0f} events/s, traces kept"))
        assert client.dropped == 0
        client.close()

        away = connect(f"http://127.0.0.1:{free_port()}", capacity=10_000, exit_timeout=0.1)
        s = away.session("bench-agent")
        times = per_call(lambda i: s.memory_added(f"m{i}", TEXT), n)
        rows.append(row("client, MemLens not running", times, f"{away.dropped:,} dropped past the buffer"))
        away.close(0.1)
    finally:
        serve.terminate()
        serve.wait(60)

    base = rows[0]["median_us"]
    print(f"{'case':<32} {'calls':>7} {'median µs':>10} {'p99 µs':>8} {'over no-op':>10}  note")
    for r in rows:
        over = r["median_us"] - (rows[1]["median_us"] if "retrieval" in r["case"] else base)
        cells = f"{r['case']:<32} {r['calls']:>7} {r['median_us']:>10.2f} {r['p99_us']:>8.1f} {over:>10.2f}"
        print(f"{cells}  {r['note']}")
    RESULTS.mkdir(exist_ok=True)
    result = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "system": platform.platform(),
        },
        "rows": rows,
    }
    (RESULTS / "client.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
