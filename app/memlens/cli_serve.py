"""`memlens serve`: listen for agents in other processes without the window.

Runs the ingest plugin on a headless plugin host over the chosen store: every
retrieval an agent reports becomes a trace of that store, every session event is kept
in the store's traces file, so the window shows those sessions when it opens the same
store later. Each event is printed as it arrives. Ctrl+C (or SIGTERM) stops.
cli.py wires it in with `register(sub)` and `COMMANDS`.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from datetime import datetime
from typing import Any


def register(sub: argparse._SubParsersAction) -> None:
    from memlens.cli import WRITES, _store_args
    from memlens.client.connection import DEFAULT_HOST, DEFAULT_PORT

    p = sub.add_parser("serve", help="listen for agents in other processes (memlens.client, OpenTelemetry)")
    _store_args(p, WRITES)
    p.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    p.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: any free)"
    )
    p.add_argument("--show-token", action="store_true", help="print the token (default: where it is kept)")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print each event as one JSON line")
    out.add_argument("--quiet", action="store_true", help="print no events, only start and stop")


def _line(event: Any) -> str:
    """One event as a short line for a terminal."""
    from memlens.plugin_api import (
        MemoryAdded,
        MemoryDeleted,
        MemoryUpdated,
        MessageExchanged,
        RetrievalPerformed,
        SessionEnded,
        SessionStarted,
    )

    def short(text: str | None, n: int = 70) -> str:
        flat = " ".join((text or "").split())
        return repr(flat if len(flat) <= n else flat[: n - 1] + "…")

    when = event.time.astimezone().strftime("%H:%M:%S")
    if isinstance(event, SessionStarted):
        what = f"session started  agent={event.session.agent!r}" + (
            f" title={event.session.title!r}" if event.session.title else ""
        )
    elif isinstance(event, SessionEnded):
        what = f"session {event.status.value}" + (f": {event.error}" if event.error else "")
    elif isinstance(event, MessageExchanged):
        what = f"{event.role:<9} {short(event.text)}"
    elif isinstance(event, RetrievalPerformed):
        latency = f" {event.latency_ms:.1f} ms" if event.latency_ms is not None else ""
        trace = f"  trace {event.trace_id[:8]}" if event.trace_id else ""
        what = f"retrieval {short(event.query, 50)} -> {len(event.hits)} hit(s){latency}{trace}"
    elif isinstance(event, MemoryAdded):
        what = f"added     {event.memory_id}  {short(event.text)}"
    elif isinstance(event, MemoryUpdated):
        before = f"{short(event.before_text)} -> " if event.before_text is not None else ""
        what = f"updated   {event.memory_id}  {before}{short(event.text)}"
    elif isinstance(event, MemoryDeleted):
        what = f"deleted   {event.memory_id}" + (f"  {short(event.text)}" if event.text else "")
    else:
        what = event.KIND
    return f"{when}  {event.session_id}  {what}"


class _Terminal(logging.Handler):
    """What the endpoint and the plugin host report, on stderr: each refused request (an
    agent with a wrong token is otherwise silent) but the retries a busy queue asks for,
    and plugin failures once listening (failing to start is the command's own error)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.listening = False

    def emit(self, record: logging.LogRecord) -> None:
        refused = getattr(record, "refused", None)
        if refused is not None:
            if refused != 503:
                when = datetime.now().strftime("%H:%M:%S")
                print(f"{when}  {record.getMessage()}", file=sys.stderr, flush=True)
        elif self.listening and record.levelno >= logging.WARNING:
            print(f"memlens: {record.getMessage()}", file=sys.stderr, flush=True)


def _report_to(handler: logging.Handler) -> list[logging.Logger]:
    loggers = [logging.getLogger("memlens_ingest"), logging.getLogger("memlens.plugin_host")]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return loggers


def cmd_serve(args: argparse.Namespace) -> int:
    from memlens.cli import CliError, _service
    from memlens.client import connection
    from memlens.core.session_log import SessionLog, SessionRecorder
    from memlens.core.store_lock import claim, shared_store_warning
    from memlens.plugin_host import PluginHost
    from memlens_ingest import IngestPlugin

    # A named collection must exist; without one, an empty store gets the default one.
    service = _service(args, create=not args.collection)
    if service.traces is None:
        raise CliError("This store has no traces file; `memlens serve` needs one to keep sessions.")
    store_claim = None
    if service.store.location and not service.store.location.startswith("http"):
        store_claim = claim(service.store.location)
        warning = shared_store_warning(service.store.location)
        if warning:
            print(f"memlens: warning: {warning}", file=sys.stderr)
    host = PluginHost(None, discover_entries=lambda: ([], []))
    host.set_service(service)
    recorder = SessionRecorder(SessionLog(service.traces.path))
    host.add_listener(recorder)
    if not args.quiet:
        host.add_listener(
            (lambda e: print(json.dumps(e.to_dict(), ensure_ascii=False), flush=True))
            if args.json
            else (lambda e: print(_line(e), flush=True) if e.KIND != "message.delta" else None)
        )
    terminal = _Terminal()
    loggers = _report_to(terminal)
    plugin = IngestPlugin()
    settings = {"host": args.host, "port": args.port, "autostart": True}
    try:
        host.add_plugin("ingest", plugin, settings=settings).result(30)
    except OSError as exc:
        host.shutdown()
        raise CliError(f"{exc.strerror or exc}. Pick another with --port.") from None
    terminal.listening = True
    url, where = plugin.url, f"'{service.store.collection}' in {service.store.location}"
    token = connection.ensure_token()
    shown = (
        f"Token: {token}" if args.show_token else f"Token: in {connection.token_location()} (--show-token)"
    )
    print(
        f"Listening for agents on {url} for {where}.\n{shown}\n"
        f"An agent connects with memlens.client.connect() on this machine, or sets MEMLENS_URL={url} "
        f"and MEMLENS_TOKEN. OpenTelemetry exporters: {url}/v1/traces. Ctrl+C stops.",
        file=sys.stderr,
        flush=True,
    )
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        delivery = plugin.delivery
        host.shutdown(wait=10)
        recorder.close()
        for logger in loggers:
            logger.removeHandler(terminal)
            logger.propagate = True
        if store_claim is not None:
            store_claim.release()
    endpoint_stats = f"{delivery.traces_kept} retrieval trace(s) kept" if delivery else "nothing received"
    print(
        f"Stopped. {len(host.sessions.sessions())} session(s), {recorder.written} event(s) recorded, "
        f"{endpoint_stats}.",
        file=sys.stderr,
    )
    return 0


COMMANDS = {"serve": cmd_serve}
