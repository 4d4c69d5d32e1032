"""The timeline as a tab of the window: its range filters the other views, its "as of"
shows the past in the table and the inspector, and it follows changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gui_support import column_values, type_search, wait_idle
from memlens.core.record import Status


def open_timeline(qtbot, window):
    page = window.page
    page.show_view("Timeline")
    qtbot.waitUntil(lambda: page.timeline.data is not None, timeout=60000)
    wait_idle(qtbot, window)
    return page.timeline


def test_the_tab_draws_every_memory_and_the_searches_as_retrievals(qtbot, demo_window):
    page = demo_window.page
    type_search(qtbot, demo_window, "weekend hiking plans")
    timeline = open_timeline(qtbot, demo_window)
    assert len(timeline.data.records) == len(page.service.select_all())
    assert len(timeline._retrievals) == 1  # the search above, in its own lane
    # Conflicts are found for the timeline too, and their memories drawn as stale.
    qtbot.waitUntil(lambda: bool(page.panels["Conflicts"].items), timeout=60000)
    strong = {i for c in page.panels["Conflicts"].items if c.similarity >= 0.8 for i in (c.a, c.b)}
    assert timeline._conflicts == strong and 0 < len(strong) < 20
    assert "conflicts not looked for" not in timeline.info.text()


def test_a_large_collection_says_its_conflicts_were_not_looked_for(qtbot, demo_window, monkeypatch):
    # Above the size where opening the timeline also finds conflicts (the search is costly),
    # the timeline says so rather than show no stale marks as if there were none.
    monkeypatch.setattr("memlens.gui.collection_page.CONFLICTS_WITH_TIMELINE", 10)
    page = demo_window.page
    timeline = open_timeline(qtbot, demo_window)
    assert "conflicts not looked for yet (the Conflicts tab finds them)" in timeline.info.text()
    page.show_view("Conflicts")
    qtbot.waitUntil(lambda: bool(page.panels["Conflicts"].items), timeout=60000)
    assert "conflicts not looked for" not in timeline.info.text() and timeline._conflicts


def test_a_dragged_range_filters_the_table_and_the_graph(qtbot, demo_window):
    page = demo_window.page
    timeline = open_timeline(qtbot, demo_window)
    records = page.service.records(page.service.select())
    times = sorted(r.created_at for r in records)
    since, until = times[len(times) // 4], times[len(times) // 2]
    with qtbot.waitSignal(timeline.sig_range, timeout=3000):
        timeline.set_range(since, until)
    wait_idle(qtbot, demo_window)
    inside = {r.id for r in records if since <= r.created_at <= until}
    assert set(page.model.ids) == inside and 0 < len(inside) < len(records)
    page.show_view("Graph")
    qtbot.waitUntil(lambda: page.scene is not None and len(page.scene.records) == len(inside), timeout=60000)

    with qtbot.waitSignal(timeline.sig_range, timeout=3000):
        timeline.clear_range()
    wait_idle(qtbot, demo_window)
    assert len(page.model.ids) == len(records)


def test_as_of_shows_the_old_text_and_the_deleted_memory_read_only(qtbot, demo_window):
    page = demo_window.page
    service = page.service
    edited, deleted = page.model.id_at(0), page.model.id_at(1)
    old_text = service.get(edited).text
    before = max(r.created_at for r in service.records(service.select_all())) + timedelta(seconds=1)
    page.save(edited, {"text": "Corrected: this memory was rewritten today."})
    page.set_status([deleted], Status.DELETED)
    wait_idle(qtbot, demo_window)
    assert deleted not in page.model.ids

    timeline = open_timeline(qtbot, demo_window)
    assert {"edit", "delete"} <= set(timeline.data.event_kind)
    timeline.set_as_of(before)
    qtbot.waitUntil(lambda: page.model.snapshot is not None, timeout=5000)
    wait_idle(qtbot, demo_window)
    assert deleted in page.model.ids
    assert old_text in column_values(page, "Memory")
    page.selection.set([edited], source=None)
    assert page.inspector.text.toPlainText() == old_text
    assert page.inspector.text.isReadOnly() and not page.inspector.save_button.isEnabled()
    assert "(read-only)" in page.inspector.title.text()

    # Moved while already on, the past follows: the edit and the deletion are back in it.
    timeline.set_as_of(datetime.now(UTC) + timedelta(minutes=1))  # kept just after the last change
    qtbot.waitUntil(lambda: deleted not in page.model.ids, timeout=5000)
    wait_idle(qtbot, demo_window)
    assert page.model.snapshot is not None
    assert "Corrected: this memory was rewritten today." in column_values(page, "Memory")

    timeline.set_as_of(None)
    qtbot.waitUntil(lambda: page.model.snapshot is None, timeout=5000)
    wait_idle(qtbot, demo_window)
    assert deleted not in page.model.ids
    page.selection.set([edited], source=None)
    assert page.inspector.text.toPlainText().startswith("Corrected:")
    assert not page.inspector.text.isReadOnly()


def test_an_edit_elsewhere_shows_up_as_a_mark(qtbot, demo_window):
    page = demo_window.page
    timeline = open_timeline(qtbot, demo_window)
    marks = len(timeline.data.event_ids)
    page.save(page.model.id_at(2), {"text": "A changed memory."})
    wait_idle(qtbot, demo_window)
    qtbot.waitUntil(lambda: len(timeline.data.event_ids) == marks + 1, timeout=30000)
