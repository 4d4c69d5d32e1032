"""Curation from the command line: edit, delete, restore, merge and undo, journaled like
the window's own actions, on any store MemLens opens (a folder, a server, a Mem0 or
LangChain layout). Wired into `memlens` by cli.py like the trace commands."""

from __future__ import annotations

import argparse

from memlens.core.record import Status


def register(sub: argparse._SubParsersAction) -> None:
    from memlens.cli import _store_args

    p = sub.add_parser("edit", help="change a memory's text or fields (re-embeds a new text)")
    p.add_argument("id", help="the memory's id")
    p.add_argument("--text", help="the new text")
    p.add_argument("--user", metavar="ID", help="the new owner")
    p.add_argument("--kind", help="the new kind (episodic, semantic, ...)")
    p.add_argument("--tag", action="append", metavar="TAG", help="set the tags to these (repeatable)")
    p.add_argument("--reason", help="why, kept in the journal")
    _store_args(p)

    for name, verb in (("delete", "move memories to the trash"), ("restore", "bring memories back")):
        p = sub.add_parser(name, help=verb)
        p.add_argument("ids", nargs="+", metavar="ID")
        p.add_argument("--reason", help="why, kept in the journal")
        _store_args(p)

    p = sub.add_parser("merge", help="merge memories into one; the sources are archived")
    p.add_argument("ids", nargs="+", metavar="ID")
    p.add_argument("--text", help="the merged text (default: the most complete source text)")
    p.add_argument("--reason", help="why, kept in the journal")
    _store_args(p)

    p = sub.add_parser("undo", help="undo the last change made through MemLens")
    _store_args(p)


def _open(args: argparse.Namespace, ids: list[str]):
    """The collection, loaded, after checking that every id is in it."""
    from memlens.cli import CliError, _service

    service = _service(args)
    for memory_id in ids:
        if service.get(memory_id) is None:
            raise CliError(f"No memory with id {memory_id!r} in '{service.store.collection}'.")
    return service


def cmd_edit(args: argparse.Namespace) -> int:
    from memlens.cli import CliError

    fields: dict = {}
    if args.text is not None:
        fields["text"] = args.text
    if args.user is not None:
        fields["user_id"] = args.user or None
    if args.kind is not None:
        fields["kind"] = args.kind
    if args.tag is not None:
        fields["tags"] = tuple(args.tag)
    if not fields:
        raise CliError("Nothing to change: give --text, --user, --kind or --tag.")
    service = _open(args, [args.id])
    change = service.edit(args.id, reason=args.reason, **fields)
    record = service.get(args.id)
    print(f"{change.label}: {args.id} is now v{record.version}: {record.text!r}")
    return 0


def _set_status(args: argparse.Namespace, status: Status) -> int:
    service = _open(args, args.ids)
    change = service.set_status(args.ids, status, reason=args.reason)
    print(f"{change.label} in '{service.store.collection}'.")
    return 0


def cmd_merge(args: argparse.Namespace) -> int:
    from memlens.cli import CliError
    from memlens.core.merge import merge

    if len(set(args.ids)) < 2:
        raise CliError("A merge needs two or more different memory ids.")
    service = _open(args, args.ids)
    change, merged = merge(service, args.ids, args.text, reason=args.reason)
    print(f"{change.label} into {merged.id}: {merged.text!r}")
    return 0


def cmd_undo(args: argparse.Namespace) -> int:
    service = _open(args, [])
    change = service.undo()
    print(f"Undid: {change.label}." if change else "Nothing to undo.")
    return 0


COMMANDS = {
    "edit": cmd_edit,
    "delete": lambda args: _set_status(args, Status.DELETED),
    "restore": lambda args: _set_status(args, Status.ACTIVE),
    "merge": cmd_merge,
    "undo": cmd_undo,
}
