"""The `memlens` command: the window by default, headless sub-commands for scripts."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from memlens import __version__, cli_traces
from memlens.core.embedder import EmbedderError
from memlens.core.store import StoreError

EXIT_USAGE = 2
EXIT_FAILED = 1


class CliError(Exception):
    """One clear line for the user; the command exits non-zero."""


def _store_args(p: argparse.ArgumentParser, collection: bool = True) -> None:
    p.add_argument("--store", metavar="DIR", help="store folder (default: the per-user MemLens store)")
    if collection:
        p.add_argument("--collection", metavar="NAME", help="collection to use (default: 'memories')")
    p.add_argument(
        "--model", metavar="NAME_OR_PATH", help="embedding model (default: packaged all-MiniLM-L6-v2)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="memlens",
        description="Inspect and curate an AI agent's long-term memory. Without a command, opens the window.",
    )
    parser.add_argument("--version", action="version", version=f"memlens {__version__}")
    _store_args(parser)
    parser.add_argument("--demo", action="store_true", help="open the demo collection (created on first use)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("stats", help="collections, counts, profile and embedding dimension")
    _store_args(p, collection=False)
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")

    p = sub.add_parser("import", help="import memories: MemLens JSONL, or LoCoMo conversations")
    p.add_argument("file", type=Path, help="the file to read")
    _store_args(p)
    p.add_argument(
        "--format",
        choices=["auto", "jsonl", "locomo"],
        default="auto",
        help="file format (default: from the file)",
    )
    p.add_argument(
        "--conversation", action="append", metavar="ID", help="LoCoMo sample id to import (repeatable)"
    )
    p.add_argument("--skip-invalid", action="store_true", help="import the valid lines even if some are bad")

    p = sub.add_parser("export", help="write memories as JSONL")
    _store_args(p)
    p.add_argument("--format", choices=["jsonl"], default="jsonl")
    p.add_argument("--output", "-o", type=Path, help="file to write (default: standard output)")
    p.add_argument("--all", action="store_true", help="include archived and deleted memories")

    p = sub.add_parser("demo", help="create the demo collection without opening the window")
    _store_args(p, collection=False)
    cli_traces.register(sub)
    return parser


def _backend(args: argparse.Namespace, create: bool):
    from memlens.core.chroma_store import ChromaBackend
    from memlens.core.workspace import default_store_dir

    path = Path(args.store) if args.store else default_store_dir()
    return ChromaBackend.open_path(path, create=create or not args.store)


def _embedder(args: argparse.Namespace):
    from memlens.core.embedder import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(args.model)


def _service(args: argparse.Namespace, create: bool = False):
    from memlens.core.workspace import open_service

    backend = _backend(args, create)
    if not create and args.collection and args.collection not in {c.name for c in backend.collections()}:
        raise CliError(f"No collection named {args.collection!r} in {backend.location}.")
    service = open_service(backend, _embedder(args), args.collection, create=create)
    service.load()
    return service


def cmd_stats(args: argparse.Namespace) -> int:
    from memlens.core.chroma_store import profile_label

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


def _import_format(path: Path, wanted: str) -> str:
    if wanted != "auto":
        return wanted
    if path.suffix == ".json":
        with open(path, encoding="utf-8", errors="replace") as fh:
            head = fh.read(65536)
        # LoCoMo: a list of conversation objects (their "qa" list comes first).
        if head.lstrip().startswith("[") and any(
            k in head for k in ('"qa"', '"conversation"', '"sample_id"')
        ):
            return "locomo"
    return "jsonl"


def cmd_import(args: argparse.Namespace) -> int:
    from memlens.core.importers.locomo import read_locomo
    from memlens.core.jsonl import read_jsonl

    if not args.file.is_file():
        raise CliError(f"{args.file} is not a file.")
    fmt = _import_format(args.file, args.format)
    if fmt == "locomo":
        parsed = read_locomo(args.file, set(args.conversation) if args.conversation else None)
    else:
        parsed = read_jsonl(args.file)
    for err in parsed.errors[:50]:
        print(f"{args.file}:{err}", file=sys.stderr)
    if len(parsed.errors) > 50:
        print(f"... and {len(parsed.errors) - 50} more bad lines", file=sys.stderr)
    if parsed.errors and not args.skip_invalid:
        raise CliError(
            f"{len(parsed.errors)} bad line(s) in {args.file}; nothing was imported. "
            "Fix them, or pass --skip-invalid to import the other lines."
        )
    service = _service(args, create=True)
    existing = [r.id for r in parsed.records if service.get(r.id) is not None]
    if existing:
        raise CliError(
            f"{len(existing)} id(s) already exist in '{service.store.collection}' (first: {existing[0]!r}); "
            "nothing was imported."
        )
    change = service.add(parsed.records, actor="import", label=f"Import {args.file.name}")
    skipped = f", skipped {len(parsed.errors)} bad line(s)" if parsed.errors else ""
    print(f"Imported {len(change.ids)} memories into '{service.store.collection}'{skipped}.")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from memlens.core.jsonl import write_jsonl
    from memlens.core.query import Filter
    from memlens.core.record import Status

    service = _service(args)
    flt = Filter(statuses=frozenset(Status)) if args.all else Filter()
    records = service.records(reversed(service.select(flt)))  # oldest first reads naturally
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            n = write_jsonl(records, fh)
        print(f"Wrote {n} memories to {args.output}.", file=sys.stderr)
    else:
        write_jsonl(records, sys.stdout)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from memlens.core.demo_store import ensure_demo_store

    service = ensure_demo_store(_backend(args, create=True), _embedder(args))
    print(
        f"Demo collection '{service.store.collection}' in {service.store.location}: {len(service)} memories."
    )
    return 0


def no_display_message() -> str | None:
    """Why the window cannot open here, or None when it can."""
    if sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM"):
        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            return (
                "memlens: no display found (neither DISPLAY nor WAYLAND_DISPLAY is set). "
                "Run it on a desktop, use a headless command (memlens --help), "
                "or render off screen with QT_QPA_PLATFORM=offscreen."
            )
    return None


def cmd_gui(args: argparse.Namespace) -> int:
    message = no_display_message()
    if message:
        raise CliError(message.removeprefix("memlens: "))
    from memlens.gui.app import run

    return run(store=args.store, collection=args.collection, model=args.model, demo=args.demo)


COMMANDS = {"stats": cmd_stats, "import": cmd_import, "export": cmd_export, "demo": cmd_demo}
COMMANDS.update(cli_traces.COMMANDS)


def main(argv: list[str] | None = None) -> int:
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
