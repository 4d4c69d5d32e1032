"""An agent in its own process that reports to MemLens with `memlens.client`.

It keeps its own memory (a dict, searched by shared words) and reads one user message
per stdin line. Each turn: the message, a timed retrieval, a new memory, an answer; then
it prints {"turn": n, "session": id} so a test can look at MemLens while the agent is
still running. "update ID TEXT" and "delete ID" lines change a memory instead. At the
end it prints what the client delivered and which heavy modules it imported (none).

    MEMLENS_URL=... MEMLENS_TOKEN=... python tests/ingest/agents/notes_agent.py
"""

from __future__ import annotations

import json
import re
import sys

from memlens.client import connect


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


def search(memories: dict[str, str], query: str, k: int) -> list[tuple[str, float, str]]:
    q = words(query)
    scored = [(mid, len(q & words(text)) / (len(q) or 1), text) for mid, text in memories.items()]
    return sorted((s for s in scored if s[1] > 0), key=lambda s: -s[1])[:k]


def main() -> int:
    client = connect(capacity=int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
    memories: dict[str, str] = {}
    with client.session("notes-agent", title="a test conversation") as session:
        for n, line in enumerate(sys.stdin, 1):
            text = line.strip()
            if not text:
                continue
            command, _, rest = text.partition(" ")
            if command == "update":
                mid, _, new = rest.partition(" ")
                before, memories[mid] = memories.get(mid), new
                session.memory_updated(mid, new, before=before)
            elif command == "delete":
                session.memory_deleted(rest, memories.pop(rest, None))
            else:
                session.message("user", text)
                with session.retrieving(text, k=3) as r:
                    r.hits = search(memories, text, 3)
                mid = f"note-{n}"
                memories[mid] = text
                session.memory_added(mid, text, record={"id": mid, "text": text, "user_id": "alice"})
                session.message("assistant", f"Noted ({len(r.hits)} related note(s)).")
            delivered = client.flush(10)
            print(json.dumps({"turn": n, "session": session.id, "delivered": delivered}), flush=True)
    client.close()
    heavy = sorted(m for m in ("numpy", "chromadb", "PySide6", "memlens.core") if m in sys.modules)
    print(json.dumps({"sent": client.sent, "dropped": client.dropped, "heavy": heavy}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
