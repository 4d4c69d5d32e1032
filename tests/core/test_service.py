"""The memory service on a real Chroma store with the real model."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from memlens.core.journal import PENDING, ROLLED_BACK, Operation, State
from memlens.core.query import Filter
from memlens.core.record import MemoryRecord, Status

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def rec(i: int, text: str, **kw) -> MemoryRecord:
    base = dict(user_id="alice", agent_id="planner", session_id="s1", kind="semantic")
    base.update(kw)
    return MemoryRecord(id=f"m{i}", text=text, created_at=T0 + timedelta(hours=i), **base)


SEED = [
    rec(1, "Alice is allergic to peanuts and carries an EpiPen.", tags=("health",)),
    rec(2, "Alice's daughter Maya plays the violin.", session_id="s2", tags=("family",)),
    rec(3, "Bob prefers window seats on long flights.", user_id="bob", agent_id="travel", kind="preference"),
    rec(
        4, "Bob moved to Lisbon in 2021.", user_id="bob", agent_id="travel", session_id="s3", kind="episodic"
    ),
    rec(
        5,
        "Carol writes her data pipelines in Python with pandas.",
        user_id="carol",
        extra={"app": "x", "n": 3},
    ),
]


@pytest.fixture
def seeded(service):
    service.add(SEED, actor="test")
    return service


def stored_text(service, memory_id):
    got = service.store.get([memory_id])
    return got[0].record.text if got else None


def test_paged_reads_are_newest_first_and_filters_combine(seeded):
    assert seeded.select() == ["m5", "m4", "m3", "m2", "m1"]
    assert seeded.select(Filter(users=frozenset({"bob"}))) == ["m4", "m3"]
    assert seeded.select(Filter(agents=frozenset({"travel"}), kinds=frozenset({"episodic"}))) == ["m4"]
    assert seeded.select(Filter(sessions=frozenset({"s2"}))) == ["m2"]
    assert seeded.select(Filter(tags=frozenset({"health", "family"}))) == ["m2", "m1"]
    window = Filter(since=T0 + timedelta(hours=2), until=T0 + timedelta(hours=4))
    assert seeded.select(window) == ["m4", "m3", "m2"]


def test_keyword_search_needs_every_word_any_case(seeded):
    assert seeded.select(Filter(text="BOB lisbon")) == ["m4"]
    assert seeded.select(Filter(text="bob tokyo")) == []


def test_semantic_search_ranks_by_meaning_and_respects_filters(seeded):
    hits = seeded.semantic_search("food allergy", k=3)
    assert hits[0].record.id == "m1"
    assert [h.rank for h in hits] == [1, 2, 3]
    assert hits[0].score > hits[1].score
    only_bob = seeded.semantic_search("food allergy", k=3, flt=Filter(users=frozenset({"bob"})))
    assert {h.record.id for h in only_bob} == {"m3", "m4"}


def test_unknown_metadata_survives_an_edit(seeded):
    seeded.edit("m5", tags=("python",))
    raw = seeded.store.get(["m5"])[0].record
    assert raw.extra == {"app": "x", "n": 3}
    assert raw.tags == ("python",)


def test_edit_reembeds_so_search_follows_the_new_text(seeded):
    assert seeded.semantic_search("musical instrument", k=1)[0].record.id == "m2"
    seeded.edit("m2", text="Alice's daughter Maya is learning to swim.")
    assert seeded.semantic_search("swimming lessons", k=1)[0].record.id == "m2"
    record = seeded.get("m2")
    assert record.version == 2 and record.updated_at > record.created_at


def test_undo_and_redo_restore_exact_store_contents(seeded):
    before = seeded.store.get(["m1"], with_embeddings=True)[0]
    seeded.edit("m1", text="Alice is allergic to shellfish.", reason="source says shellfish")
    assert stored_text(seeded, "m1") == "Alice is allergic to shellfish."
    assert seeded.undo().label == "Edit text"
    after_undo = seeded.store.get(["m1"], with_embeddings=True)[0]
    assert after_undo.record == before.record
    assert (after_undo.embedding == before.embedding).all()
    assert seeded.redo() is not None
    assert stored_text(seeded, "m1") == "Alice is allergic to shellfish."
    assert seeded.semantic_search("shellfish", k=1)[0].record.id == "m1"


def test_a_new_change_after_undo_drops_the_redo(seeded):
    seeded.edit("m1", text="v2")
    seeded.undo()
    assert seeded.can_redo()
    seeded.edit("m3", kind="profile")
    assert not seeded.can_redo()


def test_soft_delete_restore_and_purge(seeded):
    seeded.delete(["m3", "m4"], reason="wrong user")
    assert seeded.select() == ["m5", "m2", "m1"]
    assert seeded.select(Filter(statuses=frozenset({Status.DELETED}))) == ["m4", "m3"]
    assert seeded.store.get(["m3"])[0].record.status == Status.DELETED  # still in the store
    assert all(h.record.id not in ("m3", "m4") for h in seeded.semantic_search("flight seat", k=5))
    seeded.restore(["m3"])
    assert seeded.get("m3").status == Status.ACTIVE
    seeded.purge(["m4"])
    assert seeded.get("m4") is None and seeded.store.get(["m4"]) == []
    seeded.undo()  # even a purge is in the journal
    assert stored_text(seeded, "m4") == "Bob moved to Lisbon in 2021."


def test_flag_and_verify_are_journaled_with_reason(seeded):
    seeded.set_status(["m2"], Status.FLAGGED, reason="no source turn mentions a violin")
    seeded.set_status(["m2"], Status.VERIFIED)
    history = seeded.history("m2")
    assert [h.op for h in history] == ["add", "flagged", "verified"]
    assert history[1].reason == "no source turn mentions a violin"
    assert history[2].before.status == Status.FLAGGED


def test_journal_survives_reopening_and_undo_works_across_sessions(seeded, make_service):
    seeded.edit("m1", text="Alice is allergic to tree nuts.")
    reopened = make_service()
    assert reopened.get("m1").text == "Alice is allergic to tree nuts."
    assert reopened.can_undo()
    reopened.undo()
    assert stored_text(reopened, "m1") == SEED[0].text


def test_interrupted_change_is_rolled_back_on_open(seeded, make_service):
    # Simulate a crash: the journal recorded the group, the store got half of it.
    cur = seeded.store.get(["m1", "m2"], with_embeddings=True)
    ops = [
        Operation(
            "edit",
            s.record.id,
            State(s.record, s.embedding),
            State(s.record.replace(text="HALF"), s.embedding),
        )
        for s in cur
    ]
    gid = seeded.journal.begin(seeded.store.collection, "Crashy edit", ops, "test", None)
    from memlens.core.store import StoredMemory

    seeded.store.upsert([StoredMemory(ops[0].after.record, ops[0].after.embedding)])
    assert stored_text(seeded, "m1") == "HALF"
    assert [g.state for g in seeded.journal.groups(seeded.store.collection) if g.id == gid] == [PENDING]

    reopened = make_service()
    assert stored_text(reopened, "m1") == SEED[0].text
    assert reopened.get("m1").text == SEED[0].text
    assert [g.state for g in reopened.journal.groups(reopened.store.collection) if g.id == gid] == [
        ROLLED_BACK
    ]


def test_html_and_a_ten_megabyte_memory_are_stored_verbatim(service):
    html = "<b>bold</b> <script>alert('x')</script> & &amp;"
    big = ("Alice kept a very long diary. " * 350_000)[:10_000_000]
    service.add([rec(1, html), rec(2, big)])
    assert stored_text(service, "m1") == html
    assert len(stored_text(service, "m2")) == 10_000_000
    assert service.semantic_search("diary", k=1)[0].record.id == "m2"
    service.edit("m2", text=big[:1000])
    service.undo()
    assert len(stored_text(service, "m2")) == 10_000_000


def test_an_impossible_importance_or_version_is_refused_and_nothing_changes(seeded, make_service):
    """The journal reads every record back with `from_dict`: a value it would refuse must
    never be written (a NaN importance from a plugin once was)."""
    for fields in ({"importance": float("nan")}, {"importance": "high"}, {"version": 0}):
        with pytest.raises(ValueError, match=f"field '{next(iter(fields))}'"):
            seeded.edit("m1", **fields)
    seeded.edit("m1", importance=0.9)
    reopened = make_service()
    assert reopened.get("m1").importance == 0.9
    reopened.undo()
    assert reopened.get("m1").importance is None
