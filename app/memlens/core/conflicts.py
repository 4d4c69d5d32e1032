"""Memories that talk about the same thing but disagree.

A candidate pair is similar in meaning (same owner, or no owner on one side) and
differs in something a fact hinges on: a number, a date (in digits or words), a
negation, a name. Two episodic memories are not compared: two events can differ without
either being wrong ("ran 5 km on Tuesday", "ran 8 km on Friday"). A language model, when configured, can
judge the candidates; without one the signals decide.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from memlens.core.entities import extract_entities
from memlens.core.graph import semantic_pairs
from memlens.core.query import Filter
from memlens.core.record import HIDDEN_STATUSES, MemoryRecord, utc_now
from memlens.core.service import Change, MemoryService

FLOOR = 0.6
_NUM = re.compile(r"\d+(?:[.,:]\d+)*")
_NEG = re.compile(
    r"\b(?:not|no|never|none|nobody|nothing|cannot|no longer|stopped|quit)\b|n't\b",
    re.IGNORECASE,
)
_MONTHS = (
    "January February March April May June July August September October November December".split()  # noqa: SIM905
)
_SHORT = {m[:3]: m for m in _MONTHS} | {"Sept": "September"}
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_MONTH = r"(?:" + "|".join([*_MONTHS, *_SHORT]) + r")\b\.?"
# Dates as memories write them: 2024-03-05, 5/3/2024, "5 March", "March 5th, 2024",
# "in June", weekdays ("on Tuesdays"). Month words are matched capitalised only: "may"
# and "march" are verbs too.
_DATE = re.compile(
    r"\b(?P<iso>\d{4}-\d{1,2}-\d{1,2})\b"
    r"|\b(?P<slash>\d{1,2}/\d{1,2}(?:/\d{2,4})?)\b"
    rf"|\b(?:(?P<day1>{_DAY})\s+(?:of\s+)?)?(?P<month>{_MONTH})(?:\s+(?P<day2>{_DAY})\b)?(?:,?\s+(?P<year>\d{{4}})\b)?"
    r"|\b(?P<weekday>(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day)s?\b"
)


@dataclass(frozen=True)
class Conflict:
    a: str
    b: str
    similarity: float
    reasons: tuple[str, ...]


def _date(m: re.Match) -> tuple[str, str] | None:
    """(kind, one canonical spelling) of a date, or None for a word that only looks like a
    month. Kinds are "day" (a calendar date or month) and "weekday": "on 18 October" and
    "on Sundays" do not disagree."""
    if m["weekday"]:
        return "weekday", m["weekday"]
    if m["iso"]:
        return "day", "-".join(part.zfill(2) for part in m["iso"].split("-"))
    if m["slash"]:
        return "day", m["slash"]
    word = m["month"].rstrip(".")
    day = re.sub(r"\D", "", m["day1"] or m["day2"] or "")
    if (word in _SHORT or word == "May") and not (day or m["year"]):
        return None  # "May I…", "Jan" the person: a short month needs a day or a year beside it
    return "day", " ".join(p for p in (_SHORT.get(word, word), day, m["year"]) if p)


def split_dates(text: str) -> tuple[dict[str, set[str]], str]:
    """The dates a text gives, by kind, and the text without them (so that a date's digits
    and words are not read again as numbers and names)."""
    dates: dict[str, set[str]] = {}
    rest = []
    last = 0
    for m in _DATE.finditer(text):
        found = _date(m)
        if found is not None:
            dates.setdefault(found[0], set()).add(found[1])
            rest.append(text[last : m.start()])
            last = m.end()
    rest.append(text[last:])
    return dates, " ".join(rest)


def _differ(what: str, x: set[str], y: set[str]) -> list[str]:
    if x and y and x != y:
        return [f"{what} differ: {', '.join(sorted(x))} vs {', '.join(sorted(y))}"]
    return []


def disagreement(x: MemoryRecord, y: MemoryRecord) -> list[str]:
    """What two similar memories disagree on: numbers, dates, a negation, names."""
    (dx, rx), (dy, ry) = split_dates(x.text), split_dates(y.text)
    reasons = _differ("numbers", set(_NUM.findall(rx)), set(_NUM.findall(ry)))
    for kind in ("day", "weekday"):
        reasons += _differ("dates", dx.get(kind, set()), dy.get(kind, set()))
    if bool(_NEG.search(x.text)) != bool(_NEG.search(y.text)):
        reasons.append("one says not")
    ex, ey = extract_entities(rx), extract_entities(ry)
    only_x, only_y = ex - ey, ey - ex
    if ex & ey and only_x and only_y:
        reasons.append(f"names differ: {', '.join(sorted(only_x))} vs {', '.join(sorted(only_y))}")
    return reasons


def find_conflicts(
    service: MemoryService,
    ids: Sequence[str] | None = None,
    floor: float = FLOOR,
    k: int = 8,
    dismissed: set[frozenset[str]] = frozenset(),
    judge: Callable[[MemoryRecord, MemoryRecord], tuple[bool, str]] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Conflict]:
    ids = list(ids) if ids is not None else service.select(Filter())
    out = []
    for i, j, sim in semantic_pairs(service.store, ids, k, floor, progress):
        x, y = service.get(ids[i]), service.get(ids[j])
        if x is None or y is None or frozenset((x.id, y.id)) in dismissed:
            continue
        if x.kind == "episodic" and y.kind == "episodic":
            continue
        if x.user_id and y.user_id and x.user_id != y.user_id:
            continue
        if x.valid_to or y.valid_to:  # already resolved by superseding one
            continue
        older, newer = sorted((x, y), key=lambda r: (r.created_at is None, r.created_at or 0))
        reasons = disagreement(older, newer)  # read "older vs newer"
        if not reasons:
            continue
        if judge is not None:
            contradicts, why = judge(older, newer)
            if not contradicts:
                continue
            reasons.append(f"model: {why}")
        out.append(Conflict(older.id, newer.id, round(sim, 4), tuple(reasons)))
    return sorted(out, key=lambda c: -c.similarity)


def recheck(service: MemoryService, conflict: Conflict) -> Conflict | None:
    """The conflict as its memories stand now, or None once it is resolved: a side gone,
    trashed or superseded, or the texts edited until they no longer disagree. Reasons are
    worked out again when an edit changed them (a model's verdict on the old texts is dropped)."""
    older, newer = service.get(conflict.a), service.get(conflict.b)
    if older is None or newer is None or older.valid_to or newer.valid_to:
        return None
    if older.status in HIDDEN_STATUSES or newer.status in HIDDEN_STATUSES:
        return None
    reasons = tuple(disagreement(older, newer))
    if not reasons:
        return None
    signals = tuple(r for r in conflict.reasons if not r.startswith("model: "))
    return conflict if reasons == signals else replace(conflict, reasons=reasons)


def supersede(
    service: MemoryService,
    old_id: str,
    new_id: str,
    reason: str | None = None,
    when=None,
    actor: str = "user",
) -> Change:
    """Keep both, but mark `old_id` as no longer valid: from when `new_id` was learned,
    or from `when` (e.g. now, when the newer memory is the wrong one)."""
    old, new = service.get(old_id), service.get(new_id)
    if old is None or new is None:
        raise KeyError("both memories must be in the collection")
    when = when or new.created_at or utc_now()
    return service.apply_records(
        [old.replace(valid_to=when)],
        actor,
        reason or f"superseded by {new_id}",
        label="Supersede 1 memory",
    )


def correct(
    service: MemoryService, texts: Mapping[str, str], actor: str = "user", reason: str | None = None
) -> Change:
    """Resolve a conflict by editing: new texts for one or both memories, one undo step
    (a text left as it was is no change; a blank one is refused with nothing written)."""
    missing = [mid for mid in texts if service.get(mid) is None]
    if missing:
        raise KeyError(f"No memory {', '.join(map(repr, missing))} in '{service.store.collection}'.")
    current = {r.id: r for r in service.records(texts)}
    records = [current[mid].replace(text=text) for mid, text in texts.items() if text != current[mid].text]
    n = len(records)
    label = f"Correct {n} memor{'y' if n == 1 else 'ies'}"
    return service.update(records, actor, reason or "corrected a conflict", label=label)
