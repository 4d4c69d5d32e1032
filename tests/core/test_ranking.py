"""Blended ranking on a real store: recency and importance move memories past more similar
ones, each hit's score is the sum of its parts, and the trace, why-not, replay and the
command line all keep the blend."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta

import pytest

from memlens.core.ranking import Blend, blend_of
from memlens.core.record import MemoryRecord, utc_now
from memlens.core.traces import TraceStore
from memlens.core.why_not import BEYOND_K, CHANGED_SINCE, RERANKED, replay, why_not
from tests_support import run_cli

NOW = utc_now()


def mem(i: int, text: str, days_old: float, importance: float | None = None) -> MemoryRecord:
    return MemoryRecord(
        id=f"r{i}",
        text=text,
        user_id="alice",
        created_at=NOW - timedelta(days=days_old),
        importance=importance,
    )


ROWS = [
    mem(1, "Alice lives in Berlin, in a flat near the river.", 700),
    mem(2, "Alice moved to Lisbon last week for a new job.", 2),
    mem(3, "Alice's favourite food is ramen.", 1, importance=0.1),
    mem(4, "Alice keeps a cactus on her desk.", 400, importance=0.95),
    mem(5, "Alice bought a bicycle in March.", 300),
    mem(6, "Alice's brother is a pilot.", 350),
]


@pytest.fixture
def store(service):
    service.add(ROWS)
    return service


def test_recency_puts_the_fresh_memory_first_and_the_parts_add_up(store):
    plain = store.semantic_search("where does Alice live", k=2)
    assert plain[0].record.id == "r1" and not plain[0].components

    blend = Blend(similarity=0.5, recency=0.5, half_life_days=30)
    hits = store.semantic_search("where does Alice live", k=2, blend=blend)
    assert hits[0].record.id == "r2"
    assert [h.rank for h in hits] == [1, 2]
    for h in hits:
        assert set(h.components) == {"similarity", "recency"}
        assert sum(h.components.values()) == pytest.approx(h.score)
    assert hits[0].score >= hits[1].score
    assert blend.recency_of(store.get("r1"), utc_now()) < 0.001  # 700 days, half-life 30
    assert blend.recency_of(store.get("r2"), utc_now()) > 0.9  # 2 days


def test_importance_weighs_only_when_asked(store):
    blend = Blend(similarity=0.2, importance=0.8)
    hits = store.semantic_search("something about Alice", k=6, blend=blend)
    ids = [h.record.id for h in hits]
    assert ids[0] == "r4"  # importance 0.95
    assert ids.index("r3") > ids.index("r1")  # 0.1 ranks below the unknowns (0.5)


def test_the_trace_keeps_the_parts_and_the_blend(store, store_dir):
    blend = Blend(similarity=0.5, recency=0.5)
    store.semantic_search("where does Alice live", k=2, blend=blend)
    reread = TraceStore(store.traces.path).find(limit=1)[0]
    assert reread.source["blend"]["recency"] == 0.5
    assert reread.hits[0].memory_id == "r2"
    assert set(reread.hits[0].components) == {"similarity", "recency"}
    assert sum(reread.hits[0].components.values()) == pytest.approx(reread.hits[0].score)


def test_why_not_scores_the_blend_again(store):
    blend = Blend(similarity=0.5, recency=0.5, pool=2)
    store.semantic_search("where does Alice live", k=1, blend=blend)
    trace = store.traces.find(limit=1)[0]
    assert trace.ids == ["r2"]

    berlin = why_not(store, trace, "r1")  # nearest by similarity, out-scored by recency
    assert berlin.cause == RERANKED and berlin.rank == 1
    assert "blended score" in berlin.message and "below the last one returned, #1" in berlin.message
    assert "recency 0.00" in berlin.message

    # The pool is k * 2 = 2: the memory ranked third by similarity was never weighed.
    far = next(i for i in ("r3", "r4", "r5", "r6") if why_not(store, trace, i).rank > 2)
    answer = why_not(store, trace, far)
    assert answer.cause == BEYOND_K and "re-ranks only the nearest 2" in answer.message


def test_replay_re_ranks_with_the_same_blend_at_the_traces_time(store):
    blend = Blend(similarity=0.5, recency=0.5)
    store.semantic_search("where does Alice live", k=2, blend=blend)
    trace = store.traces.find(limit=1)[0]
    again = replay(store, trace)
    assert not again.changed and again.hits[0].memory_id == "r2"
    assert set(again.hits[0].components) == {"similarity", "recency"}
    # Recency is scored at the trace's time, not the replay's: a trace of 60 days ago
    # replays with r2 as fresh as it was then (it was made 2 days before now).
    earlier = dataclasses.replace(trace, time=NOW - timedelta(days=60))
    r2 = next(h for h in replay(store, earlier).hits if h.memory_id == "r2")
    assert r2.components["recency"] == pytest.approx(0.5 * blend.recency_of(store.get("r2"), earlier.time))
    assert r2.components["recency"] == pytest.approx(0.5)  # not yet made then: age 0, recency 1 × weight ½


def test_a_naive_time_from_a_plugin_counts_as_utc(store):
    naive = datetime.now()
    record = MemoryRecord(id="n1", text="Alice lives near the old harbour.", created_at=naive)
    assert Blend(recency=1.0).recency_of(record, utc_now()) > 0.9


def test_a_trace_without_a_real_blend_is_a_plain_trace():
    assert blend_of({"blend": {}}) is None
    assert blend_of({"blend": {"recency": -1}}) is None
    assert blend_of({}) is None
    assert blend_of({"blend": {"recency": 0.5}}).recency == 0.5
    with pytest.raises(ValueError, match="whole number"):
        Blend(recency=0.5, pool=2.5)


@pytest.mark.parametrize(
    ("spec", "said"),
    [
        ("recency", "is not NAME=NUMBER"),
        ("speed=2", "is not NAME=NUMBER"),
        ("recency=soon", "'soon' is not a number"),
        ("similarity=0", "at least one weight"),
        ("recency=-1", "zero or more"),
        ("recency=nan", "zero or more"),
        ("pool=inf", "pool must be a whole number, not inf"),
        ("pool=2.5", "pool must be a whole number"),
        ("pool=0", "pool must be at least 1"),
    ],
)
def test_a_bad_blend_is_explained(spec, said):
    with pytest.raises(ValueError, match=said):
        Blend.parse(spec)


def test_the_command_line_blends_and_shows_the_parts(store, store_dir, capsys):
    args = ["search", "where does Alice live", "--k", "2", "--store", str(store_dir)]
    code, out, _ = run_cli(capsys, *args, "--blend", "similarity=0.5,recency=0.5", "--json")
    assert code == 0
    first = json.loads(out.splitlines()[0])
    assert first["id"] == "r2" and set(first["components"]) == {"similarity", "recency"}

    code, out, _ = run_cli(capsys, *args, "--blend", "recency=0.5")
    assert code == 0 and "(similarity " in out.splitlines()[0] and "· recency " in out.splitlines()[0]

    code, _, err = run_cli(capsys, *args, "--blend", "freshness=1")
    assert code != 0 and "--blend: 'freshness=1' is not NAME=NUMBER" in err


def test_a_memory_changed_since_a_blended_trace_is_said_to_have_changed(store):
    store.semantic_search("where does Alice live", k=1, blend=Blend(similarity=0.5, recency=0.5, pool=2))
    trace = store.traces.find(limit=1)[0]
    store.edit("r1", text="Alice lives in Berlin, near the river Spree.")
    answer = why_not(store, trace, "r1")
    assert answer.cause == CHANGED_SINCE and answer.changed_since
    assert "among the 2 the blend re-ranks" in answer.message


def test_a_pinned_query_is_checked_with_its_blend_and_keeps_it(store, store_dir, capsys):
    from memlens.core.pinned import PinnedQuery, PinnedStore, check_one

    blend = Blend(similarity=0.5, recency=0.5)
    plain = PinnedQuery("where does Alice live", must=("r2",), k=1)
    col = store.store.collection
    blended = PinnedQuery("where does Alice live", must=("r2",), k=1, blend=blend, collection=col)
    assert not check_one(store, plain).passed  # by similarity alone, Berlin (r1) comes first
    result = check_one(store, blended)
    assert result.passed and "ranked by similarity 0.5 + recency 0.5" in result.line()
    assert result.trace.source["blend"]["recency"] == 0.5

    pins = PinnedStore(store.traces.path)
    pins.add(blended)
    assert PinnedStore(store.traces.path).all()[0].blend == blend

    args = ["--store", str(store_dir)]
    code, _, _ = run_cli(capsys, "pin", "where does Alice live", "--must", "r2", "--k", "1", *args)
    assert code == 0
    code, out, _ = run_cli(capsys, "check-queries", *args)
    assert code == 1  # the pin without a blend fails, the one with it passes
    assert "PASS  'where does Alice live' (k=1, ranked by similarity 0.5 + recency 0.5" in out
    assert "FAIL  'where does Alice live' (k=1): missing r2" in out
    code, _, err = run_cli(capsys, "pin", "x", "--must", "r2", "--blend", "pool=0", *args)
    assert code != 0 and "--blend: pool must be at least 1" in err


def test_pins_made_before_blends_existed_still_open(tmp_path):
    import sqlite3

    from memlens.core.pinned import PinnedStore

    path = tmp_path / "traces.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE pinned (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, "
        "collection TEXT, query TEXT NOT NULL, must TEXT NOT NULL, must_not TEXT NOT NULL, "
        "k INTEGER NOT NULL, filter TEXT, created REAL NOT NULL);"
        "INSERT INTO pinned(id, collection, query, must, must_not, k, filter, created) "
        "VALUES ('p1', 'memories', 'tea', '[\"m1\"]', '[]', 5, NULL, 0);"
    )
    db.commit()
    db.close()
    (pin,) = PinnedStore(path).all()
    assert pin.query == "tea" and pin.must == ("m1",) and pin.blend is None
