"""The plot tabs are made when first opened, and find the state the page is in: the table
is on screen without waiting for them, and nothing set meanwhile is lost."""

from __future__ import annotations

from gui_support import type_search, wait_idle


def test_plot_tabs_are_made_when_opened_with_what_was_lit_meanwhile(qtbot, demo_window):
    page = demo_window.page
    assert [page.lazy.made(t) for t in ("Graph", "Semantic map", "Timeline", "Traces")] == [None] * 4
    type_search(qtbot, demo_window, "Which foods is anyone allergic to?")
    hits = set(page.model.ids)
    assert page.lazy.made("Graph") is None  # a search does not make the plots

    page.show_view("Graph")
    wait_idle(qtbot, demo_window)
    assert page.views.currentWidget() is page.lazy.made("Graph")
    assert page.graph_view.highlight == hits
    qtbot.waitUntil(lambda: page.graph_view.scene is not None, timeout=60000)
    page.show_view("Timeline")
    wait_idle(qtbot, demo_window)
    assert page.timeline.highlight == hits and page.timeline.data is not None
    # The tab bar kept its order and titles.
    titles = [page.views.tabText(i) for i in range(page.views.count())]
    assert titles[:4] == ["Table", "Graph", "Semantic map", "Timeline"] and titles[-1] == "Traces"
