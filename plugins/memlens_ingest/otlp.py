"""OTLP/HTTP trace exports as session events: what agents instrumented for OpenTelemetry
already send, understood without a line of MemLens code in the agent.

- OpenInference RETRIEVER spans (LlamaIndex, LangChain, Haystack instrumentations):
  a retrieval, kept as a trace (read by the same code as `memlens import-traces`).
- OpenTelemetry GenAI memory spans (`gen_ai.operation.name` = create_memory,
  update_memory, upsert_memory, delete_memory, search_memory) and GenAI `retrieval`
  spans: memory added/updated/deleted, or a retrieval. Content attributes
  (`gen_ai.memory.records`, `gen_ai.memory.query.text`) are opt-in in the convention;
  without them MemLens still shows which memory was touched, by id.

Sessions: `session.id` (OpenInference), else `gen_ai.conversation.id`, else one session
per reporting service. The agent's name: `gen_ai.agent.name`, else `service.name`.
Other spans (LLM calls, tools, HTTP) are ignored.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from memlens.core.importers.openinference import otlp_spans, retriever_traces
from memlens.core.traces import Trace, TraceHit, TraceImportError
from memlens.plugin_api import (
    ERROR,
    NOTICE,
    MemoryAdded,
    MemoryDeleted,
    MemoryUpdated,
    MessageExchanged,
    RetrievalPerformed,
    RetrievedMemory,
    session_actor,
)
from memlens_ingest.incoming import Item, Malformed

CREATE, UPDATE, UPSERT, DELETE, SEARCH, RETRIEVAL = (
    "create_memory",
    "update_memory",
    "upsert_memory",
    "delete_memory",
    "search_memory",
    "retrieval",
)
OPERATIONS = (CREATE, UPDATE, UPSERT, DELETE, SEARCH, RETRIEVAL)
UNKNOWN_SERVICE = "OpenTelemetry agent"
_NS = uuid.UUID("0b8f3c57-64a4-4a4e-b1c4-3c2d0e9d7f21")  # span -> trace id, stable across re-sends


@dataclasses.dataclass
class Converted:
    items: list[Item]
    rejected: int = 0  # spans MemLens had to leave out
    problems: list[str] = dataclasses.field(default_factory=list)


# -- protobuf ------------------------------------------------------------------------------
def protobuf_request(body: bytes) -> dict[str, Any]:
    """An OTLP protobuf export request (what OpenTelemetry's Python and Java exporters send
    by default) in OTLP JSON form. Needs `opentelemetry-proto` (installed with chromadb)."""
    try:
        from google.protobuf.json_format import MessageToDict
        from google.protobuf.message import DecodeError
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    except ImportError:
        raise LookupError(
            "this MemLens cannot read OTLP protobuf (opentelemetry-proto is not installed); "
            "send OTLP JSON (Content-Type: application/json) instead"
        ) from None
    message = ExportTraceServiceRequest()
    try:
        message.ParseFromString(body)
    except DecodeError as exc:
        raise Malformed(f"body is not an OTLP protobuf ExportTraceServiceRequest: {exc}") from None
    data = MessageToDict(message)
    for rs in data.get("resourceSpans", []):
        for ss in rs.get("scopeSpans", []):
            for span in ss.get("spans", []):
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in span:  # bytes are base64 in protobuf's JSON, hex in OTLP's
                        span[key] = base64.b64decode(span[key]).hex()
    return data


# -- helpers -------------------------------------------------------------------------------
def _nanos(span: dict, name: str) -> int | None:
    try:
        return int(span[name]) if span.get(name) is not None else None
    except (TypeError, ValueError):
        raise Malformed(f"span {span.get('name')!r}: {name} {span.get(name)!r} is not an integer") from None


def _time(nanos: int | None) -> datetime:
    return datetime.fromtimestamp(nanos / 1e9, UTC) if nanos else datetime.now(UTC)


def _failed(span: dict) -> str | None:
    """The span's error message when its status is ERROR (2, or "STATUS_CODE_ERROR")."""
    status = span.get("status") or {}
    if status.get("code") in (2, "2", "STATUS_CODE_ERROR"):
        return str(status.get("message") or "error")
    return None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "agent"


def _session(attrs: dict[str, Any], resource: dict[str, Any]) -> str:
    for key in ("session.id", "gen_ai.conversation.id"):
        if attrs.get(key) not in (None, ""):
            return str(attrs[key])
    return f"otel-{_slug(str(resource.get('service.name') or 'agent'))}"


def _agent(attrs: dict[str, Any], resource: dict[str, Any]) -> str:
    return str(attrs.get("gen_ai.agent.name") or resource.get("service.name") or UNKNOWN_SERVICE)


def _records(value: Any, where: str) -> list[dict[str, Any]]:
    """`gen_ai.memory.records` / `gen_ai.retrieval.documents`: structured, or a JSON string."""
    if value is None:
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise Malformed(f"{where}: records attribute is not valid JSON") from None
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        raise Malformed(f"{where}: records must be a list of objects")
    return value


def _content(record: dict[str, Any]) -> str | None:
    content = record.get("content", record.get("text", record.get("memory")))
    if content is None or isinstance(content, str):
        return content
    return json.dumps(content, ensure_ascii=False, sort_keys=True)


def _score(record: dict[str, Any], where: str) -> float | None:
    score = record.get("score")
    if score is None:
        return None
    try:
        return float(score)
    except (TypeError, ValueError):
        raise Malformed(f"{where}: score {score!r} is not a number") from None


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


