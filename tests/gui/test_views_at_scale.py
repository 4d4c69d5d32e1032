"""What bench/ changed in the window: a large store opens from its newest page and then
completes, and a graph view hidden during a search shows that search's lights when shown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from gui_support import type_search, wait_idle
from memlens.core.record import MemoryRecord
from memlens.core.store import StoredMemory
from memlens.gui.memory_table import PAGE

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_store_larger_than_a_page_opens_from_its_newest_page_and_completes(
    qtbot, open_window, make_service, store_dir
):
    service = make_service()
    n = 2 * PAGE + 500
    # Written oldest first, as agents append; only the oldest memories belong to "early-user".
    records = [
        MemoryRecord(
            id=f"n{i:05d}",
            text=f"note {i}",
            user_id="early-user" if i < PAGE else "late-user",
            created_at=T0 + timedelta(minutes=i),
        )
        for i in range(n)
    ]
    vectors = np.random.default_rng(3).standard_normal((n, 384)).astype(np.float32)
    for start in range(0, n, 500):
        service.store.upsert(
            [
                StoredMemory(r, v)
                for r, v in zip(records[start : start + 500], vectors[start : start + 500], strict=True)
            ]
        )

    window = open_window(store_dir)
    wait_idle(qtbot, window)
    page = window.page
    assert window.pages.count() == 2  # the placeholder and one page: not rebuilt when complete
    assert page.model.total() == n
    assert page.model.id_at(0) == f"n{n - 1:05d}"  # newest first
    users = [page.filter_bar.user.itemText(i) for i in range(page.filter_bar.user.count())]
    assert "early-user" in users and "late-user" in users  # facets of the whole store, not the first page
    assert page.filter_bar.count.text() == f"{n:,} memories"


def test_a_search_made_while_the_graph_is_hidden_lights_it_when_shown(qtbot, demo_window):
    page = demo_window.page
    page.views.setCurrentIndex(1)
    qtbot.waitUntil(lambda: page.scene is not None, timeout=60000)
    wait_idle(qtbot, demo_window)
    page.views.setCurrentIndex(0)
    type_search(qtbot, demo_window, "biscuit", semantic=False)
    view = page.graph_view
    lit = view.highlight
    assert len(lit) >= 2

    page.views.setCurrentIndex(1)
    wait_idle(qtbot, demo_window)
    alphas = {view.scene.records[int(p.data())].id: p.brush().color().alpha() for p in view.nodes.points()}
    assert all(alphas[i] == 255 for i in lit)
    assert sum(a < 255 for a in alphas.values()) == len(view.scene.records) - len(lit)
