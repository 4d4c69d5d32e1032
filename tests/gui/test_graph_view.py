"""The graph and map views on the demo store: drawn, linked to the table, exportable."""

from __future__ import annotations

import networkx as nx
import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage

from gui_support import type_search, wait_idle

MAYA = "demo-0041"  # "Bob's daughter Maya is 7 years old."


def show_tab(qtbot, window, index):
    window.page.views.setCurrentIndex(index)
    qtbot.waitUntil(lambda: window.page.scene is not None, timeout=60000)
    wait_idle(qtbot, window)


def ink(image: QImage) -> float:
    """Share of pixels that are not background white."""
    img = image.convertToFormat(QImage.Format.Format_RGB32)
    arr = np.frombuffer(img.constBits(), dtype=np.uint8).reshape(img.height(), img.bytesPerLine() // 4, 4)
    return float((arr[:, : img.width(), :3].min(axis=2) < 235).mean())


def test_graph_renders_the_demo_store_with_legend_and_labels(qtbot, demo_window):
    show_tab(qtbot, demo_window, 1)
    view = demo_window.page.graph_view
    qtbot.wait(200)  # labels are placed shortly after the view settles
    assert view.scene.graph.memory_count == 324
    assert len(view.nodes.data) == 324
    assert ink(view.plot.grab().toImage()) > 0.02
    legend = [item[1].text for item in view.legend.items]
    assert len(legend) >= 3 and all("·" in text for text in legend)  # communities named by topic
    assert 5 <= len(view._labels) <= 28


def test_selection_follows_both_ways(qtbot, demo_window):
    show_tab(qtbot, demo_window, 1)
    page, view = demo_window.page, demo_window.page.graph_view
    i = view._index[MAYA]
    view._clicked(None, [type("P", (), {"data": lambda self: i})()], None)
    assert page.selection.current == MAYA
    assert page.inspector.record.id == MAYA
    assert [ix.row() for ix in page.table.selectionModel().selectedRows()] == [page.model.row_of(MAYA)]

    other = page.model.id_at(5)
    page.table.selectRow(5)
    assert page.selection.current == other
    ring = view.ring.data
    assert len(ring) == 1 and np.allclose([ring[0]["x"], ring[0]["y"]], view._pos[view._index[other]])


def test_rectangle_selects_what_is_inside(qtbot, demo_window):
    show_tab(qtbot, demo_window, 2)
    view, page = demo_window.page.map_view, demo_window.page
    x, y = view._pos[view._index[MAYA]]
    picked = view.select_ids_in(QRectF(x - 0.05, y - 0.05, 0.1, 0.1))
    assert MAYA in picked and len(picked) < 324
    view._select_rect(QRectF(x - 0.05, y - 0.05, 0.1, 0.1))
    assert set(page.selection.ids) == set(picked)


def test_search_lights_matches_and_fades_the_rest(qtbot, demo_window):
    show_tab(qtbot, demo_window, 1)
    view = demo_window.page.graph_view
    type_search(qtbot, demo_window, "biscuit", semantic=False)
    lit = view.highlight
    assert len(lit) >= 2 and all("biscuit" in demo_window.page.service.get(i).text.lower() for i in lit)
    alphas = {view.scene.records[int(p.data())].id: p.brush().color().alpha() for p in view.nodes.points()}
    assert all(alphas[i] == 255 for i in lit)
    assert sum(a < 255 for a in alphas.values()) == 324 - len(lit)


def test_focus_shows_only_the_neighbourhood(qtbot, demo_window):
    show_tab(qtbot, demo_window, 1)
    page, view = demo_window.page, demo_window.page.graph_view
    page.selection.set([MAYA])
    view.focus.setChecked(True)
    shown = {view.scene.graph.nodes[int(d)] for d in view.nodes.data["data"]}
    assert shown == view.scene.graph.neighbourhood(MAYA, 1)
    assert MAYA in shown and 1 < len(shown) < 50


def test_edge_toggles_and_colour_by_status(qtbot, demo_window):
    show_tab(qtbot, demo_window, 1)
    view = demo_window.page.graph_view
    view.edge_checks["session"].setChecked(False)
    assert len(view.edge_items["session"].getData()[0]) == 0
    view.edge_checks["session"].setChecked(True)
    assert len(view.edge_items["session"].getData()[0]) == 2 * len(view.scene.graph.edges["session"])
    view.colour_box.setCurrentText("status")
    assert {text for _, label in view.legend.items for text in [label.text]} >= {
        "active (320)",
        "verified (4)",
    }


def test_exports(qtbot, demo_window, tmp_path):
    show_tab(qtbot, demo_window, 1)
    page = demo_window.page
    for fmt in ("png", "svg", "graphml"):
        page.export(fmt, tmp_path / f"g.{fmt}")
    assert QImage(str(tmp_path / "g.png")).width() >= 1200
    assert (tmp_path / "g.svg").read_text().count("<path") >= 1
    assert nx.read_graphml(tmp_path / "g.graphml").number_of_nodes() == 324


def test_an_edit_updates_the_graph_without_a_full_relayout(qtbot, demo_window):
    show_tab(qtbot, demo_window, 1)
    page = demo_window.page
    before = page.scene.graph_pos.copy()
    page.save(MAYA, {"text": "Bob's daughter Maya is 9 years old and plays violin."})
    qtbot.waitUntil(
        lambda: page.scene.records[page.graph_view._index[MAYA]].text.endswith("violin."), timeout=60000
    )
    wait_idle(qtbot, demo_window)
    assert not page.scene.recomputed
    moved = np.linalg.norm(page.scene.graph_pos - before, axis=1) > 1e-6
    assert moved.sum() <= 1


def test_zoomed_out_a_dense_edge_type_is_drawn_as_its_density(qtbot, demo_window, monkeypatch):
    from memlens.core import edge_density
    from memlens.gui import graph_view

    monkeypatch.setattr(edge_density, "DENSITY_FROM", 50)  # the demo's few hundred edges count as many
    monkeypatch.setattr(graph_view, "EDGE_DETAIL_LIMIT", 100)
    show_tab(qtbot, demo_window, 1)
    view = demo_window.page.graph_view
    semantic = view.scene.graph.edges["semantic"]
    assert len(semantic) > 100 and "semantic" in view.scene.graph_density
    assert view.edge_images["semantic"].isVisible()
    assert len(view.edge_items["semantic"].getData()[0]) == 0

    x, y = (float(v) for v in view._pos[view._index[MAYA]])
    view.box.setRange(xRange=(x - 0.02, x + 0.02), yRange=(y - 0.02, y + 0.02), padding=0)
    assert not view.edge_images["semantic"].isVisible()  # zoomed in: the edges themselves
    drawn = len(view.edge_items["semantic"].getData()[0]) // 2
    assert 0 < drawn < len(semantic)


def test_a_large_graph_draws_its_edges_a_turn_after_its_nodes(qtbot, demo_window, monkeypatch):
    from memlens.gui import graph_view

    monkeypatch.setattr(graph_view, "DEFER_EDGES_FROM", 100)  # the demo's 324 memories count as many
    show_tab(qtbot, demo_window, 1)
    view = demo_window.page.graph_view
    view.redraw()
    assert len(view.nodes.data) == 324 and view._edges_timer.isActive()
    qtbot.waitUntil(lambda: len(view.edge_items["session"].getData()[0]) > 0, timeout=5000)
    assert len(view.edge_items["session"].getData()[0]) == 2 * len(view.scene.graph.edges["session"])
