"""Following other writers: what one look at the store costs, embedded and on a server.

    .venv/bin/python bench/bench_watch.py --sizes 1000 10000 100000

For each size: the first look (compares the store with what MemLens loaded); a quick look
(ids only: sees additions and deletions; runs every 2 s); a full look when nothing changed
(ids, texts and metadata: sees edits); a full look after another writer changed 10
memories (re-reads just those). Full looks are spaced so that they take at most a tenth of
the time (`next_interval`); the last column is that spacing, i.e. how long an edit by
another writer can take to show (additions and deletions show within the 2 s).
Server figures use a local `chroma run` (loopback HTTP). Prints a table; writes
bench/results/watch.json. Times are medians of 3.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests" / "interop"))

from processes import ChromaServer  # noqa: E402
from synthetic import records_and_vectors, synthetic_store  # noqa: E402

from memlens.core.chroma_store import ChromaBackend  # noqa: E402
from memlens.core.journal import Journal  # noqa: E402
from memlens.core.server_spec import ServerSpec  # noqa: E402
from memlens.core.service import MemoryService  # noqa: E402
from memlens.core.store import StoredMemory  # noqa: E402
from memlens.core.watch import StoreWatcher, next_interval  # noqa: E402

RESULTS = HERE / "results"
BATCH = 5000


class NoModel:
    """The watcher never embeds; the service only needs the model's name and size."""

    name = "none"
    dimension = 384


def _service(store, tmp: Path) -> MemoryService:
    service = MemoryService(store, Journal(tmp / f"journal-{time.monotonic_ns()}.sqlite3"), NoModel())
    service.load()
    return service


def _server_store(server: ChromaServer, n: int):
    store = ChromaBackend.connect(ServerSpec.parse(server.url)).open(f"bench-{n}", create=True)
    if store.count() != n:
        records, vectors = records_and_vectors(n)
        for i in range(0, n, BATCH):
            store.upsert(
                [
                    StoredMemory(r, v)
                    for r, v in zip(records[i : i + BATCH], vectors[i : i + BATCH], strict=True)
                ]
            )
    return store


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def measure(store, tmp: Path) -> dict:
    service = _service(store, tmp)
    watcher = StoreWatcher(service)
    first = _timed(watcher.poll)
    quick = statistics.median(_timed(lambda: watcher.poll(full=False)) for _ in range(3))
    idle = statistics.median(_timed(lambda: watcher.poll(full=True)) for _ in range(3))
    # Another writer: a second handle on the same store edits 10 memories' metadata
    # (put back afterwards: the synthetic stores are shared with the other benchmarks).
    originals = [s.record for s in store.get(service.select_all()[:10])]
    store.update_metadata([r.replace(tags=("changed-elsewhere",)) for r in originals])
    try:
        t = time.perf_counter()
        result = watcher.poll(full=True)
        changed = time.perf_counter() - t
    finally:
        store.update_metadata(originals)
    assert result.change is not None and len(result.change.ids) == 10, result
    return {
        "first_look_s": round(first, 3),
        "quick_look_s": round(quick, 3),
        "idle_look_s": round(idle, 3),
        "look_after_10_changes_s": round(changed, 3),
        "interval_s": round(next_interval(2.0, idle), 1),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    p.add_argument("--no-server", action="store_true")
    args = p.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        server = None if args.no_server else ChromaServer(tmp / "server-db").start()
        try:
            for n in args.sizes:
                local = ChromaBackend.open_path(synthetic_store(n)).open("bench")
                rows.append({"n": n, "where": "folder", **measure(local, tmp)})
                print(rows[-1], flush=True)
                if server is not None:
                    rows.append({"n": n, "where": "server", **measure(_server_store(server, n), tmp)})
                    print(rows[-1], flush=True)
        finally:
            if server is not None:
                server.stop()
    head = ("n", "store", "first look", "quick look", "full look", "10 changed", "full every")
    print("\n{:>8}  {:<7} {:>11} {:>11} {:>11} {:>11} {:>11}".format(*head))
    for r in rows:
        print(
            f"{r['n']:>8,}  {r['where']:<7} {r['first_look_s']:>10.3f}s {r['quick_look_s']:>10.3f}s "
            f"{r['idle_look_s']:>10.3f}s {r['look_after_10_changes_s']:>10.3f}s {r['interval_s']:>10.1f}s"
        )
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "watch.json"
    # Rows of other sizes from earlier runs are kept (100k is usually run on its own).
    earlier = json.loads(path.read_text())["rows"] if path.exists() else []
    fresh = {(r["n"], r["where"]) for r in rows}
    merged = sorted(
        [r for r in earlier if (r["n"], r["where"]) not in fresh] + rows, key=lambda r: (r["n"], r["where"])
    )
    out = {"machine": platform.platform(), "python": platform.python_version(), "rows": merged}
    path.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
