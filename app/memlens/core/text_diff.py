"""The difference between two versions of a memory's text, as unified-diff lines.

A memory can hold 10 MB, and difflib is quadratic in the worst case (the history pane
draws its result on the GUI thread). An edit of a long memory mostly touches a few lines,
so what both versions share at the start and at the end is cut off first (in linear time,
without splitting 10 MB into lines), keeping a little context; line numbers still count
from the top. What is left is compared up to `limit` characters of each version, and a
note says when more was left out.
"""

from __future__ import annotations

import difflib
import re

LIMIT = 64 * 1024
CONTEXT = 2
_BLOCK = 64 * 1024
_HUNK = re.compile(r"^@@ -(\d+)(,\d+)? \+(\d+)(,\d+)? @@")


def _common_prefix(a: str, b: str) -> int:
    n, i = min(len(a), len(b)), 0
    while i < n and a[i : i + _BLOCK] == b[i : i + _BLOCK]:  # whole blocks first, in C
        i += _BLOCK
    i = min(i, n)
    while i < n and a[i] == b[i]:
        i += 1
    return i


def _common_suffix(a: str, b: str, most: int) -> int:
    i = 0
    while i < most:
        step = min(_BLOCK, most - i)
        if a[len(a) - i - step : len(a) - i] != b[len(b) - i - step : len(b) - i]:
            break
        i += step
    while i < most and a[len(a) - i - 1] == b[len(b) - i - 1]:
        i += 1
    return i


def _back_lines(text: str, pos: int, n: int) -> int:
    """Start of the line holding `pos`, moved `n` lines up."""
    start = text.rfind("\n", 0, pos) + 1
    for _ in range(n):
        if start == 0:
            break
        start = text.rfind("\n", 0, start - 1) + 1
    return start


def _forward_lines(text: str, pos: int, n: int) -> int:
    """End (past the newline) of the line holding `pos`, moved `n` lines down."""
    end = pos
    for _ in range(n + 1):
        if end >= len(text):
            return len(text)
        found = text.find("\n", end)
        end = len(text) if found < 0 else found + 1
    return end


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} KB"


def diff_lines(old: str, new: str, limit: int = LIMIT, context: int = CONTEXT) -> list[str]:
    """Unified-diff lines from `old` to `new` ("--- before", "+++ after", hunks), or one
    line in parentheses when there is nothing to show; a note first when cut short."""
    if old == new:
        return ["(text unchanged)"]
    prefix = _common_prefix(old, new)
    suffix = _common_suffix(old, new, min(len(old), len(new)) - prefix)
    start = _back_lines(old, prefix, context)
    old_stop = _forward_lines(old, len(old) - suffix, context)
    new_stop = len(new) - (len(old) - old_stop)  # the same distance into the shared end
    a, b = old[start:old_stop], new[start:new_stop]
    notes = []
    if len(a) > limit or len(b) > limit:
        notes.append(
            f"(long change, {_size(len(a))} before and {_size(len(b))} after: only its first "
            f"{limit // 1024} KB are compared)"
        )
        a, b = a[:limit], b[:limit]
    offset = old.count("\n", 0, start)
    lines = list(
        difflib.unified_diff(a.splitlines(), b.splitlines(), "before", "after", lineterm="", n=context)
    )
    if not lines:
        return [*notes, f"(no difference in the first {limit // 1024} KB of the change)"]
    if offset:
        lines = [
            _HUNK.sub(
                lambda m: f"@@ -{int(m[1]) + offset}{m[2] or ''} +{int(m[3]) + offset}{m[4] or ''} @@", line
            )
            if line.startswith("@@")
            else line
            for line in lines
        ]
    return [*notes, *lines]
