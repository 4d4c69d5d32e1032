"""The `memlens` command: the window by default, headless sub-commands for scripts."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from memlens import __version__, cli_curate, cli_serve, cli_traces
from memlens.core.embedder import EmbedderError
from memlens.core.store import StoreError

EXIT_USAGE = 2
EXIT_FAILED = 1
PROGRESS_EVERY_S = 3.0  # a long import reports this often on stderr


class CliError(Exception):
    """One clear line for the user; the command exits non-zero."""


# --collection's help, by what a command does without it (workspace.pick_collection).
READS = "collection (default: 'memories', else the only one; if there are several, name one)"
WRITES = "collection to add to (default: 'memories', created if needed)"
SHOWS = "collection to show (default: 'memories', else the first)"


def _store_args(
    p: argparse.ArgumentParser,
    collection: str | None = READS,
    top: bool = False,
    model: bool = True,
    mem0_history: bool = True,
) -> None:
    """Where to work. Given before the command (`memlens --store DIR stats`) or after it;
    a command's own default must not undo the one given before it, hence SUPPRESS.
    `collection`: the help of --collection (None: the command takes no collection);
    `model`, `mem0_history`: False for a command that never embeds or opens a collection,
    so --help lists only options the command uses."""
    unset = {} if top else {"default": argparse.SUPPRESS}
    p.add_argument(
        "--store", metavar="DIR", help="store folder (default: the per-user MemLens store)", **unset
    )
    if collection:
        p.add_argument("--collection", metavar="NAME", help=collection, **unset)
    if model:
        p.add_argument(
            "--model",
            metavar="NAME_OR_PATH",
            help="embedding model (default: packaged all-MiniLM-L6-v2)",
            **unset,
        )
    server = _server_args(p, unset)
    if mem0_history:
        server.add_argument(
            "--mem0-history",
            metavar="FILE",
            type=Path,
            help="the Mem0 agent's history.db, for a Mem0 collection",
            **unset,
        )


def _server_args(p: argparse.ArgumentParser, unset: dict) -> argparse._ArgumentGroup:
    """A Chroma server instead of a folder (docs/INTEROP.md)."""
    from memlens.core.server_spec import TOKEN_ENV, TOKEN_HEADERS

    g = p.add_argument_group("Chroma server (instead of --store)")
    g.add_argument("--server", metavar="URL", help="a Chroma server, e.g. http://localhost:8000", **unset)
    g.add_argument("--tenant", metavar="NAME", help="tenant on the server (default: default_tenant)", **unset)
    g.add_argument(
        "--database", metavar="NAME", help="database on the server (default: default_database)", **unset
    )
    g.add_argument("--token", metavar="TOKEN", help=f"auth token (default: ${TOKEN_ENV})", **unset)
    g.add_argument(
        "--token-header",
        choices=TOKEN_HEADERS,
        help="how the token is sent (default: Authorization: Bearer TOKEN)",
        **unset,
    )
    return g


class _Commands(argparse._SubParsersAction):
    """Sub-commands whose --help opens with a sentence saying what the command does: its
    `description`, else its line in the command list, as a sentence."""

    def add_parser(self, name: str, **kwargs):
        about = kwargs.get("description") or kwargs.get("help")
        if about:
            kwargs["description"] = about[0].upper() + about[1:] + ("" if about.endswith(".") else ".")
        return super().add_parser(name, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="memlens",
        description="Inspect and curate an AI agent's long-term memory. Without a command, opens the window.",
    )
    parser.add_argument("--version", action="version", version=f"memlens {__version__}")
    _store_args(parser, SHOWS, top=True)
    parser.add_argument("--demo", action="store_true", help="open the demo collection (created on first use)")
    parser.add_argument(
        "--screenshot",
        metavar="PNG",
        type=Path,
        help="open the window, save a picture of it once the collection is shown, and quit",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", action=_Commands)

    p = sub.add_parser(
        "stats",
        help="collections, counts, profile and embedding dimension",
        description="List the store's collections, each with its number of memories, the layout "
        "MemLens recognised (profile), its embedding dimension and distance.",
    )
    _store_args(p, collection=None, model=False, mem0_history=False)
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")

    from memlens.core.exporters.formats import EXPORT_FORMATS
    from memlens.core.importers.formats import AUTO, IMPORT_FORMATS

    p = sub.add_parser(
        "import",
        help="import memories: MemLens JSONL, LoCoMo, MemoryBank, sessions JSON, OpenAI chat messages",
        description="Embed the memories in FILE and add them to a collection as one undoable step "
        "(a file with bad lines imports nothing unless --skip-invalid).",
    )
    p.add_argument("file", type=Path, help="the file to read")
    _store_args(p, WRITES)
    p.add_argument(
        "--format",
        choices=[AUTO, *IMPORT_FORMATS],
        default=AUTO,
        help="file format (default: recognised from the file)",
    )
    p.add_argument(
        "--conversation",
        action="append",
        metavar="ID",
        help="only this LoCoMo sample id or MemoryBank user (repeatable)",
    )
    p.add_argument("--user", metavar="ID", help="owner of conversations that name none (chat, sessions)")
    p.add_argument("--agent", metavar="ID", help="agent of conversations that name none (chat, sessions)")
    p.add_argument("--skip-invalid", action="store_true", help="import the valid lines even if some are bad")

    p = sub.add_parser(
        "export",
        help="write memories as JSONL, CSV, GraphML or Mem0's JSON",
        description="Write a collection's memories, oldest first, to a file or to standard output "
        "(archived and deleted ones too with --all).",
    )
    _store_args(p)
    p.add_argument("--format", choices=list(EXPORT_FORMATS), default="jsonl")
    p.add_argument("--output", "-o", type=Path, help="file to write (default: standard output)")
    p.add_argument("--all", action="store_true", help="include archived and deleted memories")

    p = sub.add_parser(
        "watch",
        help="follow changes other writers (agents) make to a collection",
        description="Print each memory that other writers (agents) add, change or delete in a "
        "collection, until Ctrl+C.",
    )
    _store_args(p)
    p.add_argument(
        "--interval", type=float, default=2.0, metavar="S", help="seconds between looks (default 2)"
    )
    p.add_argument("--seconds", type=float, metavar="S", help="stop after S seconds (default: until Ctrl+C)")
    p.add_argument("--max-events", type=int, metavar="N", help="stop after N changed memories")
    p.add_argument("--json", action="store_true", help="one JSON object per change")

    p = sub.add_parser(
        "demo",
        help="create the demo collection without opening the window",
        description="Create the 'demo' collection (generated memories of a few users and agents, "
        "with planted duplicates, contradictions and hallucinations) without opening the window.",
    )
    _store_args(p, collection=None, mem0_history=False)
    cli_traces.register(sub)
    cli_curate.register(sub)
    cli_serve.register(sub)
    return parser


def _server_spec(args: argparse.Namespace):
    """The --server address with its tenant, database and token, or None for a folder."""
    from memlens.core.server_spec import ServerSpec

    if not getattr(args, "server", None):
        return None
    if args.store:
        raise CliError("Give either --store (a folder) or --server (a Chroma server), not both.")
    try:
        return ServerSpec.parse(args.server, args.tenant, args.database, args.token, args.token_header)
    except ValueError as exc:
        raise CliError(str(exc)) from None


def _backend(args: argparse.Namespace, create: bool):
    from memlens.core.chroma_store import ChromaBackend
    from memlens.core.workspace import default_store_dir

    spec = _server_spec(args)
    if spec is not None:
        return ChromaBackend.connect(spec)
    path = Path(args.store) if args.store else default_store_dir()
    if not create:
        _require_store(path)
    return ChromaBackend.open_path(path, create=create)


def _require_store(path: Path) -> None:
    """A command that only reads must not leave a new, empty store behind (Chroma makes
    one in any folder it opens). A file, or a folder of other files, open_path explains."""
    try:
        if path.is_file() or (path / "chroma.sqlite3").exists():
            return
        empty = not path.exists() or not any(path.iterdir())
    except OSError:
        return  # unreadable (exists() raises for a folder we may not enter): open_path says so
    if empty:
        why = "the folder is empty" if path.exists() else "the folder does not exist"
        raise CliError(f"No store at {path} ({why}); `memlens import FILE` or `memlens demo` creates one.")


def _embedder(args: argparse.Namespace):
    from memlens.core.embedder import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(args.model)


def _collection(backend, wanted: str | None, use: str) -> str:
    """The collection a command works on, by workspace.pick_collection's rules."""
    from memlens.core.workspace import CollectionNotChosen, pick_collection

    try:
        name = pick_collection(backend, wanted, use)
    except CollectionNotChosen as exc:
        hint = "Choose one with --collection NAME." if exc.names else "`memlens import FILE` adds one."
        raise CliError(f"{exc} {hint}") from None
    if not wanted:
        _say_unnamed(backend, name, use)
    return name


