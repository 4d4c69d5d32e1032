"""Mem0 keeps history.db where its config says, by default in ~/.mem0 ($MEM0_DIR), not
beside its vectors: MemLens finds it there when it records the store's memories."""

from __future__ import annotations

import os

from memlens.core.mem0_history import FILENAME


def mem0_with_default_history(tmp_path, embedder, home):
    from mem0 import Memory

    config = {
        "vector_store": {
            "provider": "chroma",
            "config": {"collection_name": "mem0", "path": str(tmp_path / "vectors")},
        },
        "embedder": {"provider": "huggingface", "config": {"model": embedder.name, "embedding_dims": 384}},
        "history_db_path": str(home / FILENAME),  # what Mem0's default resolves to
    }
    return Memory.from_config(config)


def test_mem0s_default_history_is_found_when_it_records_the_store(
    tmp_path, embedder, make_service, monkeypatch
):
    monkeypatch.setenv("OPENAI_API_KEY", os.environ.get("OPENAI_API_KEY", "sk-test-dummy"))
    home = tmp_path / "mem0-home"
    home.mkdir()
    monkeypatch.setenv("MEM0_DIR", str(home))
    memory = mem0_with_default_history(tmp_path, embedder, home)
    tea = memory.add("Alice likes green tea", user_id="alice", infer=False)["results"][0]["id"]

    service = make_service("mem0", path=tmp_path / "vectors")
    assert service.mem0_history is not None and service.mem0_history.path == home / FILENAME
    assert [e.event for e in service.mem0_events(tea)] == ["ADD"]
    service.edit(tea, text="Alice likes oolong tea")
    assert [(h["event"], h["actor_id"]) for h in memory.history(tea)] == [
        ("ADD", None),
        ("UPDATE", "memlens"),
    ]


def test_a_default_history_of_other_agents_is_left_alone(tmp_path, embedder, make_service, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", os.environ.get("OPENAI_API_KEY", "sk-test-dummy"))
    home = tmp_path / "mem0-home"
    home.mkdir()
    monkeypatch.setenv("MEM0_DIR", str(home))
    other = mem0_with_default_history(tmp_path / "other", embedder, home)
    other.add("Bob likes jazz", user_id="bob", infer=False)
    mine = mem0_with_default_history(tmp_path / "mine", embedder, tmp_path / "mine")  # history beside it
    mine.add("Alice likes tea", user_id="alice", infer=False)
    (tmp_path / "mine" / FILENAME).unlink()  # lost: nothing else records these memories

    service = make_service("mem0", path=tmp_path / "mine" / "vectors")
    assert service.mem0_history is None  # Bob's agent's history says nothing of Alice's store
