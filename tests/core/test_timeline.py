"""The timeline's data on a real store and journal: marks where the journal says, the past rebuilt."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from memlens.core.journal import APPLIED
from memlens.core.merge import merge
from memlens.core.record import MemoryRecord, Status
from memlens.core.timeline import (
    as_of,
    density,
    lane_keys,
    select_in,
    stale_ids,
    timeline_events,
)

T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


def rec(i: int, text: str, **kw) -> MemoryRecord:
    base = dict(user_id="alice", agent_id="planner", session_id="s1", kind="semantic")
    base.update(kw)
    return MemoryRecord(id=f"m{i}", text=text, created_at=T0 + timedelta(days=i), **base)


SEED = [
    rec(1, "Alice lives in Porto."),
    rec(2, "Alice is allergic to peanuts."),
    rec(3, "Bob prefers window seats.", user_id="bob", agent_id="travel", kind="preference"),
    rec(4, "Alice's sister is called Ana.", session_id="s2"),
    rec(5, "Alice's sister Ana lives in Braga.", session_id="s2"),
]


def at(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


@pytest.fixture
def history(service):
    """An import of old memories (journaled now), then one change per step, a little apart."""
    service.add(SEED, actor="test", label="Import")
    steps = [
        ("edit", lambda: service.edit("m1", text="Alice lives in Lisbon.")),
        ("delete", lambda: service.delete(["m2"])),
        ("flag", lambda: service.set_status(["m3"], Status.FLAGGED)),
        ("restore", lambda: service.restore(["m2"])),
        ("merge", lambda: merge(service, ["m4", "m5"], "Alice's sister Ana lives in Braga.")),
    ]
    times = {}
    for name, step in steps:
        time.sleep(0.02)  # distinct journal times, so "between two steps" is a real instant
        step()
        times[name] = service.journal.groups(service.store.collection, [APPLIED])[-1].ts
    return service, times


def marks(data, memory_id):
    return [(round(t, 3), k) for t, k in data.events_of(memory_id)]


def test_creation_marks_are_at_created_at_even_for_a_fresh_import(history):
    service, _ = history
    data = timeline_events(service)
    created = {r.id: t for r, t in zip(data.records, data.created, strict=True)}
    for r in SEED:
        assert created[r.id] == r.created_at.timestamp()
    # The import itself (journaled now) is no change mark: m3 carries only its flag.
    assert [k for _, k in data.events_of("m3")] == ["status"]


def test_each_change_is_a_mark_at_its_journal_time_with_its_kind(history):
    service, times = history
    data = timeline_events(service)
    r = lambda name: round(times[name], 3)  # noqa: E731
    assert marks(data, "m1") == [(r("edit"), "edit")]
    assert marks(data, "m2") == [(r("delete"), "delete"), (r("restore"), "restore")]
    assert marks(data, "m3") == [(r("flag"), "status")]
    merged = next(x for x in data.records if x.source.get("type") == "merge")
    # The merged memory and both sources carry the merge; the new one is drawn at its
    # (earliest source's) creation time as well.
    assert marks(data, merged.id) == [(r("merge"), "merge")]
    assert marks(data, "m4") == marks(data, "m5") == [(r("merge"), "merge")]
    assert data.created[data.records.index(merged)] == SEED[3].created_at.timestamp()
    # Marks point at the memory they belong to, for lanes and picking.
    for j, mid in enumerate(data.event_ids):
        assert data.records[data.event_index[j]].id == mid


def test_undone_changes_leave_no_mark(history):
    service, _ = history
    service.edit("m3", text="Bob prefers aisle seats.")
    assert "edit" in [k for _, k in timeline_events(service).events_of("m3")]
    service.undo()
    assert [k for _, k in timeline_events(service).events_of("m3")] == ["status"]


def test_as_of_before_an_edit_gives_the_old_text(history):
    service, times = history
    before_edit = at(times["edit"] - 0.005)
    assert as_of(service, before_edit)["m1"].text == "Alice lives in Porto."
    assert as_of(service, at(times["edit"] + 0.005))["m1"].text == "Alice lives in Lisbon."
    assert service.get("m1").text == "Alice lives in Lisbon."  # the present is untouched


def test_as_of_between_delete_and_restore_and_before_the_delete(history):
    service, times = history
    assert as_of(service, at((times["delete"] + times["restore"]) / 2))["m2"].status == Status.DELETED
    past = as_of(service, at(times["delete"] - 0.005))
    assert past["m2"].status == Status.ACTIVE
    assert "m2" in select_in(past)  # listed by the default filter, as it was then


def test_as_of_undoes_a_merge(history):
    service, times = history
    merged = next(r for r in service.records(service.select_all()) if r.source.get("type") == "merge")
    before = as_of(service, at(times["merge"] - 0.005))
    assert merged.id not in before
    assert before["m4"].status == before["m5"].status == Status.ACTIVE
    assert merged.id in as_of(service, at(times["merge"] + 0.005))


def test_as_of_hides_what_was_not_yet_created(history):
    service, _ = history
    # Imported today but created in March 2024: present at any time after its created_at.
    mid_march = as_of(service, T0 + timedelta(days=3, hours=1))
    assert {"m1", "m2", "m3"} <= set(mid_march) and "m4" not in mid_march and "m5" not in mid_march
    assert mid_march["m1"].text == "Alice lives in Porto."
    assert as_of(service, T0) == {}
    # A memory written now (no created_at given) did not exist a second ago.
    t = time.time()
    service.add([MemoryRecord(id="fresh", text="Alice booked a flight to Madrid.")])
    assert "fresh" not in as_of(service, at(t - 1))
    assert "fresh" in as_of(service, at(time.time()))


def test_lanes_are_sorted_by_size_with_none_and_other():
    records = [*SEED, MemoryRecord(id="x", text="no agent", agent_id=None)]
    lanes, labels = lane_keys(records, "agent")
    assert labels == ["planner", "(none)", "travel"]
    assert [labels[i] for i in lanes] == ["planner"] * 2 + ["travel"] + ["planner"] * 2 + ["(none)"]
    lanes, labels = lane_keys(records, "session", limit=2)
    assert labels == ["s1", "(other)"]
    assert [labels[i] for i in lanes] == ["s1", "s1", "s1", "(other)", "(other)", "(other)"]
    with pytest.raises(ValueError):
        lane_keys(records, "colour")


def test_stale_are_superseded_or_in_open_conflict():
    now = datetime(2025, 1, 1, tzinfo=UTC)
    records = [
        SEED[0].replace(valid_to=now - timedelta(days=1)),
        SEED[1].replace(valid_to=now + timedelta(days=1)),  # still valid today
        *SEED[2:],
    ]
    assert stale_ids(records, now=now) == {"m1"}
    assert stale_ids(records, [("m3", "m4")], now=now) == {"m1", "m3", "m4"}


def test_density_counts_every_time_once():
    times = np.array([0.0, 1.0, 1.5, 9.99, np.nan])
    edges, counts = density(times, bins=10)
    assert len(edges) == 11 and counts.sum() == 4 and counts[0] == 1 and counts[1] == 2
