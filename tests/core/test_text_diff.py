"""The history pane's diff: what difflib says, also for a 10 MB memory, without the wait."""

from __future__ import annotations

import difflib

import pytest

from memlens.core.text_diff import diff_lines

LINES = [f"Line {n}: the agent noted something about topic {n % 50}." for n in range(40)]


def _difflib(old: str, new: str) -> list[str]:
    return list(difflib.unified_diff(old.splitlines(), new.splitlines(), "before", "after", lineterm="", n=2))


@pytest.mark.parametrize(
    "old,new",
    [
        ("\n".join(LINES), "\n".join([*LINES[:20], "An inserted line.", *LINES[20:]])),
        ("\n".join(LINES), "\n".join(LINES[1:])),  # first line removed
        ("\n".join(LINES), "\n".join(LINES[:-1])),  # last line removed
        ("\n".join(LINES), "\n".join([*LINES[:5], "Line 5: changed.", *LINES[6:30], "x", *LINES[31:]])),
        ("\n".join(LINES), "\n".join(LINES) + " and more"),  # a change at the very end
        ("", "\n".join(LINES)),
        ("Alice likes green tea", "Alice likes oolong tea"),
        ("a\nb\n", "a\nb\nc\n"),
    ],
)
def test_the_same_lines_as_difflib(old, new):
    assert diff_lines(old, new) == _difflib(old, new)


def test_one_line_changed_in_ten_megabytes():
    lines = [f"Entry {n}: a very long memory goes on." for n in range(280_000)]
    old = "\n".join(lines)
    assert len(old) > 10_000_000
    new = old.replace("Entry 150000: a very", "Entry 150000: an edited, very")
    assert diff_lines(old, new) == [
        "--- before",
        "+++ after",
        "@@ -149999,5 +149999,5 @@",
        " Entry 149998: a very long memory goes on.",
        " Entry 149999: a very long memory goes on.",
        "-Entry 150000: a very long memory goes on.",
        "+Entry 150000: an edited, very long memory goes on.",
        " Entry 150001: a very long memory goes on.",
        " Entry 150002: a very long memory goes on.",
    ]
    assert diff_lines(old, old) == ["(text unchanged)"]


def test_a_long_change_is_cut_and_says_so():
    big = "A very long memory. " * 500_000  # 10 MB on one line
    lines = diff_lines("", big)
    assert lines[0] == "(long change, 0 KB before and 10.0 MB after: only its first 64 KB are compared)"
    assert lines[1:4] == ["--- before", "+++ after", "@@ -0,0 +1 @@"]
    assert lines[4] == "+" + big[: 64 * 1024]
    assert len(lines) == 5
