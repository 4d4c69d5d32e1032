"""Large reads and builds run without collector pauses and leave no garbage for it."""

from __future__ import annotations

import gc
import threading
from datetime import UTC, datetime, timedelta

import networkx as nx

from memlens.core.gcpause import no_gc_pauses
from memlens.core.graph import build_graph
from memlens.core.record import MemoryRecord
from memlens.core.service import _newest_first


def test_pauses_nest_across_threads_and_the_collector_comes_back():
    assert gc.isenabled()
    inner_started, outer_may_end = threading.Event(), threading.Event()

    def inner() -> None:
        with no_gc_pauses():
            inner_started.set()
            outer_may_end.wait(5)

    with no_gc_pauses():
        thread = threading.Thread(target=inner)
        thread.start()
        inner_started.wait(5)
    assert not gc.isenabled()  # the other thread's pause is still on
    outer_may_end.set()
    thread.join()
    assert gc.isenabled()


def test_a_built_graph_leaves_no_graph_in_cyclic_garbage():
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    records = [
        MemoryRecord(id=f"m{i}", text=f"Maya met Oliver about topic {i % 5}", session_id=f"s{i % 7}",
                     tags=(f"t{i % 3}",), created_at=t0 + timedelta(minutes=i))
        for i in range(200)
    ]  # fmt: skip
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        mg = build_graph(records)
        assert mg.graph.number_of_edges() > 0 and len(set(mg.communities.values())) > 1
        del mg
        gc.collect()
        leaked = [o for o in gc.garbage if isinstance(o, nx.Graph)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert leaked == []  # freed by reference counting: nothing waits for a full collection


def test_newest_first_breaks_ties_by_id_and_puts_undated_last():
    t = datetime(2026, 3, 1, 12, tzinfo=UTC)
    index = {
        r.id: r
        for r in [
            MemoryRecord(id="a", text="x", created_at=t),
            MemoryRecord(id="b", text="x", created_at=t),
            MemoryRecord(id="c", text="x", created_at=t + timedelta(microseconds=1)),
            MemoryRecord(id="d", text="x", created_at=None),
            MemoryRecord(id="e", text="x", created_at=t - timedelta(days=400)),
        ]
    }
    assert _newest_first(index) == ["c", "b", "a", "e", "d"]
    assert _newest_first({}) == []