def _say_unnamed(backend, name: str, use: str) -> None:
    """On stderr, which collection a command without --collection uses when it is not
    the one --help names, or when writing creates it beside others."""
    from memlens.core.workspace import DEFAULT_COLLECTION, WRITE

    if use != WRITE:
        if name != DEFAULT_COLLECTION:
            print(f"Using '{name}', the only collection in {backend.location}.", file=sys.stderr)
        return
    others = [c.name for c in backend.collections()]
    if others and name not in others:
        print(
            f"No --collection given: writing to a new collection '{name}' "
            f"(this store also holds {', '.join(others)}).",
            file=sys.stderr,
        )


def _service(args: argparse.Namespace, create: bool = False):
    """The collection loaded. `create`: the command writes new memories (a missing store
    or collection is made, and without --collection they go to the default one)."""
    from memlens.core.workspace import READ, WRITE, open_service

    backend = _backend(args, create)
    name = _collection(backend, args.collection, WRITE if create else READ)
    history = getattr(args, "mem0_history", None)
    service = open_service(backend, _embedder(args), name, create=create, mem0_history=history)
    service.load()
    return service


def cmd_stats(args: argparse.Namespace) -> int:
    from memlens.core.profiles import profile_label

    backend = _backend(args, create=False)
    infos = backend.collections()
    if args.json:
        print(json.dumps({"store": backend.location, "collections": [i.__dict__ for i in infos]}, indent=2))
        return 0
    print(f"Store: {backend.location}")
    if not infos:
        print("No memory collections.")
        return 0
    rows = [("collection", "memories", "profile", "dimension", "distance")]
    rows += [
        (i.name, str(i.count), profile_label(i.profile), str(i.dimension or "-"), i.distance) for i in infos
    ]
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    for r in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from memlens.core.importers.formats import (
        ImportOptions,
        ImportRefused,
        apply_import,
        error_report,
        read_import,
    )

    if not args.file.is_file():
        raise CliError(f"{args.file} is not a file.")
    options = ImportOptions(frozenset(args.conversation or ()), args.user, args.agent)
    _fmt, parsed = read_import(args.file, args.format, options)
    for line in error_report(parsed.errors, str(args.file), limit=50):
        print(line, file=sys.stderr)
    if parsed.errors and not args.skip_invalid:
        raise CliError(
            f"{len(parsed.errors)} bad line(s) in {args.file}; nothing was imported. "
            "Fix them, or pass --skip-invalid to import the other lines."
        )
    service = _service(args, create=True)
    try:
        change = apply_import(
            service, parsed, args.file.name, skip_invalid=args.skip_invalid, progress=_progress_lines()
        )
    except ImportRefused as exc:
        raise CliError(str(exc)) from None
    skipped = f", skipped {len(parsed.errors)} bad line(s)" if parsed.errors else ""
    print(f"Imported {len(change.ids)} memories into '{service.store.collection}'{skipped}.")
    return 0


