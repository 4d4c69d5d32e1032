"""OpenInference retriever spans, from OTLP JSON files, as retrieval traces.

Agents instrumented with OpenInference (LlamaIndex, LangChain, Haystack...) already
emit one RETRIEVER span per retrieval: the query in `input.value` and the documents as
`retrieval.documents.N.document.{id,score,content,metadata}`. Reading the OTLP/HTTP JSON
export shape (`resourceSpans[].scopeSpans[].spans[]`, one request per file or one per
line as the OTel file exporter writes them) lets MemLens debug retrievals it did not run.

When an EMBEDDING span of the same trace embedded the very query text and recorded its
vector, that vector and model are kept, so why-not can use the original query vector.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from memlens.core.traces import Trace, TraceHit, TraceImportError

ORIGIN = "import:openinference"
_DOC = re.compile(r"retrieval\.documents\.(\d+)\.document\.(id|score|content|metadata)")
_EMB = re.compile(r"embedding\.embeddings\.(\d+)\.embedding\.(text|vector)")
_NS = uuid.UUID("6f0c5d0e-3c1a-4a57-9a8e-6d3b2f1e7a10")


def _any_value(value: Any, where: str) -> Any:
    """An OTLP AnyValue ({"stringValue": ...} and friends) as a Python value."""
    if not isinstance(value, dict):
        raise TraceImportError(f"{where}: value must be an object like {{'stringValue': ...}}")
    if "stringValue" in value:
        return str(value["stringValue"])
    if "intValue" in value:  # int64 is a JSON string in OTLP's JSON mapping
        try:
            return int(value["intValue"])
        except (TypeError, ValueError):
            raise TraceImportError(f"{where}: intValue {value['intValue']!r} is not an integer") from None
    if "doubleValue" in value:
        try:
            return float(value["doubleValue"])
        except (TypeError, ValueError):
            raise TraceImportError(f"{where}: doubleValue {value['doubleValue']!r} is not a number") from None
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "arrayValue" in value:
        items = (value["arrayValue"] or {}).get("values") or []
        return [_any_value(v, f"{where}[{n}]") for n, v in enumerate(items)]
    if "kvlistValue" in value:
        return _attributes((value["kvlistValue"] or {}).get("values") or [], where)
    if "bytesValue" in value or not value:
        return value.get("bytesValue")
    raise TraceImportError(f"{where}: unknown value type {sorted(value)}")


def _attributes(items: Any, where: str) -> dict[str, Any]:
    if not isinstance(items, list):
        raise TraceImportError(f"{where}: 'attributes' must be a list")
    out: dict[str, Any] = {}
    for n, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            raise TraceImportError(f"{where}.attributes[{n}]: needs a 'key' string")
        out[item["key"]] = _any_value(item.get("value", {}), f"{where} attribute {item['key']!r}")
    return out


def _nanos(span: dict, name: str, where: str, required: bool) -> int | None:
    raw = span.get(name)
    if raw is None:
        if required:
            raise TraceImportError(f"{where}: missing {name}")
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise TraceImportError(f"{where}: {name} {raw!r} is not an integer") from None


def _number(value: Any, where: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TraceImportError(f"{where}: {value!r} is not a number") from None


def _json_object(value: Any, where: str) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        raise TraceImportError(f"{where}: not valid JSON") from None
    if not isinstance(parsed, dict):
        raise TraceImportError(f"{where}: must be a JSON object")
    return parsed


def _components(meta: dict[str, Any]) -> dict[str, float]:
    raw = meta.get("score_components", meta.get("components"))
    if not isinstance(raw, dict):
        return {}
    return {
        str(k): float(v) for k, v in raw.items() if isinstance(v, int | float) and not isinstance(v, bool)
    }


def _query_text(attrs: dict[str, Any]) -> str | None:
    value = attrs.get("input.value")
    if isinstance(value, str) and "json" in str(attrs.get("input.mime_type", "")):
        try:
            parsed = json.loads(value)
        except ValueError:
            return value
        if isinstance(parsed, dict):
            for key in ("query", "query_str", "input", "question"):
                if isinstance(parsed.get(key), str):
                    return parsed[key]
    return value if isinstance(value, str) else None


def _documents(attrs: dict[str, Any], where: str) -> tuple[list[TraceHit], int]:
    docs: dict[int, dict[str, Any]] = {}
    for key, value in attrs.items():
        m = _DOC.fullmatch(key)
        if m:
            docs.setdefault(int(m.group(1)), {})[m.group(2)] = value
    hits: list[TraceHit] = []
    skipped = 0
    for n in sorted(docs):
        doc, field_at = docs[n], f"{where} retrieval.documents.{n}.document"
        meta = _json_object(doc["metadata"], f"{field_at}.metadata") if "metadata" in doc else {}
        memory_id = doc.get("id", meta.get("id"))
        if memory_id is None or str(memory_id) == "":
            skipped += 1  # a document with no id cannot be matched to a memory
            continue
        score = _number(doc["score"], f"{field_at}.score") if "score" in doc else None
        content = doc.get("content")
        text = None if content is None else str(content)
        hits.append(TraceHit(str(memory_id), len(hits) + 1, None, score, text, _components(meta)))
    return hits, skipped


def _query_vectors(
    spans: list[tuple[dict, dict[str, Any]]],
) -> dict[tuple[str, str], tuple[list, str | None]]:
    """(otel trace id, text) -> (vector, model) from EMBEDDING spans that recorded vectors."""
    found: dict[tuple[str, str], tuple[list, str | None]] = {}
    for span, attrs in spans:
        if str(attrs.get("openinference.span.kind", "")).upper() != "EMBEDDING":
            continue
        parts: dict[int, dict[str, Any]] = {}
        for key, value in attrs.items():
            m = _EMB.fullmatch(key)
            if m:
                parts.setdefault(int(m.group(1)), {})[m.group(2)] = value
        for part in parts.values():
            if isinstance(part.get("text"), str) and isinstance(part.get("vector"), list) and part["vector"]:
                found[(str(span.get("traceId", "")), part["text"])] = (
                    part["vector"],
                    attrs.get("embedding.model_name"),
                )
    return found


def _spans(request: Any, where: str) -> list[tuple[dict, dict[str, Any], dict[str, Any], str]]:
    """(span, its attributes, its resource's attributes, its location) for every span."""
    if not isinstance(request, dict) or not isinstance(request.get("resourceSpans"), list):
        raise TraceImportError(f"{where}not an OTLP JSON trace export (no 'resourceSpans' list)")
    out = []
    for r, rs in enumerate(request["resourceSpans"]):
        at = f"{where}resourceSpans[{r}]"
        if not isinstance(rs, dict):
            raise TraceImportError(f"{at}: must be an object")
        resource = _attributes((rs.get("resource") or {}).get("attributes") or [], f"{at}.resource")
        for s, ss in enumerate(rs.get("scopeSpans") or []):
            spans = ss.get("spans") if isinstance(ss, dict) else None
            if not isinstance(spans, list):
                raise TraceImportError(f"{at}.scopeSpans[{s}]: needs a 'spans' list")
            for n, span in enumerate(spans):
                loc = f"{at}.scopeSpans[{s}].spans[{n}]"
                if not isinstance(span, dict):
                    raise TraceImportError(f"{loc}: must be an object")
                name = span.get("name")
                loc += f" ({name!r})" if name else ""
                out.append((span, _attributes(span.get("attributes") or [], loc), resource, loc))
    return out


def _requests(path: Path) -> list[tuple[Any, str]]:
    text = path.read_text(encoding="utf-8")
    try:
        return [(json.loads(text), "")]
    except ValueError:
        pass
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                out.append((json.loads(line), f"line {n}: "))
            except ValueError as exc:
                raise TraceImportError(f"{path.name} line {n}: not JSON ({exc.msg})") from None
    return out


def read_otlp_json(path: str | Path, collection: str | None = None) -> list[Trace]:
    """Every OpenInference RETRIEVER span in the file as a trace; other spans are skipped.

    Raises TraceImportError naming the span and field when the file is malformed.
    """
    path = Path(path)
    try:
        requests = _requests(path)
    except OSError as exc:
        raise TraceImportError(f"Cannot read {path}: {exc.strerror or exc}") from None
    spans = [item for request, where in requests for item in _spans(request, where)]
    return retriever_traces(spans, collection, {"file": path.name})


def otlp_spans(request: Any, where: str = "") -> list[tuple[dict, dict[str, Any], dict[str, Any], str]]:
    """(span, its attributes, its resource's attributes, its location) for every span of one
    OTLP JSON export request (the body an OTLP/HTTP exporter posts to /v1/traces)."""
    return _spans(request, where)


def retriever_traces(
    spans: list[tuple[dict, dict[str, Any], dict[str, Any], str]],
    collection: str | None = None,
    source: dict[str, Any] | None = None,
) -> list[Trace]:
    """The OpenInference RETRIEVER spans among `spans` (from `otlp_spans`) as traces."""
    vectors = _query_vectors([(s, a) for s, a, _, _ in spans])
    traces = []
    for span, attrs, resource, where in spans:
        if str(attrs.get("openinference.span.kind", "")).upper() != "RETRIEVER":
            continue
        query = _query_text(attrs)
        if query is None:
            raise TraceImportError(f"{where}: retriever span has no 'input.value' (the query)")
        start = _nanos(span, "startTimeUnixNano", where, required=True)
        end = _nanos(span, "endTimeUnixNano", where, required=False)
        hits, skipped = _documents(attrs, where)
        span_meta = _json_object(attrs["metadata"], f"{where} metadata") if "metadata" in attrs else {}
        top_k = next((span_meta[key] for key in ("top_k", "similarity_top_k", "k") if key in span_meta), None)
        otel_trace, otel_span = str(span.get("traceId", "")), str(span.get("spanId", ""))
        vector, model = vectors.get((otel_trace, query), (None, attrs.get("embedding.model_name")))
        found = {
            **(source or {}),
            "trace_id": otel_trace,
            "span_id": otel_span,
            "service": resource.get("service.name"),
            "user_id": attrs.get("user.id"),
            "skipped_documents": skipped,
        }
        traces.append(
            Trace(
                query=query,
                k=int(top_k) if isinstance(top_k, int) and top_k > 0 else max(len(hits), 1),
                hits=tuple(hits),
                origin=ORIGIN,
                time=datetime.fromtimestamp(start / 1e9, UTC),
                # The same span imported twice is the same trace.
                id=uuid.uuid5(_NS, f"{otel_trace}/{otel_span}").hex if otel_span else uuid.uuid4().hex,
                model=model,
                embedding=None if vector is None else np.asarray(vector, dtype=np.float32),
                latency_ms=(end - start) / 1e6 if end is not None and end >= start else None,
                session_id=attrs.get("session.id"),
                collection=collection,
                source={k: v for k, v in found.items() if v},
            )
        )
    return traces
