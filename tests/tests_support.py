"""Small helpers for tests (not fixtures)."""

from __future__ import annotations

import ast
import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

REPO = Path(__file__).resolve().parents[1]


def source_files_importing(module: str) -> list[str]:
    """Files under app/ and plugins/ that import `module` (or a submodule of it)."""
    found = []
    for path in sorted([*REPO.glob("app/**/*.py"), *REPO.glob("plugins/**/*.py")]):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(n == module or n.startswith(module + ".") for n in names):
                found.append(str(path.relative_to(REPO)))
                break
    return found


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    """`memlens ARGV` in this process, as the console script runs it: (exit code, stdout,
    stderr), errors as the one line a user sees."""
    from memlens import cli

    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def rec(i: int, text: str, **kw):
    """Memory m<i> of alice in session s1 (unless `kw` says otherwise), made on 1 March 2026."""
    from memlens.core.record import MemoryRecord

    base = dict(user_id="alice", session_id="s1")
    base.update(kw)
    return MemoryRecord(id=f"m{i}", text=text, created_at=datetime(2026, 3, 1, tzinfo=UTC), **base)


# Four memories of two users, searched by the trace, pin and why-not tests.
SEED = [
    rec(1, "Alice is allergic to peanuts and carries an EpiPen."),
    rec(2, "Alice's daughter Maya plays the violin."),
    rec(3, "Bob prefers window seats on long flights.", user_id="bob"),
    rec(4, "Bob moved to Lisbon in 2021.", user_id="bob"),
]


class QueryRecorder:
    """A real store that notes each nearest-neighbour query it answers: (vectors, k)."""

    def __init__(self, store) -> None:
        self._store = store
        self.queries: list[tuple[int, int]] = []

    def __getattr__(self, name: str):
        return getattr(self._store, name)

    def query_many(self, embeddings, k: int):
        self.queries.append((len(embeddings), k))
        return self._store.query_many(embeddings, k)

    @property
    def rows(self) -> int:
        """Vectors asked about so far."""
        return sum(n for n, _ in self.queries)


def json_file_keyring(path):
    """A keyring backend (keyring's own plug-in API) keeping entries in a JSON file: the
    desktop keyring a test machine lacks."""
    from keyring.backend import KeyringBackend

    class JsonFileKeyring(KeyringBackend):
        priority = 1  # what keyring's real backends rank at least
        readers: ClassVar[list[str]] = []  # the thread of each read: a keyring may block

        def _entries(self) -> dict:
            return json.loads(path.read_text()) if path.exists() else {}

        def get_password(self, service, username):
            self.readers.append(threading.current_thread().name)
            return self._entries().get(f"{service}/{username}")

        def set_password(self, service, username, password):
            path.write_text(json.dumps({**self._entries(), f"{service}/{username}": password}))

        def delete_password(self, service, username):
            entries = self._entries()
            entries.pop(f"{service}/{username}")
            path.write_text(json.dumps(entries))

    return JsonFileKeyring()
