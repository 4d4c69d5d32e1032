"""An agent instrumented with OpenTelemetry only: no MemLens code, just an exporter.

It emits what OpenInference and GenAI-convention instrumentations emit: one RETRIEVER
span (OpenInference attributes) and memory spans (create_memory, update_memory,
search_memory, delete_memory), plus an LLM span MemLens ignores. Where the spans go is
the standard exporter configuration, from the environment:

    OTEL_SERVICE_NAME=rag-agent \\
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://127.0.0.1:4319/v1/traces \\
    OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer%20$(cat ~/.local/share/MemLens/ingest/token)" \\
    python tests/ingest/agents/otel_agent.py SESSION_ID
"""

from __future__ import annotations

import json
import sys
import time

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

MEMORIES = {
    "mem-paris": "Alice lives in Paris",
    "mem-tea": "Alice likes green tea",
}


def main() -> int:
    session = sys.argv[1]
    exporter = OTLPSpanExporter()  # endpoint and headers from OTEL_EXPORTER_OTLP_* variables
    provider = TracerProvider(resource=Resource.create())  # service.name from OTEL_SERVICE_NAME
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("otel-agent")

    for mid, text in MEMORIES.items():
        with tracer.start_as_current_span("create_memory", kind=SpanKind.CLIENT) as span:
            span.set_attribute("gen_ai.operation.name", "create_memory")
            span.set_attribute("gen_ai.conversation.id", session)
            span.set_attribute("gen_ai.memory.record.id", mid)
            span.set_attribute("gen_ai.memory.records", json.dumps([{"id": mid, "content": text}]))

    with tracer.start_as_current_span("retrieve", kind=SpanKind.INTERNAL) as span:
        span.set_attribute("openinference.span.kind", "RETRIEVER")
        span.set_attribute("session.id", session)
        span.set_attribute("input.value", "where does alice live")
        span.set_attribute("metadata", json.dumps({"top_k": 2}))
        for n, (mid, score) in enumerate([("mem-paris", 0.91), ("mem-tea", 0.12)]):
            span.set_attribute(f"retrieval.documents.{n}.document.id", mid)
            span.set_attribute(f"retrieval.documents.{n}.document.score", score)
            span.set_attribute(f"retrieval.documents.{n}.document.content", MEMORIES[mid])
        time.sleep(0.01)

    with tracer.start_as_current_span("chat gpt-4o", kind=SpanKind.CLIENT) as span:
        span.set_attribute("gen_ai.operation.name", "chat")  # not a memory span: ignored
        span.set_attribute("gen_ai.conversation.id", session)

    with tracer.start_as_current_span("update_memory", kind=SpanKind.CLIENT) as span:
        span.set_attribute("gen_ai.operation.name", "update_memory")
        span.set_attribute("gen_ai.conversation.id", session)
        span.set_attribute("gen_ai.memory.record.id", "mem-paris")
        span.set_attribute("gen_ai.memory.records", json.dumps([{"content": "Alice lives in Lyon"}]))

    with tracer.start_as_current_span("search_memory", kind=SpanKind.CLIENT) as span:
        span.set_attribute("gen_ai.operation.name", "search_memory")
        span.set_attribute("gen_ai.conversation.id", session)
        span.set_attribute("gen_ai.memory.query.text", "what does alice drink")
        span.set_attribute(
            "gen_ai.memory.records",
            json.dumps([{"id": "mem-tea", "content": MEMORIES["mem-tea"], "score": 0.77}]),
        )

    with tracer.start_as_current_span("delete_memory", kind=SpanKind.CLIENT) as span:
        span.set_attribute("gen_ai.operation.name", "delete_memory")
        span.set_attribute("gen_ai.conversation.id", session)
        span.set_attribute("gen_ai.memory.record.id", "mem-tea")

    with tracer.start_as_current_span("search_memory", kind=SpanKind.CLIENT) as span:
        span.set_attribute("gen_ai.operation.name", "search_memory")
        span.set_attribute("gen_ai.conversation.id", session)
        span.set_status(Status(StatusCode.ERROR, "memory server timed out"))
        span.set_attribute("error.type", "timeout")

    provider.shutdown()
    print(json.dumps({"done": True}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
