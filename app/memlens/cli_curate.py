"""Curation from the command line, journaled like the window's own actions, on any store
MemLens opens (a folder, a server, a Mem0 or LangChain layout): edit, flag, verify,
archive, delete, restore, purge, merge, bulk changes, undo and redo; and the lists the
window reviews (trash, duplicates, conflicts, the review queue). Wired into `memlens` by
cli.py like the trace commands."""

from __future__ import annotations

import argparse
import sys

from memlens.core.record import HIDDEN_STATUSES, MemoryRecord, Status

# Commands that set a status: (verb for --help, status).
STATUS_COMMANDS = {
    "delete": ("move memories to the trash", Status.DELETED),
    "restore": ("bring memories back from the trash", Status.ACTIVE),
    "flag": ("mark memories as suspect (they join the review queue)", Status.FLAGGED),
    "verify": ("mark memories as checked and true", Status.VERIFIED),
    "archive": ("archive memories (hidden, restorable)", Status.ARCHIVED),
}


def register(sub: argparse._SubParsersAction) -> None:
    from memlens.cli import _store_args
    from memlens.core.duplicates import DEFAULT_THRESHOLD
    from memlens.core.review import SUSPECT_BELOW

    def command(name: str, help: str, ids: str | None = None, reason: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        if ids:
            p.add_argument("ids", nargs=ids, metavar="ID", help="memory ids")
        if reason:
            p.add_argument("--reason", help="why, kept in the journal")
        _store_args(p)
        return p

    p = command("edit", "change a memory's text or fields (re-embeds a new text)")
    p.add_argument("id", help="the memory's id")
    p.add_argument("--text", help="the new text")
    p.add_argument("--user", metavar="ID", help="the new owner")
    p.add_argument("--kind", help="the new kind (episodic, semantic, ...)")
    p.add_argument("--tag", action="append", metavar="TAG", help="set the tags to these (repeatable)")

    for name, (verb, _status) in STATUS_COMMANDS.items():
        command(name, verb, ids="+")

    p = command("purge", "remove trashed memories for good (asks first; undo can still bring them back)", "+")
    p.add_argument("--yes", action="store_true", help="do not ask")

    p = command("trash", "list archived and deleted memories", reason=False)

    p = command("merge", "merge memories into one; the sources are archived", ids="+")
    p.add_argument("--text", help="the merged text (default: the most complete source text)")

    command("undo", "undo the last change made through MemLens", reason=False)
    command("redo", "redo the last change undone", reason=False)

    p = command(
        "duplicates",
        "list clusters of near-duplicate memories; keep them as distinct, or keep one and archive the others",
    )
    p.add_argument(
        "action", nargs="?", choices=("list", "keep", "keep-one"), default="list", help="default: list"
    )
    p.add_argument(
        "ids",
        nargs="*",
        metavar="ID",
        help="keep ID ID…: the memories are different facts; keep-one KEEP OTHER…: keep KEEP, "
        "archive the others (restorable)",
    )
    p.add_argument(
        "--threshold",
        type=float,
        default=DEFAULT_THRESHOLD,
        metavar="SIM",
        help=f"similarity a pair needs, 0-1 (default {DEFAULT_THRESHOLD})",
    )

    p = command("conflicts", "list memories that disagree; supersede one, or keep both")
    p.add_argument("action", nargs="?", choices=("list", "supersede", "keep"), default="list")
    p.add_argument(
        "ids",
        nargs="*",
        metavar="ID",
        help="supersede OLD [NEW]: OLD stops being valid when NEW was learned (NEW: its conflict "
        "partner if it has one); keep A B: not a conflict",
    )
    p.add_argument("--now", action="store_true", help="supersede: OLD stops being valid now")
    p.add_argument("--judge", action="store_true", help="ask the configured language model about each")

    p = command("review", "list the hallucination review queue: flagged and weakly supported", reason=False)
    p.add_argument(
        "--threshold",
        type=float,
        default=SUSPECT_BELOW,
        metavar="SCORE",
        help=f"support score below which a memory is a suspect (default {SUSPECT_BELOW})",
    )
    p.add_argument("--judge", action="store_true", help="ask the configured language model about weak ones")
    p.add_argument("--limit", type=int, metavar="N", help="show the first N")

    p = command("bulk", "change many memories at once (given ids, or a filter) as one undo step", ids="*")
    which = p.add_argument_group("which memories (instead of ids; every filter must match)")
    which.add_argument("--user", action="append", metavar="ID", help="owned by this user (repeatable)")
    which.add_argument("--agent", action="append", metavar="ID", help="written by this agent")
    which.add_argument("--session", action="append", metavar="ID", help="from this session")
    which.add_argument("--kind", action="append", help="of this kind")
    which.add_argument("--tag", action="append", metavar="TAG", help="carrying this tag")
    which.add_argument("--search", metavar="WORDS", help="whose text holds every one of these words")
    what = p.add_argument_group("what changes")
    what.add_argument("--add-tag", action="append", default=[], metavar="TAG", help="add this tag")
    what.add_argument("--remove-tag", action="append", default=[], metavar="TAG", help="remove this tag")
    what.add_argument("--set-user", metavar="ID", help="new owner ('' clears)")
    what.add_argument("--set-agent", metavar="ID", help="new agent ('' clears)")
    then = what.add_mutually_exclusive_group()
    then.add_argument("--archive", action="store_true", help="then archive them")
    then.add_argument("--delete", action="store_true", help="then move them to the trash")
    p.add_argument("--dry-run", action="store_true", help="show exactly what would change; change nothing")


def _open(args: argparse.Namespace, ids: list[str]):
    """The collection, loaded, after checking that every id is in it."""
    from memlens.cli import CliError, _service

    service = _service(args)
    for memory_id in ids:
        if service.get(memory_id) is None:
            raise CliError(f"No memory with id {memory_id!r} in '{service.store.collection}'.")
    return service


def _line(r: MemoryRecord | None, memory_id: str = "", width: int = 100) -> str:
    if r is None:
        return f"  {memory_id}  (no longer in the collection)"
    return f"  {r.id}  [{r.status.value}, {r.owner or 'no owner'}]  {excerpt(r.text, width)}"


def excerpt(text: str, width: int = 100) -> str:
    """One line of at most `width` characters."""
    text = " ".join(text.split())
    return text[:width] + ("…" if len(text) > width else "")


def _judge(args: argparse.Namespace):
    """The configured language model, when --judge asks for it."""
    from memlens.cli import CliError
    from memlens.core.llm import LLM, LLMConfig

    if not getattr(args, "judge", False):
        return None
    config = LLMConfig.current()
    if not config.configured:
        raise CliError(
            "--judge needs a language model: set MEMLENS_LLM_BASE_URL (and MEMLENS_LLM_API_KEY if it "
            "needs a key), or set one in the window (File ▸ Language Model…)."
        )
    return LLM(config)


def _asking(fn):
    """Run `fn`, a model's failure as one clear line."""
    from memlens.cli import CliError
    from memlens.core.llm import LLMError

    try:
        return fn()
    except LLMError as exc:
        raise CliError(f"{exc} Nothing was changed.") from None


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


def _confirm(question: str) -> bool:
    """Ask on a terminal; without one (a script, a pipe) there is nobody to answer."""
    from memlens.cli import CliError

    if not sys.stdin or not sys.stdin.isatty():
        raise CliError(f"{question} Pass --yes to confirm (no terminal to ask on); nothing was changed.")
    try:
        answer = input(f"{question} [y/N] ")
    except (EOFError, OSError):
        answer = ""
    return answer.strip().lower() in ("y", "yes")


def cmd_purge(args: argparse.Namespace) -> int:
    from memlens.cli import CliError

    service = _open(args, args.ids)
    live = [r.id for r in service.records(args.ids) if r.status not in HIDDEN_STATUSES]
    if live:
        raise CliError(
            f"Not in the trash: {', '.join(live)}. Delete or archive them first; nothing was purged."
        )
    n = len(set(args.ids))
    question = f"Purge {n} memor{'y' if n == 1 else 'ies'} from '{service.store.collection}' for good?"
    if not args.yes and not _confirm(question):
        print("Nothing was purged.")
        return 1
    change = service.purge(args.ids, reason=args.reason)
    print(f"{change.label} from '{service.store.collection}' (memlens undo brings them back).")
    return 0


def cmd_trash(args: argparse.Namespace) -> int:
    from memlens.core.query import Filter

    service = _open(args, [])
    ids = service.select(Filter(statuses=HIDDEN_STATUSES))
    print(f"{len(ids)} archived or deleted memories in '{service.store.collection}'.")
    for r in service.records(ids):
        print(_line(r))
    return 0


def cmd_merge(args: argparse.Namespace) -> int:
    from memlens.cli import CliError
    from memlens.core.merge import merge, merge_problem

    if len(set(args.ids)) < 2:
        raise CliError("A merge needs two or more different memory ids.")
    service = _open(args, args.ids)
    problem = merge_problem(service, args.ids)
    if problem:
        raise CliError(problem)
    change, merged = merge(service, args.ids, args.text, reason=args.reason)
    print(f"{change.label} into {merged.id}: {merged.text!r}")
    return 0


def cmd_undo(args: argparse.Namespace) -> int:
    service = _open(args, [])
    change = service.undo()
    print(f"Undid: {change.label}." if change else "Nothing to undo.")
    return 0


def cmd_redo(args: argparse.Namespace) -> int:
    service = _open(args, [])
    change = service.redo()
    print(f"Redid: {change.label}." if change else "Nothing to redo.")
    return 0


def _keep(args: argparse.Namespace, kind: str, reason: str) -> int:
    from memlens.cli import CliError
    from memlens.core.dismissals import Dismissals

    if len(set(args.ids)) < 2:
        raise CliError(f"{args.command} keep needs two or more different memory ids.")
    service = _open(args, args.ids)
    change = Dismissals(service).dismiss(kind, args.ids, reason=args.reason or reason)
    print(f"{change.label}: {', '.join(args.ids)} (memlens undo offers them again).")
    return 0


def _keep_one(args: argparse.Namespace) -> int:
    from memlens.cli import CliError
    from memlens.core.duplicates import KeepOneRefused, keep_one

    if len(args.ids) < 2:
        raise CliError("duplicates keep-one takes the memory to keep, then the ones to archive.")
    service = _open(args, args.ids)
    kept, *others = args.ids
    try:
        change = keep_one(service, kept, others, reason=args.reason)
    except KeepOneRefused as exc:
        raise CliError(f"{exc} Nothing was changed.") from None
    print(f"{change.label}: kept {kept}; archived {', '.join(others)} (memlens undo brings them back).")
    return 0


def cmd_duplicates(args: argparse.Namespace) -> int:
    from memlens.cli import CliError
    from memlens.core.dismissals import DUPLICATE, Dismissals
    from memlens.core.duplicates import DuplicateFinder

    if args.action == "keep":
        return _keep(args, DUPLICATE, "kept as distinct")
    if args.action == "keep-one":
        return _keep_one(args)
    if args.ids:
        raise CliError("duplicates lists the whole collection; ids go with 'keep' or 'keep-one'.")
    if not 0.0 < args.threshold <= 1.0:
        raise CliError(f"--threshold must be between 0 and 1, not {args.threshold}.")
    service = _open(args, [])
    finder = DuplicateFinder(service, floor=min(args.threshold, 0.7))
    clusters = finder.clusters(args.threshold, Dismissals(service).pairs(DUPLICATE))
    memories = sum(len(c.ids) for c in clusters)
    print(f"{len(clusters)} clusters ({memories} memories) at similarity ≥ {args.threshold:.2f}.")
    for n, c in enumerate(clusters, 1):
        print(f"cluster {n} · {len(c.ids)} memories · {c.similarity:.2f}")
        for memory_id in c.ids:
            print(_line(service.get(memory_id), memory_id))
    return 0


def _conflicts(service, args: argparse.Namespace):
    from memlens.core.conflicts import find_conflicts
    from memlens.core.dismissals import CONFLICT, Dismissals

    llm = _judge(args)
    dismissed = Dismissals(service).pairs(CONFLICT)
    return _asking(
        lambda: find_conflicts(service, dismissed=dismissed, judge=llm.contradicts if llm else None)
    )


def cmd_conflicts(args: argparse.Namespace) -> int:
    from memlens.cli import CliError
    from memlens.core.conflicts import supersede
    from memlens.core.dismissals import CONFLICT
    from memlens.core.record import utc_now

    if args.action == "keep":
        return _keep(args, CONFLICT, "both true")
    if args.action == "list":
        if args.ids:
            raise CliError("conflicts lists the whole collection; ids go with 'supersede' or 'keep'.")
        service = _open(args, [])
        conflicts = _conflicts(service, args)
        print(f"{len(conflicts)} possible conflicts in '{service.store.collection}', most similar first.")
        for c in conflicts:
            print(f"{c.similarity:.2f} · {'; '.join(c.reasons)}")
            print(_line(service.get(c.a), c.a) + "  (older)")
            print(_line(service.get(c.b), c.b) + "  (newer)")
        return 0
    if not 1 <= len(args.ids) <= 2:
        raise CliError("conflicts supersede takes OLD and, optionally, NEW.")
    service = _open(args, args.ids)
    old, new = args.ids[0], args.ids[1] if len(args.ids) == 2 else None
    if new is None:
        partners = {c.b if c.a == old else c.a for c in _conflicts(service, args) if old in (c.a, c.b)}
        if len(partners) != 1:
            found = f"it conflicts with {', '.join(sorted(partners))}" if partners else "it is in no conflict"
            raise CliError(f"Name the memory that supersedes {old}: {found}.")
        (new,) = partners
    change = supersede(service, old, new, reason=args.reason, when=utc_now() if args.now else None)
    valid_to = service.get(old).valid_to
    print(f"{change.label}: {old} is valid until {valid_to:%Y-%m-%d %H:%M} (superseded by {new}).")
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    from memlens.core.review import review_queue

    service = _open(args, [])
    llm = _judge(args)
    queue = _asking(lambda: review_queue(service, args.threshold, judge=llm.supports if llm else None))
    shown = queue[: args.limit] if args.limit else queue
    print(f"{len(queue)} memories to review in '{service.store.collection}': flags first, then the least "
          "supported.")  # fmt: skip
    for s in shown:
        score = f"{s.support.score:.2f}" if s.support else "  — "
        print(f"{s.origin:<12} {score}" + _line(s.record))
        print(f"{'':17}why: {s.why}")
    return 0


def _bulk_ids(args: argparse.Namespace, service) -> list[str]:
    from memlens.cli import CliError
    from memlens.core.query import Filter

    def fs(values):
        return frozenset(values or ())

    flt = Filter(
        users=fs(args.user),
        agents=fs(args.agent),
        sessions=fs(args.session),
        kinds=fs(args.kind),
        tags=fs(args.tag),
        text=args.search or "",
    )
    if args.ids and not flt.is_default:
        raise CliError("Give either memory ids or a filter (--user, --tag, ...), not both.")
    if not args.ids and flt.is_default:
        raise CliError("Which memories? Give their ids, or a filter such as --user, --tag or --search.")
    return list(dict.fromkeys(args.ids)) if args.ids else service.select(flt)


def _fields(r: MemoryRecord) -> dict[str, str]:
    return {
        "user": r.user_id or "—",
        "agent": r.agent_id or "—",
        "tags": ", ".join(r.tags) or "—",
        "status": r.status.value,
    }


def cmd_bulk(args: argparse.Namespace) -> int:
    from memlens.cli import CliError
    from memlens.core import bulk

    status = Status.ARCHIVED if args.archive else Status.DELETED if args.delete else None
    change = bulk.BulkChange(
        add_tags=tuple(args.add_tag),
        remove_tags=tuple(args.remove_tag),
        user_id=bulk.KEEP if args.set_user is None else args.set_user,
        agent_id=bulk.KEEP if args.set_agent is None else args.set_agent,
        status=status,
    )
    if change.describe() == "no change":
        raise CliError("Nothing to change: give --add-tag, --remove-tag, --set-user, --set-agent, "
                       "--archive or --delete.")  # fmt: skip
    service = _open(args, args.ids)
    ids = _bulk_ids(args, service)
    pairs = bulk.preview(service, ids, change)
    print(f"{change.describe()}: {len(pairs)} of {len(ids)} memories change.")
    for before, after in pairs:
        old, new = _fields(before), _fields(after)
        diff = "; ".join(f"{k} {old[k]} → {new[k]}" for k in old if old[k] != new[k])
        print(f"  {before.id}  {diff}")
    if args.dry_run:
        print("Dry run: nothing was changed.")
        return 0
    if pairs:
        applied = bulk.apply(service, ids, change, reason=args.reason)
        print(f"{applied.label}: one step (memlens undo reverts it).")
    return 0


COMMANDS = {
    "edit": cmd_edit,
    **{name: (lambda args, s=status: _set_status(args, s)) for name, (_, status) in STATUS_COMMANDS.items()},
    "purge": cmd_purge,
    "trash": cmd_trash,
    "merge": cmd_merge,
    "undo": cmd_undo,
    "redo": cmd_redo,
    "duplicates": cmd_duplicates,
    "conflicts": cmd_conflicts,
    "review": cmd_review,
    "bulk": cmd_bulk,
}