# -- conversion ----------------------------------------------------------------------------
def convert(request: Any, collection: str | None = None) -> Converted:
    """Every span MemLens understands in one OTLP JSON export request, as items in time order.

    Raises Malformed naming the span and field when the request itself is broken; spans
    that are well-formed but unusable (a memory write with no record id) are counted in
    `rejected` with the reason in `problems`.
    """
    try:
        spans = otlp_spans(request)
        traces = retriever_traces(spans, collection, {"via": "otlp"})
    except TraceImportError as exc:
        raise Malformed(str(exc)) from None
    out = Converted([])
    by_span = {(str(s.get("traceId", "")), str(s.get("spanId", ""))): (a, r) for s, a, r, _ in spans}
    for trace in traces:
        attrs, resource = by_span.get(
            (trace.source.get("trace_id", ""), trace.source.get("span_id", "")), ({}, {})
        )
        sid = trace.session_id or _session(attrs, resource)
        trace = dataclasses.replace(trace, session_id=sid, origin=session_actor(sid))
        out.items.append(Item(_retrieval_event(trace), trace, _agent(attrs, resource)))
    for span, attrs, resource, where in spans:
        op = attrs.get("gen_ai.operation.name")
        if op in OPERATIONS and str(attrs.get("openinference.span.kind", "")).upper() != "RETRIEVER":
            _memory_span(out, op, span, attrs, resource, where, collection)
    out.items.sort(key=lambda item: item.event.time)
    return out


def _retrieval_event(trace: Trace) -> RetrievalPerformed:
    return RetrievalPerformed(
        session_id=trace.session_id or "",
        time=trace.time,
        query=trace.query,
        k=trace.k,
        hits=tuple(
            RetrievedMemory(
                memory_id=h.memory_id, rank=h.rank, score=h.score, distance=h.distance, text=h.text
            )
            for h in trace.hits
        ),
        latency_ms=trace.latency_ms,
    )


def _memory_span(
    out: Converted,
    op: str,
    span: dict,
    attrs: dict[str, Any],
    resource: dict[str, Any],
    where: str,
    collection: str | None,
) -> None:
    sid, agent = _session(attrs, resource), _agent(attrs, resource)
    start, end = _nanos(span, "startTimeUnixNano"), _nanos(span, "endTimeUnixNano")
    when = _time(end or start)
    error = _failed(span)
    if error is not None:
        what = attrs.get("error.type") or error
        text = f"{op} failed ({what}): {error}" if what != error else f"{op} failed: {error}"
        out.items.append(
            Item(MessageExchanged(session_id=sid, time=when, role=ERROR, text=text), agent=agent)
        )
        return
    if op in (SEARCH, RETRIEVAL):
        out.items.append(_search(op, span, attrs, sid, agent, start, end, where, collection))
        return
    records = _records(attrs.get("gen_ai.memory.records"), where)
    record_id = attrs.get("gen_ai.memory.record.id")
    if not records and record_id not in (None, ""):
        records = [{"id": record_id}]
    elif len(records) == 1 and "id" not in records[0] and record_id not in (None, ""):
        records = [{**records[0], "id": record_id}]
    if op == DELETE and not records:
        store = attrs.get("gen_ai.memory.store.id")
        of = f" of store {store}" if store else ""
        text = f"The agent deleted every memory{of} (delete_memory without a record id)."
        out.items.append(
            Item(MessageExchanged(session_id=sid, time=when, role=NOTICE, text=text), agent=agent)
        )
        return
    missing = [r for r in records if r.get("id") in (None, "")]
    if missing or not records:
        out.rejected += 1
        out.problems.append(f"{where}: {op} span names no memory (gen_ai.memory.record.id)")
        return
    for r in records:
        memory_id, text = str(r["id"]), _content(r)
        if op == CREATE:
            event = MemoryAdded(session_id=sid, time=when, memory_id=memory_id, text=text or "")
        elif op == DELETE:
            event = MemoryDeleted(session_id=sid, time=when, memory_id=memory_id, text=text)
        else:  # update, and upsert (which may have changed an existing memory)
            event = MemoryUpdated(session_id=sid, time=when, memory_id=memory_id, text=text or "")
        out.items.append(Item(event, agent=agent))


def _search(
    op: str,
    span: dict,
    attrs: dict[str, Any],
    sid: str,
    agent: str,
    start: int | None,
    end: int | None,
    where: str,
    collection: str | None,
) -> Item:
    if op == SEARCH:
        query, docs = attrs.get("gen_ai.memory.query.text"), attrs.get("gen_ai.memory.records")
    else:
        query, docs = attrs.get("gen_ai.retrieval.query.text"), attrs.get("gen_ai.retrieval.documents")
    hits = tuple(
        TraceHit(str(r["id"]), rank, None, _score(r, where), _content(r))
        for rank, r in enumerate((r for r in _records(docs, where) if r.get("id") not in (None, "")), 1)
    )
    k = _int(attrs.get("gen_ai.request.top_k")) or _int(attrs.get("gen_ai.retrieval.top_k")) or len(hits) or 1
    trace_id, span_id = str(span.get("traceId", "")), str(span.get("spanId", ""))
    trace = Trace(
        query=str(query) if query is not None else "",
        k=k,
        hits=hits,
        origin=session_actor(sid),
        time=_time(start),
        id=uuid.uuid5(_NS, f"{trace_id}/{span_id}").hex if span_id else uuid.uuid4().hex,
        latency_ms=(end - start) / 1e6 if start and end and end >= start else None,
        session_id=sid,
        collection=collection,
        source={
            k: v
            for k, v in {
                "via": "otlp",
                "operation": op,
                "trace_id": trace_id,
                "span_id": span_id,
                "store": attrs.get("gen_ai.memory.store.id") or attrs.get("gen_ai.data_source.id"),
            }.items()
            if v
        },
    )
    # A search whose query was not captured (content capture is opt-in) is shown, but no
    # trace is kept: why-not and replay need the query text.
    return Item(_retrieval_event(trace), trace if query else None, agent)