def _progress_lines(every_s: float = PROGRESS_EVERY_S):
    """A progress callback printing 'embedded N of M memories…' on stderr: the first
    report at once, then at most one every `every_s` seconds (the result line ends it)."""
    import time

    last = float("-inf")

    def report(done: int, total: int) -> None:
        nonlocal last
        now = time.monotonic()
        if done < total and now - last >= every_s:
            last = now
            print(f"embedded {done:,} of {total:,} memories…", file=sys.stderr, flush=True)

    return report


def cmd_export(args: argparse.Namespace) -> int:
    from memlens.core.exporters.formats import export_records
    from memlens.core.query import Filter
    from memlens.core.record import Status

    service = _service(args)
    flt = Filter(statuses=frozenset(Status)) if args.all else Filter()
    records = service.records(reversed(service.select(flt)))  # oldest first reads naturally
    try:
        n = export_records(records, args.format, args.output, service.store)
    except BrokenPipeError:
        raise  # the reader stopped reading (`| head`): main() ends quietly
    except OSError as exc:
        reason = exc.strerror or exc
        if args.output is None:
            raise CliError(f"Cannot write to standard output: {reason}.") from None
        raise CliError(f"Cannot write {args.output}: {reason}; nothing was written.") from None
    if args.output:
        print(f"Wrote {n} memories to {args.output}.", file=sys.stderr)
    return 0


