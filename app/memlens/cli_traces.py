"""Retrieval-trace commands for `memlens`: list and import traces, why-not, replay, and
pinned queries that a script or CI job can check (exit 1 when one fails).

Kept apart from cli.py so the trace debugger can grow without crowding it; cli.py wires
them in with `register(sub)` and `COMMANDS`. Helpers of cli.py are imported inside
functions: cli.py imports this module while it is itself being imported.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from memlens.core.query import Filter
from memlens.core.ranking import Blend, describe
from memlens.core.traces import CLI, Trace, TraceImportError, TraceStore, filter_to_json


def _store_only(p: argparse.ArgumentParser, collection: str) -> None:
    """--store and --collection (with this help), for commands that need no model."""
    # SUPPRESS: `memlens --store DIR traces` keeps the DIR given before the command.
    p.add_argument(
        "--store",
        metavar="DIR",
        help="store folder (default: the per-user MemLens store)",
        default=argparse.SUPPRESS,
    )
    p.add_argument("--collection", metavar="NAME", help=collection, default=argparse.SUPPRESS)


def _when(text: str) -> datetime:
    """An ISO date or date-time for --since/--until; without a zone, UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date or time like 2026-03-01 or 2026-03-01T14:30"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _filter_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--user", action="append", metavar="ID", help="only memories of this user (repeatable)")
    p.add_argument("--agent", action="append", metavar="ID", help="only memories of this agent (repeatable)")
    p.add_argument("--session", action="append", metavar="ID", help="only memories of this session/run")
    p.add_argument("--kind", action="append", metavar="KIND", help="only memories of this kind")
    p.add_argument("--tag", action="append", metavar="TAG", help="only memories with this tag")


def _filter(args: argparse.Namespace) -> Filter:
    return Filter(
        users=frozenset(args.user or ()),
        agents=frozenset(args.agent or ()),
        sessions=frozenset(args.session or ()),
        kinds=frozenset(args.kind or ()),
        tags=frozenset(args.tag or ()),
    )


