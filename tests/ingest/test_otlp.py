"""OpenTelemetry agents appear by pointing their exporter at MemLens: OpenInference
retriever spans become traces, GenAI memory spans become memory events."""

from __future__ import annotations

import json
import subprocess
import sys

from ingest_support import AGENTS, agent_env
from test_endpoint import bearer, post

from memlens.plugin_api import (
    MemoryAdded,
    MemoryDeleted,
    MemoryUpdated,
    MessageExchanged,
    RetrievalPerformed,
)

SESSION = "otel-session-1"


def test_an_opentelemetry_agent_appears_with_its_retrievals_and_memory_writes(ingest, tmp_path):
    harness, plugin = ingest
    env = agent_env(
        OTEL_SERVICE_NAME="rag-agent",
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=f"{plugin.url}/v1/traces",
        OTEL_EXPORTER_OTLP_HEADERS=f"Authorization=Bearer%20{plugin.token}",
    )
    out = subprocess.run(
        [sys.executable, str(AGENTS / "otel_agent.py"), SESSION],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "Failed to export" not in out.stderr  # MemLens took every span (the exporter logs refusals)

    harness.wait_for(
        lambda: len(harness.of(MessageExchanged, SESSION)) == 1
    )  # the last span: a failed search
    session = harness.host.sessions.get(SESSION)
    assert session.agent == "rag-agent"  # service.name: the agent never announced itself

    added = harness.of(MemoryAdded, SESSION)
    assert [(a.memory_id, a.text) for a in added] == [
        ("mem-paris", "Alice lives in Paris"),
        ("mem-tea", "Alice likes green tea"),
    ]
    (updated,) = harness.of(MemoryUpdated, SESSION)
    assert (updated.memory_id, updated.text) == ("mem-paris", "Alice lives in Lyon")
    (deleted,) = harness.of(MemoryDeleted, SESSION)
    assert deleted.memory_id == "mem-tea"
    (failure,) = harness.of(MessageExchanged, SESSION)
    assert (
        failure.role == "error" and "search_memory failed (timeout): memory server timed out" in failure.text
    )

    retriever, search = harness.of(RetrievalPerformed, SESSION)
    assert retriever.query == "where does alice live" and retriever.k == 2
    assert [(h.memory_id, h.score) for h in retriever.hits] == [("mem-paris", 0.91), ("mem-tea", 0.12)]
    assert retriever.latency_ms > 0
    assert search.query == "what does alice drink" and [h.memory_id for h in search.hits] == ["mem-tea"]

    traces = harness.service.traces
    kept = {t.query: t for t in traces.find(session_id=SESSION)}
    assert set(kept) == {"where does alice live", "what does alice drink"}
    assert kept["where does alice live"].id == retriever.trace_id
    assert kept["where does alice live"].origin == f"agent:{SESSION}"
    assert kept["where does alice live"].hits[0].text == "Alice lives in Paris"
    assert kept["what does alice drink"].hits[0].score == 0.77
    assert harness.host.sessions.memories(SESSION) == {"mem-paris": "added", "mem-tea": "deleted"}


def attr(key: str, value) -> dict:
    typed = {str: "stringValue", int: "intValue", float: "doubleValue", bool: "boolValue"}[type(value)]
    return {"key": key, "value": {typed: str(value) if typed == "intValue" else value}}


def otlp(*spans: dict, service: str = "json-agent") -> bytes:
    return json.dumps(
        {
            "resourceSpans": [
                {
                    "resource": {"attributes": [attr("service.name", service)]},
                    "scopeSpans": [{"scope": {"name": "test"}, "spans": list(spans)}],
                }
            ]
        }
    ).encode()


def span(span_id: str, name: str, *attributes: dict) -> dict:
    return {
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": span_id,
        "name": name,
        "startTimeUnixNano": "1700000000000000000",
        "endTimeUnixNano": "1700000000050000000",
        "attributes": list(attributes),
    }


def test_otlp_json_memory_spans_and_a_span_that_names_no_memory(ingest):
    harness, plugin = ingest
    body = otlp(
        span(
            "a1",
            "create_memory",
            attr("gen_ai.operation.name", "create_memory"),
            attr("gen_ai.memory.record.id", "m1"),
        ),
        span("a2", "create_memory", attr("gen_ai.operation.name", "create_memory")),  # no id: left out
        span(
            "a3",
            "search_memory",
            attr("gen_ai.operation.name", "search_memory"),
            attr("gen_ai.memory.query.text", "alice"),
            attr("gen_ai.request.top_k", 5),
        ),
    )
    status, answer, _ = post(plugin.url, "/v1/traces", body, bearer(plugin.token))
    assert status == 200
    assert answer["partialSuccess"]["rejectedSpans"] == "1"
    assert "spans[1] ('create_memory')" in answer["partialSuccess"]["errorMessage"]
    sid = "otel-json-agent"  # no session attribute: one session per service
    harness.wait_for(lambda: harness.of(RetrievalPerformed, sid))
    (added,) = harness.of(MemoryAdded, sid)
    assert (added.memory_id, added.text) == ("m1", "")  # content capture is opt-in in the convention
    (search,) = harness.of(RetrievalPerformed, sid)
    assert (search.query, search.k, search.hits, search.latency_ms) == ("alice", 5, (), 50.0)

    # The same export again (an exporter retrying): the trace is kept once.
    assert post(plugin.url, "/v1/traces", body, bearer(plugin.token))[0] == 200
    harness.wait_for(lambda: len(harness.of(RetrievalPerformed, sid)) == 2)
    assert harness.service.traces.count(session_id=sid) == 1


def test_malformed_otlp_is_refused_naming_the_span_and_field(ingest):
    harness, plugin = ingest
    cases = {
        b'{"resourceSpans": 3}': "not an OTLP JSON trace export (no 'resourceSpans' list)",
        otlp(span("b1", "retrieve", attr("openinference.span.kind", "RETRIEVER"))): "has no 'input.value'",
        otlp(
            span(
                "b2",
                "search_memory",
                attr("gen_ai.operation.name", "search_memory"),
                attr("gen_ai.memory.records", "[{oops"),
            )
        ): "spans[0] ('search_memory'): records attribute is not valid JSON",
        b"\xff\x01": "not UTF-8",
    }
    for body, says in cases.items():
        status, answer, _ = post(plugin.url, "/v1/traces", body, bearer(plugin.token))
        assert (status, says in answer["error"]) == (422, True), answer
        assert answer["error"][0].isalnum(), answer  # a sentence, not a dangling ': …'
    status, answer, _ = post(
        plugin.url,
        "/v1/traces",
        b"\x0a\x02",
        {**bearer(plugin.token), "Content-Type": "application/x-protobuf"},
    )
    assert status == 422 and "protobuf" in answer["error"]
    assert harness.host.sessions.sessions() == []