def cmd_watch(args: argparse.Namespace) -> int:
    import time

    from memlens.core.watch import StoreWatcher, pause_after

    service = _service(args)
    watcher = StoreWatcher(service, args.interval)
    before = {r.id: r for r in service.records(service.select_all())}
    print(
        f"Watching '{service.store.collection}' in {service.store.location} "
        f"({len(service)} memories, {service.store.profile} layout). Ctrl+C stops.",
        file=sys.stderr,
        flush=True,
    )
    deadline = time.monotonic() + args.seconds if args.seconds else None
    seen = 0
    while True:
        result = watcher.poll()
        for memory_id in result.change.ids if result.change else ():
            now, old = service.get(memory_id), before.get(memory_id)
            what = "deleted" if now is None else "added" if old is None else "changed"
            _print_change(what, memory_id, old, now, args.json)
            if now is None:
                before.pop(memory_id, None)
            else:
                before[memory_id] = now
            seen += 1
        if args.max_events and seen >= args.max_events:
            return 0
        wait = pause_after(watcher, result)
        if deadline is not None and time.monotonic() + wait > deadline:
            return 0
        time.sleep(wait)


def _print_change(what: str, memory_id: str, old, new, as_json: bool) -> None:
    from datetime import datetime

    stamp = datetime.now().strftime("%H:%M:%S")
    if as_json:
        row = {"time": stamp, "event": what, "id": memory_id, "text": (new or old).text}
        if what == "changed":
            row["before"] = old.text
        print(json.dumps(row, ensure_ascii=False), flush=True)
        return
    text = (new or old).text
    detail = f"{old.text!r} -> {text!r}" if what == "changed" and old.text != text else repr(text)
    print(f"{stamp}  {what:<7}  {memory_id}  {detail}", flush=True)


def cmd_demo(args: argparse.Namespace) -> int:
    from memlens.core.demo_store import ensure_demo_store

    service = ensure_demo_store(_backend(args, create=True), _embedder(args))
    print(
        f"Demo collection '{service.store.collection}' in {service.store.location}: {len(service)} memories."
    )
    return 0


def cmd_gui(args: argparse.Namespace) -> int:
    from memlens.display_check import no_display_message

    message = no_display_message()  # before Qt starts: without a display it aborts the process
    if message:
        raise CliError(message)
    from memlens.gui.app import run

    server = _server_spec(args)
    return run(
        store=args.store,
        collection=args.collection,
        model=args.model,
        demo=args.demo,
        server=server,
        mem0_history=args.mem0_history,
        screenshot=args.screenshot,
    )


COMMANDS = {
    "stats": cmd_stats,
    "import": cmd_import,
    "export": cmd_export,
    "watch": cmd_watch,
    "demo": cmd_demo,
}
COMMANDS.update(cli_traces.COMMANDS)
COMMANDS.update(cli_curate.COMMANDS)
COMMANDS.update(cli_serve.COMMANDS)


def main(argv: list[str] | None = None) -> int:
    from memlens.display_check import PROBE_ENV, probe

    if os.environ.get(PROBE_ENV) == "1":  # a bundled memlens asking itself if Qt starts
        return probe()
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS.get(args.command, cmd_gui)(args)
    except (CliError, StoreError, EmbedderError) as exc:
        print(f"memlens: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `memlens traces | head`: the reader has all it wanted
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (no flush error at exit)
        return 0


if __name__ == "__main__":
    sys.exit(main())
