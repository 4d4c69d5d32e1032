"""An agent with its own embedded Chroma client on a folder, as Mem0 or LangChain keep one:
it opens the store, says "open", and holds it until its input closes.

    python tests/ingest/agents/embedded_agent.py STORE_FOLDER
"""

import sys

import chromadb
from chromadb.config import Settings

client = chromadb.PersistentClient(path=sys.argv[1], settings=Settings(anonymized_telemetry=False))
client.get_or_create_collection("agent-memories").count()
print("open", flush=True)
sys.stdin.read()
