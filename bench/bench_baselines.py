"""The floors and the peers, measured in the same run as MemLens: Chroma's own get and
query, the model's own encode, Mem0's own get_all and search on a Mem0 store of the same
memories, and MemLens on that same Mem0 store.

    .venv/bin/python bench/bench_baselines.py --sizes 1000 10000 100000

Queries are bench_window's typed prefixes (40). Mem0 calls are filtered by one user, as
Mem0 requires; MemLens is measured with that filter too, and without. Writes
bench/results/baselines.json.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_window import searches
from benchlib import format_table, median, percentile, timed, write_result
from mem0_synthetic import mem0_store, open_mem0
from synthetic import synthetic_store

USER = "alice"  # a tenth of the memories
PAGE = 1000


def ms(values: list[float]) -> tuple[float, float]:
    return percentile(values, 50) * 1000, percentile(values, 95) * 1000


def each(fn, items) -> list[float]:
    out = []
    for item in items:
        t = time.perf_counter()
        fn(item)
        out.append(time.perf_counter() - t)
    return out


def chroma_floor(n: int, vectors) -> dict:
    import chromadb
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False)
    col = chromadb.PersistentClient(path=str(synthetic_store(n)), settings=settings).get_collection("bench")
    last = max(0, col.count() - PAGE)  # the newest page, as MemLens reads it first
    row: dict = {}
    page = timed(lambda: col.get(limit=PAGE, offset=last, include=["documents", "metadatas"]), 5)[0]
    row["chroma_get_page_ms"] = page * 1000

    def get_all() -> None:
        offset = 0
        while got := col.get(limit=2000, offset=offset, include=["documents", "metadatas"])["ids"]:
            offset += len(got)

    row["chroma_get_all_s"] = timed(get_all)[0]
    row["chroma_query_p50_ms"], row["chroma_query_p95_ms"] = ms(
        each(lambda v: col.query(query_embeddings=[v], n_results=50, include=["distances"]), vectors)
    )
    return row


def mem0_and_memlens(n: int, queries: list[str], embedder) -> dict:
    from memlens.core.chroma_store import ChromaBackend
    from memlens.core.query import Filter
    from memlens.core.workspace import open_service

    row: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mem0"
        shutil.copytree(mem0_store(n), path, ignore=shutil.ignore_patterns("READY"))
        os.environ["MEMLENS_DATA_DIR"] = str(Path(tmp) / "data")
        memory = open_mem0(path)
        memory.search(queries[0], filters={"user_id": USER}, top_k=50)  # its model loaded
        row["mem0_get_all_page_ms"] = (
            timed(lambda: memory.get_all(filters={"user_id": USER}, top_k=PAGE), 3)[0] * 1000
        )
        row["mem0_get_all_user_s"] = timed(lambda: memory.get_all(filters={"user_id": USER}, top_k=n))[0]
        row["mem0_search_p50_ms"], row["mem0_search_p95_ms"] = ms(
            each(lambda q: memory.search(q, filters={"user_id": USER}, top_k=50), queries)
        )

        service = open_service(ChromaBackend.open_path(path), embedder, "mem0")
        row["memlens_mem0_load_s"] = timed(service.load)[0]
        mine = Filter(users=frozenset({USER}))
        row["memlens_mem0_page_ms"] = timed(lambda: service.records(service.select(mine)[:PAGE]), 3)[0] * 1000
        row["memlens_mem0_search_user_p50_ms"], row["memlens_mem0_search_user_p95_ms"] = ms(
            each(lambda q: service.semantic_search(q, 50, mine), queries)
        )
        row["memlens_mem0_search_p50_ms"], row["memlens_mem0_search_p95_ms"] = ms(
            each(lambda q: service.semantic_search(q, 50), queries)
        )
        service.journal.close()
    return row


def run_size(n: int, queries: list[str], vectors, embedder, encode: tuple[float, float]) -> dict:
    row = {"n": n}
    row["encode_query_p50_ms"], row["encode_query_p95_ms"] = encode
    row.update(chroma_floor(n, vectors))
    row.update(mem0_and_memlens(n, queries, embedder))
    return row


COLUMNS = [
    ("n", "memories", "{:,}"),
    ("encode_query_p50_ms", "encode p50 ms", "{:.1f}"),
    ("chroma_get_page_ms", "chroma page ms", "{:.0f}"),
    ("chroma_get_all_s", "chroma all s", "{:.1f}"),
    ("chroma_query_p50_ms", "chroma query ms", "{:.1f}"),
    ("mem0_get_all_page_ms", "mem0 get_all ms", "{:.0f}"),
    ("memlens_mem0_page_ms", "memlens page ms", "{:.0f}"),
    ("mem0_search_p50_ms", "mem0 search p50", "{:.0f}"),
    ("mem0_search_p95_ms", "mem0 search p95", "{:.0f}"),
    ("memlens_mem0_search_user_p50_ms", "memlens user p50", "{:.0f}"),
    ("memlens_mem0_search_user_p95_ms", "memlens user p95", "{:.0f}"),
    ("memlens_mem0_search_p95_ms", "memlens all p95", "{:.0f}"),
    ("memlens_mem0_load_s", "memlens load s", "{:.1f}"),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    args = parser.parse_args()
    from memlens.core.embedder import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder()
    embedder.load()
    queries = searches()
    embedder.encode(queries[:2])  # warm
    encode_times = each(lambda q: embedder.encode([q]), queries)
    vectors = embedder.encode(queries)
    rows = []
    for n in args.sizes:
        print(f"baselines: {n:,} memories…", file=sys.stderr, flush=True)
        rows.append(run_size(n, queries, vectors, embedder, ms(encode_times)))
    print(format_table(rows, COLUMNS))
    write_result("baselines", rows, queries=len(queries), user=USER, encode_median_s=median(encode_times))
    return 0


if __name__ == "__main__":
    sys.exit(main())
