"""An agent in another process: Mem0 on a Chroma server (or a folder), driven by JSON lines.

Tests start it as a subprocess to write into the store MemLens has open; people can
run it by hand to watch MemLens follow along (docs/INTEROP.md):

    printf '%s\\n' '{"op": "add", "text": "Alice moved to Lyon", "user_id": "alice"}' |
        .venv/bin/python tests/interop/agent.py --server http://127.0.0.1:8000

One JSON answer per command line: add -> {"id"}, update/delete -> {"ok": true},
get_all/search -> {"results": [...]} (Mem0's own output), history -> {"results": [...]}.
Errors come back as {"error": "..."} and the agent keeps going.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

os.environ.setdefault("MEM0_TELEMETRY", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OPENAI_API_KEY", "sk-unused")  # infer=False: no LLM is called


def make_memory(args: argparse.Namespace):
    import chromadb
    from chromadb.config import Settings
    from mem0 import Memory

    from memlens.core.embedder import resolve_model
    from memlens.core.server_spec import ServerSpec

    if args.path:  # Mem0's embedded layout: a folder, history.db beside it
        where = {"path": args.path}
        args.history = args.history or os.path.join(args.path, "history.db")
    else:
        spec = ServerSpec.parse(args.server, args.tenant, args.database, args.token, args.token_header)
        client = chromadb.HttpClient(
            host=spec.host,
            port=spec.port,
            ssl=spec.ssl,
            headers=spec.headers(),
            tenant=spec.tenant,
            database=spec.database,
            settings=Settings(anonymized_telemetry=False),
        )
        where = {"client": client}
    config = {
        "vector_store": {"provider": "chroma", "config": {"collection_name": args.collection, **where}},
        "embedder": {"provider": "huggingface", "config": {"model": resolve_model(), "embedding_dims": 384}},
        "history_db_path": args.history,
    }
    return Memory.from_config(config)


def handle(memory, cmd: dict) -> dict:
    op = cmd.get("op")
    if op == "add":
        out = memory.add(
            cmd["text"], user_id=cmd.get("user_id", "alice"), infer=False, metadata=cmd.get("metadata")
        )
        return {"id": out["results"][0]["id"]}
    if op == "update":
        memory.update(cmd["id"], cmd["text"])
        return {"ok": True}
    if op == "delete":
        memory.delete(cmd["id"])
        return {"ok": True}
    if op == "get_all":
        return memory.get_all(filters={"user_id": cmd.get("user_id", "alice")}, top_k=cmd.get("top_k", 100))
    if op == "search":
        return memory.search(cmd["query"], filters={"user_id": cmd.get("user_id", "alice")})
    if op == "history":
        return {"results": memory.history(cmd["id"])}
    return {"error": f"unknown op {op!r}"}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--server", help="a Chroma server URL")
    where.add_argument("--path", help="a Chroma folder (Mem0's embedded store)")
    p.add_argument("--tenant")
    p.add_argument("--database")
    p.add_argument("--token")
    p.add_argument("--token-header")
    p.add_argument("--collection", default="mem0")
    p.add_argument("--history", help="Mem0's history.db (default: beside --path, else ./agent-history.db)")
    args = p.parse_args()
    if args.server and not args.history:
        args.history = "agent-history.db"
    memory = make_memory(args)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            answer = handle(memory, json.loads(line))
        except Exception as exc:  # report and keep serving
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(answer, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