def register(sub: argparse._SubParsersAction) -> None:
    """Add the trace commands to `memlens`' sub-command parsers."""
    from memlens.cli import READS, _store_args

    p = sub.add_parser(
        "traces",
        help="list recorded retrieval traces, newest first",
        description="List recorded retrieval traces (searches by the window, the command line and "
        "agents), newest first, and set how many are kept.",
    )
    _store_only(p, "only traces of this collection (default: every collection)")
    p.add_argument("--origin", metavar="X", help="only this origin ('cli', 'gui'; 'plugin:' = every plugin)")
    p.add_argument("--session", metavar="ID", help="only this agent session")
    p.add_argument("--contains", metavar="TEXT", help="only queries containing TEXT")
    p.add_argument(
        "--since", type=_when, metavar="WHEN", help="only traces at or after WHEN (ISO; UTC unless given)"
    )
    p.add_argument("--until", type=_when, metavar="WHEN", help="only traces at or before WHEN")
    p.add_argument("--memory", metavar="ID", help="only traces that returned this memory")
    p.add_argument("--limit", type=int, default=20, metavar="N", help="at most N traces (default 20)")
    p.add_argument("--json", action="store_true", help="one JSON object per line, hits included")
    p.add_argument("--keep", type=int, metavar="N", help="retention: keep only the newest N traces (saved)")
    p.add_argument("--keep-days", type=float, metavar="D", help="retention: drop traces older than D days")
    p.add_argument("--keep-all", action="store_true", help="retention: lift both limits (saved)")

    p = sub.add_parser(
        "import-traces",
        help="load retrieval traces: OpenInference OTLP JSON, or a Mem0 search",
        description="Load an agent's retrievals as traces, from OpenInference retriever spans "
        "(OTLP JSON) or a Mem0 search result, for why-not and replay.",
    )
    p.add_argument("file", type=Path, help="the file to read")
    p.add_argument("--format", choices=["openinference", "mem0"], required=True)
    p.add_argument("--query", metavar="TEXT", help="the query of a Mem0 search result (required for mem0)")
    p.add_argument("--k", type=int, metavar="N", help="the search's top_k (default: the number of results)")
    p.add_argument("--threshold", type=float, metavar="S", help="the search's score threshold")
    _store_only(p, READS)
    _filter_args(p)

    p = sub.add_parser(
        "search",
        help="semantic search from the command line (recorded as a trace)",
        description="Search a collection by meaning and print the best hits; the search is "
        "recorded as a trace.",
    )
    p.add_argument("query", help="the query text")
    p.add_argument("--k", type=int, default=10, metavar="N", help="how many results (default 10)")
    p.add_argument("--json", action="store_true", help="one JSON object per hit")
    _blend_arg(p, "each hit shows each signal's part of its score")
    _store_args(p)
    _filter_args(p)

    p = sub.add_parser(
        "pin",
        help="pin a query: memories it must (and must not) return",
        description="Pin a query with the memories it must (and must not) return, so that "
        "check-queries catches a curation that loses an answer.",
    )
    p.add_argument("query", help="the query text")
    p.add_argument("--must", action="append", default=[], metavar="ID", help="a memory it must return")
    p.add_argument(
        "--must-not", action="append", default=[], metavar="ID", help="a memory it must not return"
    )
    p.add_argument("--k", type=int, default=10, metavar="N", help="how many results to look at (default 10)")
    _blend_arg(p, "checked with the same blend")
    _store_args(p)
    _filter_args(p)

    p = sub.add_parser(
        "pins",
        help="list pinned queries",
        description="List the pinned queries, each with its id (for unpin), collection, and the "
        "memories it must and must not return.",
    )
    p.add_argument("--json", action="store_true", help="one JSON object per pinned query")
    _store_args(
        p, "only the pins of this collection (default: every collection)", model=False, mem0_history=False
    )

    p = sub.add_parser(
        "unpin",
        help="remove pinned queries",
        description="Remove pinned queries by id, or by a unique id prefix as `memlens pins` shows it.",
    )
    p.add_argument("ids", nargs="+", metavar="ID", help="pinned query id(s) or unique prefix(es)")
    _store_args(p, collection=None, model=False, mem0_history=False)

    p = sub.add_parser(
        "check-queries",
        help="re-run pinned queries; exit 1 if any fails",
        description="Re-run a collection's pinned queries and print PASS or FAIL for each, with why "
        "a missing memory stayed out; exit 1 if any fails.",
    )
    _store_args(p)

    p = sub.add_parser(
        "trace",
        help="one trace: its query, filter and model, each hit and its text now",
        description="Show one trace whole: its query, filter and model, and each hit with the text "
        "the retriever saw beside its text now.",
    )
    p.add_argument("trace", help="trace id (or a unique prefix, as `memlens traces` shows it)")
    p.add_argument("--json", action="store_true", help="print the trace as JSON")
    _store_args(p)

    p = sub.add_parser(
        "why-not",
        help="why a memory was not returned by a trace",
        description="Explain why memories were not returned by a trace: each one's rank and "
        "distance, and the cause that kept it out.",
    )
    p.add_argument("trace", help="trace id (or a unique prefix, as `memlens traces` shows it)")
    p.add_argument("memory", nargs="+", help="memory id(s)")
    _store_args(p)

    p = sub.add_parser(
        "replay",
        help="re-run traces against the store as it is now",
        description="Re-run a trace, or every trace of a session, against the store as it is now, "
        "and show which memories entered, left or moved.",
    )
    p.add_argument("trace", nargs="?", help="trace id or unique prefix")
    p.add_argument("--session", metavar="ID", help="replay every trace of this session instead")
    _store_args(p)


# -- helpers -----------------------------------------------------------------------
def _trace_store(args: argparse.Namespace) -> tuple[Any, TraceStore]:
    from memlens.cli import _backend
    from memlens.core.workspace import traces_path

    backend = _backend(args, create=False)
    return backend, TraceStore(traces_path(backend))


def _service_traces(service) -> TraceStore:
    from memlens.cli import CliError

    if service.traces is None:
        raise CliError("Retrieval traces are not available for this store.")
    return service.traces


