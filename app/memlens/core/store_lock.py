"""Who else has an embedded store open: two processes on one Chroma folder is unsafe.

Chroma's embedded store (a folder with `chroma.sqlite3`) belongs to one process: a
second one (an agent running while MemLens is open on its folder) does not see the
first one's index updates and their writes can clobber each other. MemLens cannot stop
that, but it can say so before it happens. Two ways of knowing:

- every MemLens process leaves a small claim file in the folder while it has the store
  open (`.memlens-open/<host>-<pid>.json`); a claim whose process is gone is stale and
  ignored (and cleaned up);
- on Linux, any process (a Mem0 or LangChain agent too) that holds the folder's
  `chroma.sqlite3` open shows it under /proc/<pid>/fd; Chroma keeps it open for as long
  as its client lives.

The fix is a Chroma server both processes talk to (docs/LIVE_AGENTS.md).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

CLAIM_DIR = ".memlens-open"
STORE_FILES = ("chroma.sqlite3", "chroma.sqlite3-wal")


@dataclass(frozen=True)
class Opener:
    pid: int
    program: str
    host: str = ""
    how: str = "claim"  # "claim" (a MemLens) or "file" (holds chroma.sqlite3 open)

    def describe(self) -> str:
        where = f" on {self.host}" if self.host and self.host != socket.gethostname() else ""
        return f"process {self.pid}{where} ({self.program})"


def _start_time(pid: int) -> str | None:
    """The process' start time in clock ticks (Linux), to tell a pid reused by another process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()[19]  # field 22 of stat; the name may hold spaces


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    except OSError:
        return False
    return True


def _program(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "unknown program"
    words = [w.decode(errors="replace") for w in raw.split(b"\0") if w]
    if not words:
        return "unknown program"
    shown = [Path(words[0]).name, *words[1:4]]
    return " ".join(shown) + (" …" if len(words) > 4 else "")


class StoreClaim:
    """This process' claim on a store folder, released by `release()` or at exit."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / CLAIM_DIR / f"{socket.gethostname()}-{os.getpid()}.json"
        self.path.parent.mkdir(exist_ok=True)
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "start": _start_time(os.getpid()),
            "program": " ".join([Path(sys.argv[0]).name, *sys.argv[1:3]]) or "memlens",
            "since": time.time(),
        }
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(info), encoding="utf-8")
        os.replace(tmp, self.path)
        atexit.register(self.release)

    def release(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink()
        atexit.unregister(self.release)


def claim(folder: str | Path) -> StoreClaim | None:
    """Mark the folder as open by this process (None where it cannot be written: read-only
    media; the /proc check still works there)."""
    try:
        return StoreClaim(folder)
    except OSError:
        return None


def _claims(folder: Path) -> list[Opener]:
    here, me = socket.gethostname(), os.getpid()
    found = []
    for path in sorted((folder / CLAIM_DIR).glob("*.json")):
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
            pid, host = int(info["pid"]), str(info.get("host", ""))
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if host == here:
            if pid == me:
                continue
            start = _start_time(pid)
            if not _alive(pid) or (start and info.get("start") and start != info["start"]):
                with contextlib.suppress(OSError):  # stale: its process is gone
                    path.unlink()
                continue
        found.append(Opener(pid, str(info.get("program") or "MemLens"), host, "claim"))
    return found


def _holders(folder: Path) -> list[Opener]:
    """Processes holding the folder's Chroma database open (Linux /proc; elsewhere none)."""
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    targets = {str((folder / name).resolve()) for name in STORE_FILES}
    me, found = os.getpid(), []
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            fds = list((entry / "fd").iterdir())
        except OSError:  # not ours to look at, or gone
            continue
        for fd in fds:
            try:
                if os.readlink(fd) in targets:
                    found.append(Opener(int(entry.name), _program(int(entry.name)), "", "file"))
                    break
            except OSError:
                continue
    return found


def other_openers(folder: str | Path) -> list[Opener]:
    """Other live processes that have the embedded store in `folder` open."""
    folder = Path(folder)
    by_pid: dict[tuple[str, int], Opener] = {}
    for o in _holders(folder):
        by_pid[(socket.gethostname(), o.pid)] = o
    for o in _claims(folder):
        by_pid.setdefault((o.host or socket.gethostname(), o.pid), o)
    return sorted(by_pid.values(), key=lambda o: o.pid)


def shared_store_warning(folder: str | Path) -> str | None:
    """A warning for the user when another process has this embedded store open, else None."""
    others = other_openers(folder)
    if not others:
        return None
    who = "; ".join(o.describe() for o in others[:3]) + (
        f" and {len(others) - 3} more" if len(others) > 3 else ""
    )
    return (
        f"Another process also has this store open: {who}. Chroma's embedded store is not safe for "
        "two processes at once: each may miss the other's changes and writes can be lost. Stop the "
        "other process, or let both use a Chroma server (see docs/LIVE_AGENTS.md)."
    )
