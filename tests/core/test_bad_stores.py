"""Opening things that are not a usable store: a clear message, and nothing written."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import chromadb  # test fixtures build foreign stores with the library itself
import numpy as np
import pytest
from chromadb.config import Settings

from memlens.core.chroma_store import ChromaBackend
from memlens.core.service import DimensionMismatch
from memlens.core.store import StoreError
from memlens.core.workspace import JOURNAL_FILENAME, open_service


def snapshot(path):
    return sorted((p.relative_to(path), p.stat().st_size) for p in path.rglob("*") if p.is_file())


def test_folder_with_other_files_is_not_a_store(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(StoreError, match=r"not a Chroma store: it has files but no chroma\.sqlite3"):
        ChromaBackend.open_path(tmp_path)
    assert snapshot(tmp_path) == [(tmp_path.joinpath("notes.txt").relative_to(tmp_path), 5)]


def test_a_file_is_not_a_store(tmp_path):
    f = tmp_path / "memories.jsonl"
    f.write_text("{}")
    with pytest.raises(StoreError, match="is a file, not a store folder"):
        ChromaBackend.open_path(f)


def test_corrupted_store_is_refused_and_left_alone(tmp_path):
    (tmp_path / "chroma.sqlite3").write_bytes(b"this is not sqlite" * 100)
    before = snapshot(tmp_path)
    with pytest.raises(StoreError, match="not a readable Chroma store"):
        ChromaBackend.open_path(tmp_path)
    assert snapshot(tmp_path) == before


def test_missing_folder_is_not_created_when_asked_not_to(tmp_path):
    with pytest.raises(StoreError, match="does not exist"):
        ChromaBackend.open_path(tmp_path / "nope", create=False)
    assert not (tmp_path / "nope").exists()


@pytest.mark.skipif(
    not shutil.which("setpriv") or os.geteuid() != 0, reason="needs root to switch to 'nobody'"
)
def test_unreadable_store_folder_gives_one_clear_line(tmp_path):
    store = tmp_path / "private"
    chromadb.PersistentClient(str(store), settings=Settings(anonymized_telemetry=False)).create_collection(
        "abc"
    )
    store.chmod(0o700)  # root's; 'nobody' may not enter
    tmp_path.chmod(0o755)
    cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-m", "memlens"]
    env = {**os.environ, "MEMLENS_DATA_DIR": "/tmp", "HOME": "/tmp"}
    out = subprocess.run(
        [*cmd, "stats", "--store", str(store)], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 1
    assert out.stderr.strip() == f"memlens: Cannot read {store}: permission denied."


def test_wrong_embedding_dimension_is_refused_without_writing(tmp_path, embedder):
    client = chromadb.PersistentClient(str(tmp_path), settings=Settings(anonymized_telemetry=False))
    col = client.create_collection("openai_memories", embedding_function=None)
    col.add(ids=["a"], embeddings=[np.ones(1536, dtype=np.float32)], documents=["from another model"])
    before = snapshot(tmp_path)
    backend = ChromaBackend.open_path(tmp_path)
    with pytest.raises(DimensionMismatch) as err:
        open_service(backend, embedder, "openai_memories")
    message = str(err.value)
    assert "1536-dimensional" in message and "384-dimensional" in message and "--model" in message
    assert not (tmp_path / JOURNAL_FILENAME).exists()
    assert snapshot(tmp_path) == before
    assert backend.collections()[0].dimension == 1536


def test_an_import_the_store_refuses_half_way_is_rolled_back_at_once(tmp_path, make_service, capsys):
    """Chroma refuses a metadata key starting with '$' (its operators' prefix), and learns of
    it only when that batch is written: the batches before it were already in the store."""
    import json
    import re

    from memlens.core.importers.formats import apply_import, read_import
    from memlens.core.journal import ROLLED_BACK
    from memlens.core.record import MemoryRecord
    from memlens.core.service import WriteFailed
    from tests_support import run_cli

    service = make_service()
    service.add([MemoryRecord(id="keep", text="Alice likes tea")])
    path = tmp_path / "facts.jsonl"
    extras = {10: {"scores": [1, "high"]}, 120: {"$schema": "v1"}}  # a mixed list is fine (as JSON)
    path.write_text(
        "".join(
            json.dumps({"id": f"i{n:03d}", "text": f"imported fact {n}", "extra": extras.get(n, {})}) + "\n"
            for n in range(150)
        ),
        encoding="utf-8",
    )
    _fmt, parsed = read_import(path)
    assert parsed.errors == []
    with pytest.raises(WriteFailed) as err:
        apply_import(service, parsed, "facts.jsonl")
    message = str(err.value)
    assert message.startswith("Import facts.jsonl failed and was rolled back; nothing was changed.")
    # Batches are sized by time: whichever it was, it holds the bad line and says where it starts.
    span = re.search(r"The store refused memories (\d+)-(\d+) of 150 \(from 'i(\d+)'\)", message)
    assert span, message
    first, last, named = map(int, span.groups())
    assert first <= 121 <= last and named == first - 1
    assert service.store.count() == 1  # the batches written before it are gone again
    assert service.select() == ["keep"]
    assert service.journal.groups(service.store.collection)[-1].state == ROLLED_BACK
    assert service.undo().label == "Add 1 memory"  # the failed import is not an undo step

    # From the command line: the same, in one line, with a non-zero exit.
    code, out, err_text = run_cli(capsys, "import", str(path), "--store", str(tmp_path / "store"))
    assert code == 1 and out == ""
    assert err_text.count("\n") == 1 and "rolled back; nothing was changed" in err_text
    assert make_service().store.count() == 0