def _searching_service(args: argparse.Namespace):
    """A service whose model is loaded before any search, so that the latency recorded in
    each trace is the retrieval's, not the one-off model load's."""
    from memlens.cli import _service

    service = _service(args)
    service.embedder.encode(["warm-up"])
    return service


def _resolve(traces: TraceStore, key: str) -> Trace:
    from memlens.cli import CliError

    try:
        return traces.resolve(key)
    except KeyError as exc:
        raise CliError(exc.args[0]) from None


def _trace_line(t: Trace) -> str:
    when = t.time.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    latency = f"{t.latency_ms:8.1f} ms" if t.latency_ms is not None else "       - ms"
    session = f"  session={t.session_id}" if t.session_id else ""
    return (
        f"{when}  {t.id[:8]}  {t.origin:<14} k={t.k:<3} {len(t.hits):>3} hits {latency}  {t.query!r}{session}"
    )


def _blend_arg(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument(
        "--blend",
        metavar="SPEC",
        help="re-rank by more than similarity, e.g. 'recency=0.3,importance=0.2' (also keyword, "
        f"half_life_days, pool); {what}",
    )


def _blend(args: argparse.Namespace) -> Blend | None:
    from memlens.cli import CliError

    try:
        return Blend.parse(args.blend) if args.blend else None
    except ValueError as exc:
        raise CliError(f"--blend: {exc}.") from None


def _trace_json(t: Trace) -> str:
    return json.dumps(
        {
            "id": t.id,
            "time": t.time.isoformat(),
            "origin": t.origin,
            "session_id": t.session_id,
            "collection": t.collection,
            "query": t.query,
            "k": t.k,
            "model": t.model,
            "filter": None if t.filter is None else json.loads(filter_to_json(t.filter)),
            "threshold": t.threshold,
            "latency_ms": t.latency_ms,
            "hits": [
                {"memory_id": h.memory_id, "rank": h.rank, "distance": h.distance, "score": h.score}
                | ({"text": h.text} if h.text is not None else {})
                | ({"components": h.components} if h.components else {})
                for h in t.hits
            ],
        },
        ensure_ascii=False,
    )


# -- commands ------------------------------------------------------------------------
def cmd_traces(args: argparse.Namespace) -> int:
    from memlens.cli import CliError

    _, traces = _trace_store(args)
    if args.keep_all or args.keep is not None or args.keep_days is not None:
        try:
            traces.set_retention(
                None if args.keep_all else (args.keep or traces.max_traces),
                None if args.keep_all else (args.keep_days or traces.max_age_days),
                persist=True,
            )
        except ValueError as exc:
            raise CliError(f"Retention not changed: {exc}.") from None
        print(f"Traces: {traces.retention_text()}.", file=sys.stderr)
    found = traces.find(
        collection=args.collection,
        origin=args.origin,
        session_id=args.session,
        text=args.contains,
        since=args.since,
        until=args.until,
        memory_id=args.memory,
        limit=max(args.limit, 0),
    )
    for t in found:
        print(_trace_json(t) if args.json else _trace_line(t))
    if not found and not args.json:
        print("No traces.", file=sys.stderr)
    return 0


def cmd_import_traces(args: argparse.Namespace) -> int:
    from memlens.cli import CliError, _collection
    from memlens.core.importers.mem0_search import read_mem0_search
    from memlens.core.importers.openinference import read_otlp_json
    from memlens.core.workspace import READ

    if not args.file.is_file():
        raise CliError(f"{args.file} is not a file.")
    if args.format == "mem0" and not args.query:
        raise CliError(
            "--query is required with --format mem0: a Mem0 search result does not hold its query."
        )
    if args.format == "openinference" and (args.query or args.k or args.threshold is not None):
        raise CliError("--query, --k and --threshold are for --format mem0; OpenInference spans carry them.")
    backend, traces = _trace_store(args)
    collection = _collection(backend, args.collection, READ)
    try:
        if args.format == "mem0":
            flt = _filter(args)
            found = [
                read_mem0_search(
                    args.file,
                    args.query,
                    k=args.k,
                    threshold=args.threshold,
                    flt=None if flt.is_default else flt,
                    collection=collection,
                )
            ]
        else:
            found = read_otlp_json(args.file, collection=collection)
    except TraceImportError as exc:
        raise CliError(f"{args.file}: {exc}") from None
    if not found:
        print(f"No OpenInference retriever spans in {args.file}; nothing imported.")
        return 0
    kept = traces.add_many(found)
    rest = len(found) - kept
    note = f" ({rest} already imported or past the retention limit)" if rest else ""
    print(f"Imported {kept} trace(s) for '{collection}' from {args.file}{note}.")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from memlens.cli import CliError

    if args.k < 1:
        raise CliError("--k must be at least 1.")
    blend = _blend(args)
    service = _searching_service(args)
    hits = service.semantic_search(args.query, args.k, _filter(args), origin=CLI, blend=blend)
    for rank, h in enumerate(hits, 1):
        if args.json:
            row = {"rank": rank, "id": h.record.id, "score": h.score, "text": h.record.text}
            print(json.dumps(row | ({"components": h.components} if h.components else {})))
        else:
            parts = f"  ({describe(h.components)})" if h.components else ""
            print(f"{rank:>3}  {h.score:6.3f}  {h.record.id}  {' '.join(h.record.text.split())[:100]}{parts}")
    if service.traces is not None and not args.json:
        latest = service.traces.find(collection=service.store.collection, origin=CLI, limit=1)
        if latest:
            print(f"trace {latest[0].id[:8]} (memlens why-not {latest[0].id[:8]} MEMORY)", file=sys.stderr)
    return 0


def cmd_pin(args: argparse.Namespace) -> int:
    from memlens.cli import CliError, _service
    from memlens.core.pinned import PinnedQuery, PinnedStore
    from memlens.core.why_not import filter_exclusion

    service = _service(args)
    col = service.store.collection
    unknown = [m for m in [*args.must, *args.must_not] if service.get(m) is None]
    if unknown:
        raise CliError(f"No memory with id {unknown[0]!r} in '{col}'; nothing was pinned.")
    try:
        pinned = PinnedQuery(
            args.query, tuple(args.must), tuple(args.must_not), args.k, _filter(args), col, blend=_blend(args)
        )
    except ValueError as exc:
        raise CliError(f"Cannot pin this query: {exc}.") from None
    for mid in pinned.must:
        record = service.get(mid)
        if not pinned.filter.matches(record):
            excl = filter_exclusion(pinned.filter, record)
            why = excl[1] if excl else f"it is {record.status.value}"
            raise CliError(f"{mid} can never be returned with this filter: {why}; nothing was pinned.")
    PinnedStore(_service_traces(service).path).add(pinned)
    print(f"Pinned {pinned.query!r} (k={pinned.k}) in '{col}': {pinned.expects()}. Id {pinned.id[:8]}.")
    return 0


def _pinned_store(args: argparse.Namespace):
    """The pinned queries kept beside the store (in its traces file); no model needed."""
    from memlens.cli import _backend
    from memlens.core.pinned import PinnedStore
    from memlens.core.workspace import traces_path

    return PinnedStore(traces_path(_backend(args, create=False)))


def _pin_json(p) -> str:
    return json.dumps(
        {
            "id": p.id,
            "collection": p.collection,
            "query": p.query,
            "must": list(p.must),
            "must_not": list(p.must_not),
            "k": p.k,
            "filter": json.loads(filter_to_json(p.filter)),
            "blend": p.blend.to_dict() if p.blend else None,
            "created": p.created.isoformat(),
        },
        ensure_ascii=False,
    )


def cmd_pins(args: argparse.Namespace) -> int:
    pins = _pinned_store(args).all(args.collection)
    for p in pins:
        print(_pin_json(p) if args.json else p.line())
    if not pins and not args.json:
        print('No pinned queries. Add one with: memlens pin "QUERY" --must ID', file=sys.stderr)
    return 0


def cmd_unpin(args: argparse.Namespace) -> int:
    from memlens.cli import CliError

    pins = _pinned_store(args)
    try:
        found = {p.id: p for p in (pins.resolve(key) for key in args.ids)}
    except KeyError as exc:  # every id checked before any is removed
        raise CliError(f"{exc.args[0]} Nothing was unpinned.") from None
    for p in found.values():
        pins.remove(p.id)
        print(f"Unpinned {p.query!r} ({p.id[:8]}) in '{p.collection}'.")
    return 0


def cmd_check_queries(args: argparse.Namespace) -> int:
    from memlens.cli import EXIT_FAILED
    from memlens.core.pinned import PinnedStore, check_pinned

    service = _searching_service(args)
    col = service.store.collection
    pins = PinnedStore(_service_traces(service).path).all(col)
    if not pins:
        print(
            f"No pinned queries for '{col}'. Add one with: memlens pin \"QUERY\" --must ID", file=sys.stderr
        )
        return 0
    results = check_pinned(service, pins, origin=CLI)
    for r in results:
        print(r.line())
    failed = sum(not r.passed for r in results)
    print(f"{len(results) - failed} passed, {failed} failed.", file=sys.stderr)
    return EXIT_FAILED if failed else 0


def cmd_trace(args: argparse.Namespace) -> int:
    """One trace whole: what was asked, under which filter, and each hit with its text now."""
    from memlens.cli import _service
    from memlens.cli_curate import _line, excerpt

    service = _service(args)
    t = _resolve(_service_traces(service), args.trace)
    if args.json:
        print(_trace_json(t))
        return 0
    print(_trace_line(t))
    flt = "unknown (imported)" if t.filter is None else t.filter.describe()
    threshold = "" if t.threshold is None else f"  threshold={t.threshold:g}"
    print(f"  model={t.model or 'unknown'}  filter: {flt}{threshold}")
    now = {r.id: r for r in service.records(t.ids)}
    for h in t.hits:
        score = "" if h.score is None else f"score {h.score:.3f}"
        distance = "" if h.distance is None else f"distance {h.distance:.3f}"
        print(f"{h.rank:>3}. {'  '.join(p for p in (score, distance) if p)}")
        record = now.get(h.memory_id)
        if h.text is None or (record is not None and record.text == h.text):
            print("   " + _line(record, h.memory_id))
            continue
        # The text the retriever saw; an agent's hits may live in a store of its own.
        print(f"     {h.memory_id}  then: {excerpt(h.text)}")
        print("     " + (f"now:  {excerpt(record.text)}" if record else "not in this collection now"))
    return 0


def cmd_why_not(args: argparse.Namespace) -> int:
    from memlens.cli import _service
    from memlens.core.why_not import explain

    service = _service(args)
    trace = _resolve(_service_traces(service), args.trace)
    for mid, w in explain(service, trace, args.memory).items():
        print(f"{mid}: {w.cause}: {w.message}")
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from memlens.cli import CliError, _service
    from memlens.core.why_not import replay, replay_session

    if bool(args.trace) == bool(args.session):
        raise CliError("Give a trace id, or --session ID to replay a whole session.")
    service = _service(args)
    traces = _service_traces(service)
    if args.session:
        runs = replay_session(service, traces, args.session)
    else:
        runs = [replay(service, _resolve(traces, args.trace))]
    if not runs:
        raise CliError(f"No traces of session {args.session!r} in '{service.store.collection}'.")
    for r in runs:
        now = {h.memory_id: h.rank for h in r.hits}
        parts = [f"+{i} entered at {now[i]}" for i in r.entered]
        parts += [f"-{i} left (was {r.trace.hit(i).rank})" for i in r.left]
        parts += [f"{i} {old}->{new}" for i, old, new in r.moved]
        parts.append(f"{len(r.unchanged)} unchanged")
        print(f"{r.trace.id[:8]}  {r.trace.query!r}: {'; '.join(parts)}")
        if r.caveat:
            print(f"          note: {r.caveat}")
    return 0


COMMANDS = {
    "traces": cmd_traces,
    "import-traces": cmd_import_traces,
    "search": cmd_search,
    "pin": cmd_pin,
    "check-queries": cmd_check_queries,
    "pins": cmd_pins,
    "unpin": cmd_unpin,
    "why-not": cmd_why_not,
    "trace": cmd_trace,
    "replay": cmd_replay,
}
