"""A Mem0 agent in its own process whose `mem0.Memory` is wrapped by MemLensMemory.

The same JSON-lines agent as tests/interop/agent.py (add, update, delete, search, ...
with infer=False: no language model), except that every call is also reported to the
MemLens found through MEMLENS_URL / MEMLENS_TOKEN (or MemLens' data folder).

    python tests/ingest/agents/mem0_agent.py --path /tmp/mem0-store
    python tests/ingest/agents/mem0_agent.py --server http://127.0.0.1:8000   # history.db in the cwd
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "interop"))

from agent import handle, make_memory  # tests/interop/agent.py

from memlens.client import connect
from memlens.client.mem0 import MemLensMemory


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--path", help="Mem0's Chroma folder")
    where.add_argument("--server", help="a Chroma server URL (shared with MemLens)")
    p.add_argument("--collection", default="mem0")
    args = p.parse_args()
    args.tenant = args.database = args.token = args.token_header = None
    args.history = None if args.path else "agent-history.db"
    client = connect()
    memory = MemLensMemory(
        make_memory(args), client=client, agent="mem0-agent", title="Mem0 with infer=False"
    )
    print(json.dumps({"ready": True, "session": memory.session.id}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            answer = handle(memory, json.loads(line))
        except Exception as exc:  # report and keep serving
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        client.flush(10)
        print(json.dumps(answer, default=str), flush=True)
    memory.close()
    client.close()
    print(json.dumps({"sent": client.sent, "dropped": client.dropped}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
