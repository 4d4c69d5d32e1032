"""The curation calls of the plugin store facade (API 1.1), on a real store: what the store
holds before, after, and after one undo, and the plugin named in the journal."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from memlens.plugin_api import (
    API_VERSION,
    BulkChange,
    KeepOneRefused,
    MemoryRecord,
    MemoryStoreView,
    MergeRefused,
    Plugin,
    PluginContext,
    Status,
    api_compatible,
)

ACTOR = "plugin:curator"
START = datetime(2025, 1, 1, tzinfo=UTC)
SEED = {
    "nurse1": "Bob works night shifts as a nurse.",
    "nurse2": "Bob is a nurse who works night shifts.",
    "nurse3": "Bob works as a nurse on the night shift.",
    "lisbon": "Carol lives in Lisbon.",
    "porto": "Carol lives in Porto.",
    "tea": "Alice drinks green tea every morning.",
    "shifts": "Ask Bob about his shift pattern.",
}


class Curator(Plugin):
    """Keeps its store to be driven from the test (as a plugin's own thread would)."""

    api_version = "1.1"

    def activate(self, context: PluginContext) -> None:
        self.store = context.store


@pytest.fixture
def service(memlens_harness):
    records = [
        MemoryRecord(id=mid, text=text, user_id="u", kind="semantic", created_at=START + timedelta(days=n))
        for n, (mid, text) in enumerate(SEED.items())
    ]
    memlens_harness.service.add(records)
    memlens_harness.service.edit("shifts", links=("nurse2",))
    return memlens_harness.service


@pytest.fixture
def store(memlens_harness, service) -> MemoryStoreView:
    plugin = Curator()
    memlens_harness.activate(plugin, name="curator")
    return plugin.store


def contents(service) -> dict[str, MemoryRecord]:
    """Every memory the store holds, read from the store itself."""
    return {s.record.id: s.record for s in service.store.get(service.select_all())}


@dataclass(frozen=True)
class Case:
    call: Callable[[MemoryStoreView], object]
    check: Callable[[dict[str, MemoryRecord], object], None]
    label: str


def _archived(after, _result):
    assert after["tea"].status == Status.ARCHIVED


def _verified(after, _result):
    assert after["tea"].status == after["porto"].status == Status.VERIFIED


def _merged(after, merged):
    assert after[merged.id].text == "Bob is a night-shift nurse."
    assert after[merged.id].source["merged_from"] == ["nurse1", "nurse2"]
    assert after["nurse1"].status == after["nurse2"].status == Status.ARCHIVED
    assert after["shifts"].links == (merged.id,)


def _kept(after, _result):
    assert after["nurse1"].status == Status.ACTIVE
    assert after["nurse2"].status == after["nurse3"].status == Status.ARCHIVED
    assert after["shifts"].links == ("nurse1",)


def _superseded(after, old):
    assert after["lisbon"].valid_to == after["porto"].created_at == old.valid_to


def _corrected(after, records):
    assert [r.text for r in records] == ["Carol lived in Lisbon until 2024.", "Carol lives in Porto."]
    assert after["lisbon"].text == "Carol lived in Lisbon until 2024."


def _bulk(after, changed):
    assert {r.id for r in changed} == {"tea", "lisbon"}
    assert after["tea"].tags == after["lisbon"].tags == ("checked",)
    assert after["tea"].user_id == after["lisbon"].user_id == "carol"


CASES = {
    "archive": Case(
        lambda s: s.archive(["tea"], reason="stale"),
        _archived,
        "Archive 1 memory",
    ),
    "verify": Case(
        lambda s: s.verify(["tea", "porto"], reason="asked Carol"),
        _verified,
        "Verify 2 memories",
    ),
    "merge": Case(
        lambda s: s.merge(["nurse1", "nurse2"], "Bob is a night-shift nurse.", reason="same fact"),
        _merged,
        "Merge 2 memories",
    ),
    "keep_one": Case(lambda s: s.keep_one("nurse1", ["nurse2", "nurse3"]), _kept, "Keep 1 of 3 memories"),
    "supersede": Case(lambda s: s.supersede("lisbon", "porto"), _superseded, "Supersede 1 memory"),
    "correct": Case(
        lambda s: s.correct(
            {"lisbon": "Carol lived in Lisbon until 2024.", "porto": "Carol lives in Porto."}
        ),
        _corrected,
        "Correct 1 memory",
    ),
    "bulk": Case(
        lambda s: s.bulk(["tea", "lisbon"], BulkChange(add_tags=("checked",), user_id="carol")),
        _bulk,
        "Bulk tag checked; user → carol (2 memories)",
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_a_curation_call_is_one_step_journaled_as_the_plugin_and_undoes(name, store, service):
    case = CASES[name]
    before = contents(service)
    steps = len(service.undo_stack()[0])

    result = case.call(store)
    after = contents(service)
    case.check(after, result)
    applied = service.undo_stack()[0]
    assert len(applied) == steps + 1  # one step, however many memories it touched
    assert (applied[-1].label, applied[-1].actor) == (case.label, ACTOR)
    changed = [mid for mid in after if after[mid] != before.get(mid)]
    assert changed and all(service.history(mid)[-1].actor == ACTOR for mid in changed)

    assert service.undo().label == case.label
    assert contents(service) == before


def test_restore_brings_back_what_the_user_deleted(store, service):
    before = contents(service)
    service.delete(["tea"], reason="by mistake")
    store.restore(["tea"], reason="the user still drinks it")
    assert contents(service)["tea"].status == Status.ACTIVE
    last = service.history("tea")[-1]
    assert (last.op, last.actor, last.reason) == ("restore", ACTOR, "the user still drinks it")
    service.undo()
    assert contents(service)["tea"].status == Status.DELETED
    service.undo()
    assert contents(service) == before


def test_dismissals_are_remembered_until_undone(store, service):
    before = contents(service)
    assert [c.ids for c in store.duplicates()] == [("nurse1", "nurse2", "nurse3")]
    assert [(c.a, c.b) for c in store.conflicts()] == [("lisbon", "porto")]

    store.dismiss_duplicates(["nurse1", "nurse2", "nurse3"], reason="three different wards")
    store.dismiss_conflict("lisbon", "porto", reason="two homes")
    assert store.duplicates() == [] and store.conflicts() == []
    assert contents(service) == before  # a dismissal leaves the memories as they are
    keep_both, keep_all = service.undo_stack()[0][-1], service.undo_stack()[0][-2]
    assert (keep_both.label, keep_both.actor, keep_both.reason) == (
        "Keep both: not a conflict",
        ACTOR,
        "two homes",
    )
    assert (keep_all.label, keep_all.actor) == ("Keep 3 memories as distinct", ACTOR)

    service.undo()
    assert [(c.a, c.b) for c in store.conflicts()] == [("lisbon", "porto")] and store.duplicates() == []
    service.undo()
    assert [c.ids for c in store.duplicates()] == [("nurse1", "nurse2", "nurse3")]


def test_bulk_preview_shows_exactly_what_would_change_and_writes_nothing(store, service):
    before = contents(service)
    preview = store.bulk_preview(["tea", "lisbon", "porto"], BulkChange(user_id="u", add_tags=("x",)))
    assert [(b.id, a.tags) for b, a in preview] == [("tea", ("x",)), ("lisbon", ("x",)), ("porto", ("x",))]
    assert store.bulk_preview(["tea"], BulkChange(user_id="u")) == []  # already hers: no change
    assert contents(service) == before


def test_a_refused_merge_or_keep_one_names_the_problem_and_writes_nothing(store, service):
    service.delete(["nurse3"])
    before, steps = contents(service), len(service.undo_stack()[0])
    with pytest.raises(MergeRefused, match="'nurse3' is deleted"):
        store.merge(["nurse1", "nurse3"])
    with pytest.raises(KeepOneRefused, match="'nurse1' is named more than once"):
        store.keep_one("nurse1", ["nurse1", "nurse2"])
    with pytest.raises(KeepOneRefused, match="at least one other"):
        store.keep_one("nurse1", [])
    assert contents(service) == before and len(service.undo_stack()[0]) == steps


def test_the_curation_calls_are_an_additive_minor_version():
    assert API_VERSION == "1.1"
    assert api_compatible("1.0") and api_compatible("1.1")  # plugins written for 1.0 still run
    assert not api_compatible("1.2") and not api_compatible("2.0")


def test_a_plugin_written_for_1_0_runs_and_reaches_the_new_calls(memlens_harness, service):
    class Older(Curator):
        api_version = "1.0"

    plugin = Older()
    memlens_harness.activate(plugin, name="older")
    plugin.store.archive(["tea"])
    assert service.history("tea")[-1].actor == "plugin:older"
