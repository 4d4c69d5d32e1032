"""The retrieval debugger in the window: a search becomes a trace a user can open, ask
"why not" about, replay after an edit, and pin as a regression check."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QDialogButtonBox

from gui_support import type_search, wait_idle
from memlens.core.record import Status
from memlens.gui.pin_dialog import MUST_NOT, PinnedListDialog


def hit_ids(panel) -> list[str]:
    return [panel.hits.item(r, 0).data(Qt.ItemDataRole.UserRole + 1) for r in range(panel.hits.rowCount())]


def search_and_open(qtbot, window, query: str):
    page = window.page
    type_search(qtbot, window, query)
    page.show_view("Traces")
    panel = page.traces_panel
    wait_idle(qtbot, window)
    assert query[:30] in panel.list.item(0).text()
    panel.list.setCurrentRow(0)
    wait_idle(qtbot, window)
    return panel


def pin(panel, choices: dict[str, str] | None = None) -> None:
    """Pin through the dialog the Pin… button opens, as a user would."""
    panel.pin_button.click()
    dialog = panel.pin_dialog
    for memory_id, choice in (choices or {}).items():
        dialog.set_choice(memory_id, choice)
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()


def a_memory(service, user: str):
    return next(r for r in service.records(service.select()) if r.user_id == user)


def test_a_search_is_a_trace_with_ranked_hits_and_the_distance_distribution(qtbot, demo_window):
    page = demo_window.page
    target = a_memory(page.service, "carol")
    panel = search_and_open(qtbot, demo_window, target.text)

    assert panel.hits.rowCount() == 50
    assert hit_ids(panel)[0] == target.id
    assert panel.hits.item(0, 3).text() == target.text  # the text as it was retrieved
    assert "k=50" in panel.header.text() and "gui" in panel.header.text()
    _edges, counts = panel.histogram.getData()
    assert counts.sum() == len(page.service)  # every memory's distance to the query
    assert panel.cutoff.isVisible()
    # The hits are lit in the graph, the map and the timeline, the rest faded.
    lit = set(hit_ids(panel))
    assert page.graph_view.highlight == lit == page.map_view.highlight == page.timeline.highlight
    # The cut-off is where the retrieval drew it: at the k-th hit's recorded distance.
    assert panel.cutoff.value() == max(h.distance for h in panel.trace.hits)

    # Each score is drawn as a bar as long as the score (the cell's own width is 1.0).
    panel.hits.resize(900, 400)
    for row in (0, 49):
        panel.hits.scrollToItem(panel.hits.item(row, 1))
        rect = panel.hits.visualItemRect(panel.hits.item(row, 1))
        shot = panel.hits.viewport().grab(rect).toImage()
        bar = QColor("#bfdbfe").rgb()
        y = 5  # inside the bar (4 px from the top), above the number drawn on it
        filled = sum(shot.pixel(x, y) == bar for x in range(shot.width()))
        score = panel.hits.item(row, 1).data(Qt.ItemDataRole.UserRole)
        assert abs(filled / (shot.width() - 4) - score) < 0.1, (row, filled, score)


def test_the_cut_off_stays_where_the_retrieval_drew_it_after_an_edit(qtbot, demo_window):
    page = demo_window.page
    target = a_memory(page.service, "bob")
    panel = search_and_open(qtbot, demo_window, target.text)
    cutoff = panel.cutoff.value()
    page.save(target.id, {"text": "An unrelated note about sourdough and caraway."})
    wait_idle(qtbot, demo_window)
    panel.open_trace(panel.trace)
    wait_idle(qtbot, demo_window)
    assert panel.cutoff.value() == cutoff
    # The edited hit itself now lies far beyond it.
    assert panel._distances[target.id] > cutoff


def test_why_not_explains_rank_beyond_k_a_filter_and_a_status(qtbot, demo_window):
    page = demo_window.page
    page.filter_bar.user.setCurrentText("carol")
    wait_idle(qtbot, demo_window)
    target = a_memory(page.service, "carol")
    panel = search_and_open(qtbot, demo_window, target.text)
    returned = set(hit_ids(panel))

    outside = next(r for r in page.service.records(page.service.select()) if r.user_id == "bob")
    page.selection.set([outside.id], source=None)
    wait_idle(qtbot, demo_window)
    assert panel.why.text().startswith(f"{outside.id}: Kept out by the filter")
    assert "bob" in panel.why.text()

    carol_not_returned = next(
        r.id
        for r in page.service.records(page.service.select())
        if r.user_id == "carol" and r.id not in returned
    )
    page.selection.set([carol_not_returned], source=None)
    wait_idle(qtbot, demo_window)
    assert "only the top 50 were returned" in panel.why.text()
    assert panel.picked.isVisible()  # its distance is marked on the distribution

    page.service.set_status([carol_not_returned], Status.ARCHIVED)
    page.selection.set([target.id], source=None)
    wait_idle(qtbot, demo_window)
    page.selection.set([carol_not_returned], source=None)
    wait_idle(qtbot, demo_window)
    assert "Kept out by its status" in panel.why.text()


def test_replay_after_an_edit_shows_the_memory_leaving_and_pinned_check_fails(qtbot, demo_window):
    page = demo_window.page
    target = a_memory(page.service, "dan")
    panel = search_and_open(qtbot, demo_window, target.text)
    pin(panel)
    panel.check_button.click()
    wait_idle(qtbot, demo_window)
    assert panel.report.toPlainText().startswith("1 passed, 0 failed")

    page.save(target.id, {"text": "A recipe for sourdough with rye flour and caraway."})
    wait_idle(qtbot, demo_window)
    panel.replay_button.click()
    wait_idle(qtbot, demo_window)
    assert f"left the top k:    {target.id}" in panel.report.toPlainText()

    panel.check_button.click()
    wait_idle(qtbot, demo_window)
    report = panel.report.toPlainText()
    assert report.startswith("0 passed, 1 failed") and target.id in report


def test_the_query_is_drawn_on_the_semantic_map(qtbot, demo_window):
    page = demo_window.page
    page.show_view("Semantic map")
    qtbot.waitUntil(lambda: page.scene is not None, timeout=60000)
    target = a_memory(page.service, "alice")
    panel = search_and_open(qtbot, demo_window, target.text)
    page.show_view("Semantic map")
    xs, ys = page.map_view.query_mark.getData()
    assert len(xs) == 1
    # The query is its own text: it lands on the memory's point.
    at = [r.id for r in page.scene.records].index(target.id)
    spread = page.scene.map_pos.max(axis=0) - page.scene.map_pos.min(axis=0)
    assert abs(xs[0] - page.scene.map_pos[at][0]) < 0.01 * spread[0]
    assert abs(ys[0] - page.scene.map_pos[at][1]) < 0.01 * spread[1]
    assert panel.trace is not None


def test_trace_list_filters_and_retention_are_kept(qtbot, demo_window):
    page = demo_window.page
    for query in ("running shoes", "pandas dataframe"):
        type_search(qtbot, demo_window, query)
    page.show_view("Traces")
    panel = page.traces_panel
    wait_idle(qtbot, demo_window)
    assert panel.list.count() == 2
    panel.text.setText("pandas")
    assert panel.list.count() == 1 and "pandas dataframe" in panel.list.item(0).text()
    panel.text.clear()
    panel.period.setCurrentText("Last hour")
    assert panel.list.count() == 2

    panel.keep.setValue(1)
    panel.keep.editingFinished.emit()
    assert panel.list.count() == 1  # the older trace was dropped
    assert "keeps the newest 1" in panel.report.toPlainText()
    assert page.service.traces.max_traces == 1


def test_searches_made_elsewhere_are_listed_when_the_traces_tab_is_shown_again(qtbot, demo_window):
    page = demo_window.page
    type_search(qtbot, demo_window, "running shoes")
    page.show_view("Traces")
    panel = page.traces_panel
    wait_idle(qtbot, demo_window)
    assert panel.list.count() == 1
    page.show_view("Table")
    for query in ("pandas dataframe", "night shifts"):
        type_search(qtbot, demo_window, query)
    # Not read again behind the table at every search (half a second at 500 traces)…
    assert panel.list.count() == 1
    # …but when looked at, every search is there, newest first.
    page.show_view("Traces")
    assert [panel.list.item(i).text().split(" · ")[-1] for i in range(3)] == [
        "night shifts", "pandas dataframe", "running shoes"
    ]  # fmt: skip
    # With the list in view, a search is listed at once.
    type_search(qtbot, demo_window, "sleep")
    assert panel.list.count() == 4 and panel.list.item(0).text().endswith("sleep")
    assert [panel.origin.itemText(i) for i in range(panel.origin.count())][1:] == ["gui"]


def test_a_pin_can_forbid_a_memory_and_be_removed(qtbot, demo_window):
    page = demo_window.page
    target = a_memory(page.service, "alice")
    panel = search_and_open(qtbot, demo_window, target.text)
    # The best hit is declared wrong for this query: the check must now fail on it.
    pin(panel, {target.id: MUST_NOT})
    assert "49 must come back and 1 must stay out" in panel.report.toPlainText()
    panel.check_button.click()
    wait_idle(qtbot, demo_window)
    report = panel.report.toPlainText()
    assert report.startswith("0 passed, 1 failed")
    assert f"unexpected {target.id} at rank 1" in report

    listing = PinnedListDialog(panel.pinned, page.service.store.collection)
    qtbot.addWidget(listing)
    assert listing.table.rowCount() == 1
    assert listing.table.item(0, 0).text() == target.text
    assert listing.table.item(0, 3).text() == "1"
    listing.table.selectRow(0)
    listing.remove_button.click()
    assert listing.table.rowCount() == 0
    panel.check_button.click()
    wait_idle(qtbot, demo_window)
    assert panel.report.toPlainText().startswith("No pinned queries yet")


def test_a_pin_with_nothing_required_or_forbidden_is_refused_with_a_reason(qtbot, demo_window):
    page = demo_window.page
    panel = search_and_open(qtbot, demo_window, "Which foods is anyone allergic to?")
    panel.pin_button.click()
    dialog = panel.pin_dialog
    for box in dialog.choices.values():
        box.setCurrentText("either")
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()
    assert dialog.isVisible()
    assert "at least one memory" in dialog.error.text()
    assert panel.pinned.all(page.service.store.collection) == []
    dialog.reject()


def test_retrievals_recorded_elsewhere_are_imported_from_the_tab(qtbot, demo_window, tmp_path, monkeypatch):
    import json

    from PySide6.QtWidgets import QInputDialog

    page = demo_window.page
    page.show_view("Traces")
    panel = page.traces_panel
    alice = a_memory(page.service, "alice")

    def attr(key, value):
        return {
            "key": key,
            "value": {"doubleValue": value} if isinstance(value, float) else {"stringValue": value},
        }

    span = {
        "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174", "name": "retrieve",
        "startTimeUnixNano": "1767268800000000000", "endTimeUnixNano": "1767268800042500000",
        "attributes": [
            attr("openinference.span.kind", "RETRIEVER"), attr("input.value", "where does Alice live?"),
            attr("retrieval.documents.0.document.id", alice.id),
            attr("retrieval.documents.0.document.score", 0.8),
            attr("retrieval.documents.0.document.content", alice.text),
        ],
    }  # fmt: skip
    spans = tmp_path / "spans.json"
    spans.write_text(json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}))
    panel.import_file(spans)
    qtbot.waitUntil(lambda: "Imported 1 trace(s)." in panel.report.toPlainText(), timeout=20000)
    assert "where does Alice live?" in panel.list.item(0).text()

    # A Mem0 search result does not hold its query: the tab asks for it.
    result = tmp_path / "mem0.json"
    result.write_text(json.dumps({"results": [{"id": alice.id, "memory": alice.text, "score": 0.7}]}))
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Alice's home city", True))
    panel.import_file(result)
    qtbot.waitUntil(lambda: "Alice's home city" in panel.list.item(0).text(), timeout=20000)

    # Anything else is refused with the reason, and nothing is added.
    junk = tmp_path / "notes.json"
    junk.write_text('{"notes": []}')
    panel.import_file(junk)
    qtbot.waitUntil(lambda: "Nothing was imported" in panel.report.toPlainText(), timeout=20000)
    assert "neither an OTLP JSON export" in panel.report.toPlainText()
    assert panel.list.count() == 2
