"""Retrieval traces: recorded by every search, kept within retention, imported from
OpenInference spans and Mem0 search results, listed by the command line."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from memlens.core.importers.mem0_search import read_mem0_search
from memlens.core.importers.openinference import read_otlp_json
from memlens.core.query import Filter
from memlens.core.record import Status
from memlens.core.traces import Trace, TraceHit, TraceImportError, TraceStore
from tests_support import SEED, run_cli

NOW = datetime.now(UTC).replace(microsecond=0)


# -- recording ---------------------------------------------------------------------
def test_a_search_is_recorded_with_vector_filter_hits_and_text_snapshots(seeded, embedder, store_dir):
    flt = Filter(users=frozenset({"alice"}), since=datetime(2026, 1, 1, tzinfo=UTC))
    hits = seeded.semantic_search("food allergy", k=2, flt=flt, origin="agent:s-9", session_id="s-9")

    [trace] = seeded.traces.find()
    assert seeded.traces.path == store_dir / "memlens-traces.sqlite3"
    assert (trace.query, trace.k, trace.origin, trace.session_id) == ("food allergy", 2, "agent:s-9", "s-9")
    assert trace.collection == "memories" and trace.model == embedder.name
    assert trace.filter == flt
    assert trace.embedding.dtype == np.float32
    assert np.allclose(trace.embedding, embedder.encode(["food allergy"])[0], atol=1e-5)
    assert trace.latency_ms > 0 and abs((trace.time - datetime.now(UTC)).total_seconds()) < 60
    assert [(h.memory_id, h.rank) for h in trace.hits] == [(h.record.id, h.rank) for h in hits]
    assert trace.hits[0].memory_id == "m1"
    assert trace.hits[0].text == SEED[0].text
    assert trace.hits[0].distance == pytest.approx(hits[0].distance)
    assert trace.hits[0].components == {"similarity": pytest.approx(hits[0].score)}

    # The snapshot is what the agent saw, whatever the memory says later.
    seeded.edit("m1", text="Alice is allergic to shellfish.")
    assert seeded.traces.get(trace.id).hits[0].text == SEED[0].text


def test_traces_survive_reopening_and_empty_queries_are_not_traces(seeded, make_service):
    seeded.semantic_search("   ")
    seeded.semantic_search("violin", origin="cli")
    reopened = make_service()
    assert [t.query for t in reopened.traces.find()] == ["violin"]


def trace_at(minutes: int, query: str, origin: str = "gui", session: str | None = None, hit: str = "m1"):
    return Trace(
        query=query,
        k=3,
        hits=(TraceHit(hit, 1, 0.2, 0.8, "x"),),
        origin=origin,
        session_id=session,
        time=NOW - timedelta(minutes=minutes),
        collection="memories",
    )


def test_listing_filters_by_origin_session_time_text_and_memory_newest_first(tmp_path):
    store = TraceStore(tmp_path / "t.sqlite3")
    store.add_many(
        [
            trace_at(50, "Where does Bob live?", "cli"),
            trace_at(40, "bob's flights", "plugin:chat", "s1", hit="m3"),
            trace_at(30, "Alice allergy", "plugin:ingest", "s1"),
            trace_at(20, "alice daughter", "agent:s2", "s2", hit="m2"),
            trace_at(10, "ALICE tea", "gui"),
        ]
    )
    queries = lambda **kw: [t.query for t in store.find(**kw)]  # noqa: E731
    assert queries()[0] == "ALICE tea"  # newest first
    assert queries(origin="cli") == ["Where does Bob live?"]
    assert queries(origin="plugin:") == ["Alice allergy", "bob's flights"]
    assert queries(session_id="s1") == ["Alice allergy", "bob's flights"]
    assert queries(text="alice") == ["ALICE tea", "alice daughter", "Alice allergy"]
    assert queries(since=NOW - timedelta(minutes=35), until=NOW - timedelta(minutes=15)) == [
        "alice daughter",
        "Alice allergy",
    ]
    assert queries(memory_id="m3") == ["bob's flights"]
    assert queries(limit=2, offset=2) == ["Alice allergy", "bob's flights"]
    assert store.count(text="alice") == 3 and store.count() == 5
    assert store.sessions() == ["s1", "s2"]


def test_retention_keeps_the_newest_and_drops_the_too_old_on_insert(tmp_path):
    store = TraceStore(tmp_path / "t.sqlite3")
    store.set_retention(3, None)
    assert store.add_many([trace_at(m, f"q{m}") for m in (50, 40, 30, 20, 10)]) == 3
    assert [t.query for t in store.find()] == ["q10", "q20", "q30"]
    store.add(trace_at(5, "q5"))
    assert [t.query for t in store.find()] == ["q5", "q10", "q20"]

    aged = TraceStore(tmp_path / "aged.sqlite3")
    aged.set_retention(None, 1)
    kept = aged.add_many([trace_at(60 * 24 * 3, "three days ago"), trace_at(1, "just now")])
    assert kept == 1
    assert [t.query for t in aged.find()] == ["just now"]
    aged.set_retention(None, 1 / (24 * 60 * 2))  # 30 seconds: "just now" (a minute ago) goes too
    assert aged.count() == 0


def test_a_chosen_retention_is_kept_in_the_file_for_every_process(tmp_path):
    path = tmp_path / "t.sqlite3"
    assert TraceStore(path).retention_text() == "keeps the newest 10,000"
    TraceStore(path).set_retention(2, 7, persist=True)
    reopened = TraceStore(path)  # as the CLI or a plugin host would open it
    assert (reopened.max_traces, reopened.max_age_days) == (2, 7)
    assert reopened.retention_text() == "keeps the newest 2, none older than 7 days"
    reopened.add_many([trace_at(m, f"q{m}") for m in (3, 2, 1)])
    assert [t.query for t in reopened.find()] == ["q1", "q2"]
    with pytest.raises(ValueError, match="at least 1"):
        reopened.set_retention(0, None, persist=True)
    assert TraceStore(path).max_traces == 2  # a refused setting changes nothing


# -- OpenInference -------------------------------------------------------------------
def attr(key, value):
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}  # int64 as a string, as OTLP JSON has it
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    if isinstance(value, list):
        return {"key": key, "value": {"arrayValue": {"values": [{"doubleValue": v} for v in value]}}}
    return {"key": key, "value": {"stringValue": value}}


START = 1_767_268_800_000_000_000  # 2026-01-01T12:00:00Z in ns


def otlp(spans, service_name="support-bot"):
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": [attr("service.name", service_name)]},
                "scopeSpans": [{"scope": {"name": "openinference"}, "spans": spans}],
            }
        ]
    }


def span(name, span_id, attrs, start=START, duration_ns=42_500_000):
    return {
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": span_id,
        "name": name,
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(start + duration_ns),
        "attributes": attrs,
    }


def retriever_span(query="food allergy", score="0.83"):
    return span(
        "retrieve",
        "eee19b7ec3c1b174",
        [
            attr("openinference.span.kind", "RETRIEVER"),
            attr("input.value", query),
            attr("session.id", "chat-7"),
            attr("retrieval.documents.0.document.id", "m1"),
            {"key": "retrieval.documents.0.document.score", "value": {"doubleValue": score}},
            attr("retrieval.documents.0.document.content", "Alice is allergic to peanuts."),
            attr(
                "retrieval.documents.0.document.metadata",
                json.dumps({"score_components": {"similarity": 0.8, "recency": 0.1}}),
            ),
            attr("retrieval.documents.1.document.id", "m2"),
            attr("retrieval.documents.1.document.score", 0.41),
            attr("retrieval.documents.1.document.content", "Maya plays the violin."),
        ],
    )


def test_openinference_retriever_spans_become_traces(tmp_path, embedder):
    vector = [float(v) for v in embedder.encode(["food allergy"])[0]]
    spans = [
        span("llm", "aaa19b7ec3c1b174", [attr("openinference.span.kind", "LLM"), attr("input.value", "hi")]),
        span(
            "embed",
            "bbb19b7ec3c1b174",
            [
                attr("openinference.span.kind", "EMBEDDING"),
                attr("embedding.model_name", "all-MiniLM-L6-v2"),
                attr("embedding.embeddings.0.embedding.text", "food allergy"),
                attr("embedding.embeddings.0.embedding.vector", vector),
            ],
        ),
        retriever_span(),
    ]
    path = tmp_path / "spans.json"
    path.write_text(json.dumps(otlp(spans)))

    [trace] = read_otlp_json(path, collection="memories")
    assert trace.origin == "import:openinference" and trace.query == "food allergy"
    assert trace.time == datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert trace.latency_ms == pytest.approx(42.5)
    assert trace.session_id == "chat-7" and trace.k == 2 and trace.filter is None
    assert [(h.memory_id, h.rank, h.score) for h in trace.hits] == [("m1", 1, 0.83), ("m2", 2, 0.41)]
    assert trace.hits[0].text == "Alice is allergic to peanuts."
    assert trace.hits[0].components == {"similarity": 0.8, "recency": 0.1}
    assert trace.model == "all-MiniLM-L6-v2"
    assert np.allclose(trace.embedding, vector, atol=1e-6)
    assert trace.source["service"] == "support-bot"


def test_one_request_per_line_files_are_read_too(tmp_path):
    path = tmp_path / "spans.jsonl"
    lines = [otlp([retriever_span("q1")]), otlp([retriever_span("q2") | {"spanId": "fff19b7ec3c1b174"}])]
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    assert [t.query for t in read_otlp_json(path)] == ["q1", "q2"]


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (otlp([span("llm", "1", []), retriever_span(score="high")]), "spans[1] ('retrieve')"),
        (otlp([span("llm", "1", []), retriever_span(score="high")]), "retrieval.documents.0.document.score"),
        ({"resourceSpans": [{"scopeSpans": [{"spans": "x"}]}]}, "resourceSpans[0].scopeSpans[0]"),
        ({"spans": []}, "not an OTLP JSON trace export"),
        (otlp([span("r", "1", [attr("openinference.span.kind", "RETRIEVER")])]), "no 'input.value'"),
        (otlp([span("r", "1", [{"key": "input.value", "value": {"intValue": "ten"}}])]), "'input.value'"),
    ],
)
def test_malformed_otlp_files_name_the_span_and_field(tmp_path, doc, expected):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(TraceImportError) as err:
        read_otlp_json(path)
    assert expected in str(err.value)


def test_import_traces_command_lists_and_is_idempotent(tmp_path, seeded, store_dir, capsys):
    path = tmp_path / "spans.json"
    path.write_text(json.dumps(otlp([retriever_span()])))
    code, out, _ = run_cli(
        capsys, "import-traces", str(path), "--format", "openinference", "--store", str(store_dir)
    )
    assert code == 0 and out.strip() == f"Imported 1 trace(s) for 'memories' from {path}."
    code, out, _ = run_cli(
        capsys, "import-traces", str(path), "--format", "openinference", "--store", str(store_dir)
    )
    assert "Imported 0 trace(s)" in out and "1 already imported" in out

    code, out, _ = run_cli(
        capsys, "traces", "--origin", "import:openinference", "--store", str(store_dir), "--json"
    )
    [row] = [json.loads(line) for line in out.splitlines()]
    assert row["query"] == "food allergy" and [h["memory_id"] for h in row["hits"]] == ["m1", "m2"]
    assert row["hits"][0]["components"] == {"similarity": 0.8, "recency": 0.1}

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(otlp([retriever_span(score="high")])))
    code, out, err = run_cli(
        capsys, "import-traces", str(bad), "--format", "openinference", "--store", str(store_dir)
    )
    assert code == 1 and out == ""
    assert err.startswith("memlens: ") and "retrieval.documents.0.document.score" in err
    assert len(err.strip().splitlines()) == 1


def test_traces_command_prints_one_line_per_trace(seeded, store_dir, capsys):
    seeded.semantic_search("food allergy", k=2, origin="cli")
    seeded.semantic_search("violin", k=3)
    code, out, _ = run_cli(capsys, "traces", "--store", str(store_dir), "--origin", "cli")
    assert code == 0
    [line] = out.splitlines()
    assert "'food allergy'" in line and " cli " in line and "k=2" in line and "2 hits" in line
    code, out, _ = run_cli(capsys, "traces", "--store", str(store_dir), "--limit", "1")
    assert "'violin'" in out and len(out.splitlines()) == 1


# -- Mem0 -----------------------------------------------------------------------------
def test_a_real_mem0_search_result_becomes_a_trace(mem0_memory, tmp_path, make_service, capsys):
    ids = {
        text: mem0_memory.add(text, user_id="alice", infer=False)["results"][0]["id"]
        for text in ["Alice is allergic to peanuts", "Alice likes green tea", "Alice lives in Paris"]
    }
    result = mem0_memory.search("food allergy", filters={"user_id": "alice"}, top_k=2, explain=True)
    path = tmp_path / "search.json"
    path.write_text(json.dumps(result))

    trace = read_mem0_search(path, "food allergy", flt=Filter(users=frozenset({"alice"})))
    assert trace.origin == "import:mem0" and trace.k == 2 and trace.threshold == 0.1
    assert trace.hits[0].memory_id == ids["Alice is allergic to peanuts"]
    assert trace.hits[0].text == "Alice is allergic to peanuts"
    assert trace.hits[0].score == pytest.approx(result["results"][0]["score"])
    assert set(trace.hits[0].components) == {"similarity", "bm25", "entity_boost"}

    code, out, _ = run_cli(
        capsys,
        "import-traces", str(path), "--format", "mem0", "--query", "food allergy", "--user", "alice",
        "--store", str(mem0_memory.store_path), "--collection", "mem0",
    )  # fmt: skip
    assert code == 0 and "Imported 1 trace(s) for 'mem0'" in out
    service = make_service(path=mem0_memory.store_path)
    [stored] = service.traces.find(origin="import:mem0")
    assert stored.filter == Filter(users=frozenset({"alice"})) and stored.ids == trace.ids

    code, _, err = run_cli(capsys, "import-traces", str(path), "--format", "mem0", "--store", str(tmp_path))
    assert code == 1 and "--query is required" in err


def test_mem0_results_that_are_not_search_results_are_refused(tmp_path):
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"results": [{"memory": "no id"}]}))
    with pytest.raises(TraceImportError, match=r"results\[0\]: needs an 'id'"):
        read_mem0_search(path, "q")
    path.write_text(json.dumps({"memories": []}))
    with pytest.raises(TraceImportError, match=r"Memory\.search"):
        read_mem0_search(path, "q")


def test_status_filters_round_trip_through_json(tmp_path):
    store = TraceStore(tmp_path / "t.sqlite3")
    flt = Filter(statuses=frozenset({Status.ARCHIVED, Status.ACTIVE}), tags=frozenset({"a"}), text="peanut")
    store.add(Trace("q", 1, filter=flt, id="t1"))
    assert store.get("t1").filter == flt
    assert store.resolve("t").id == "t1"
