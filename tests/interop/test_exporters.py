"""Exporting: Mem0's own JSON shape, CSV and GraphML, read back with the tools people use."""

from __future__ import annotations

import csv
import json

import networkx as nx
import pytest

from memlens.core.exporters.formats import export_records
from memlens.core.importers.formats import apply_import, read_import
from memlens.core.record import MemoryRecord


def test_mem0_json_is_exactly_what_mem0_reports(mem0_memory, make_service, tmp_path):
    mem0_memory.add("Alice likes green tea", user_id="alice", infer=False, metadata={"topic": "drinks"})
    lyon = mem0_memory.add(
        "Alice lives in Paris", user_id="alice", agent_id="concierge", run_id="r1", infer=False
    )
    mem0_memory.add("Bob runs on Sundays", user_id="bob", infer=False)
    service = make_service(path=mem0_memory.store_path)
    service.edit(lyon["results"][0]["id"], text="Alice lives in Lyon")

    out = tmp_path / "mem0.json"
    assert export_records(service.records(service.select()), "mem0-json", out) == 3
    exported = {m["id"]: m for m in json.loads(out.read_text(encoding="utf-8"))["results"]}
    mem0_own = {
        m["id"]: m
        for user in ("alice", "bob")
        for m in mem0_memory.get_all(filters={"user_id": user})["results"]
    }
    assert exported == mem0_own
    assert {m["memory"] for m in exported.values()} >= {"Alice lives in Lyon"}


def test_csv_keeps_every_field_and_awkward_text(service, tmp_path):
    awkward = 'She said "hi", then:\nnew line; <b>bold</b>, =1+1'
    service.add(
        [
            MemoryRecord(id="a", text=awkward, user_id="alice", tags=("x", "y"), importance=0.5),
            MemoryRecord(id="b", text="plain", links=("a",), extra={"origin": "crm", "n": 3}),
        ]
    )
    out = tmp_path / "m.csv"
    export_records(service.records(["a", "b"]), "csv", out)
    with open(out, encoding="utf-8", newline="") as fh:
        rows = {r["id"]: r for r in csv.DictReader(fh)}
    assert rows["a"]["text"] == awkward
    assert (rows["a"]["user_id"], json.loads(rows["a"]["tags"]), rows["a"]["importance"]) == (
        "alice",
        ["x", "y"],
        "0.5",
    )
    assert rows["a"]["created_at"] == service.get("a").created_at.isoformat()
    assert json.loads(rows["b"]["links"]) == ["a"]
    assert json.loads(rows["b"]["extra"]) == {"n": 3, "origin": "crm"}
    assert rows["b"]["user_id"] == "" and rows["b"]["status"] == "active"


def test_graphml_opens_in_networkx_with_the_memory_graph(service, tmp_path):
    service.add(
        [
            MemoryRecord(id="a", text="Maya adopted a dog", session_id="s1"),
            MemoryRecord(id="b", text="The dog is called Rex", session_id="s1", links=("a",)),
            MemoryRecord(id="c", text="Tom plays chess", session_id="s2"),
        ]
    )
    out = tmp_path / "g.graphml"
    export_records(service.records(["a", "b", "c"]), "graphml", out, service.store)
    graph = nx.read_graphml(out)
    assert set(graph.nodes) == {"a", "b", "c"}
    assert graph.nodes["b"]["label"] == "The dog is called Rex"
    assert graph.nodes["b"]["session"] == "s1"
    assert set(graph.edges["a", "b"]["types"].split(",")) >= {"link", "session"}
    assert not graph.has_edge("a", "c") or "session" not in graph.edges["a", "c"]["types"]


def test_a_failed_export_leaves_no_file(service, tmp_path):
    service.add([MemoryRecord(id="a", text="x")])
    target = tmp_path / "missing-folder" / "out.csv"
    with pytest.raises(FileNotFoundError):
        export_records(service.records(["a"]), "csv", target)
    assert not target.parent.exists()
    done = tmp_path / "out.jsonl"
    export_records(service.records(["a"]), "jsonl", done)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("out")] == ["out.jsonl"]


EXTRA = {
    "nested": {"a": 1, "b": {"c": [1, "two", None]}},
    "mixed": [1, "a"],
    "empty": [],
    "blank": {},
    "nothing": None,
    "looks_like_json": '{"a": 1}',
    "list_text": "[1, 2]",
    "words": ["x", "y"],
    "n": 3,
}


def test_extra_comes_back_as_given_through_import_and_export(make_service, tmp_path):
    """Chroma holds no nested values, so they are stored as JSON text; MemLens' own round
    trip still gives back what the user wrote, and text that looks like JSON stays text."""
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"id": "m1", "text": "Alice likes tea", "extra": EXTRA}) + "\n", "utf-8")
    _fmt, parsed = read_import(source)
    apply_import(make_service(), parsed, source.name)
    make_service().edit("m1", text="Alice likes green tea")  # written again, from the store's copy

    service = make_service()  # read back from the store, not from what was added
    jsonl = tmp_path / "out.jsonl"
    export_records(service.records(["m1"]), "jsonl", jsonl)
    assert json.loads(jsonl.read_text(encoding="utf-8"))["extra"] == EXTRA
    mem0 = tmp_path / "out.json"
    export_records(service.records(["m1"]), "mem0-json", mem0)
    [item] = json.loads(mem0.read_text(encoding="utf-8"))["results"]
    assert item["metadata"] == EXTRA


def test_a_foreign_string_that_looks_like_json_stays_a_string(langchain_store, make_service, tmp_path):
    metadata = {"config": '{"a": 1}', "ids": "[1, 2]", "user": "bob"}
    [doc_id] = langchain_store.add_texts(["Bob is allergic to peanuts"], metadatas=[metadata])
    service = make_service(path=langchain_store.store_path)
    assert service.get(doc_id).extra == metadata
    out = tmp_path / "out.jsonl"
    export_records(service.records([doc_id]), "jsonl", out)
    assert json.loads(out.read_text(encoding="utf-8"))["extra"] == metadata

    service.edit(doc_id, text="Bob is allergic to shellfish")
    [doc] = langchain_store.get_by_ids([doc_id])
    assert doc.metadata == metadata  # the owner's strings as they were, and nothing added
