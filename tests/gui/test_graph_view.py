"""The graph and map views on the demo store: drawn, linked to the table, exportable."""

from __future__ import annotations

import html
from collections import Counter
from xml.etree import ElementTree

import networkx as nx
import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QTextDocument
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication, QToolTip

from gui_support import type_search, wait_idle
from memlens.gui.label_layout import LabelPlacer, MarkerGrid, label_text
from tests_support import QueryRecorder

MAYA = "demo-0041"  # "Bob's daughter Maya is 7 years old."


def show_tab(qtbot, window, index):
    window.page.views.setCurrentIndex(index)
    qtbot.waitUntil(lambda: window.page.scene is not None, timeout=60000)
    wait_idle(qtbot, window)


def on_screen(view, memory_id: str) -> QPoint:
    """Where a memory's node is, in the plot's viewport (where mouse events arrive)."""
    x, y = (float(v) for v in view._pos[view._index[memory_id]])
    return view.plot.mapFromScene(view.box.mapViewToScene(QPointF(x, y)))


def mouse(view, kind, at: QPoint, buttons=Qt.MouseButton.NoButton, button=Qt.MouseButton.NoButton,
          modifiers=Qt.KeyboardModifier.NoModifier) -> None:  # fmt: skip
    viewport = view.plot.viewport()
    event = QMouseEvent(kind, QPointF(at), QPointF(viewport.mapToGlobal(at)), button, buttons, modifiers)
    QApplication.sendEvent(viewport, event)


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
    legend = view.legend_texts()
    assert len(legend) >= 3 and all("·" in text for text in legend)  # communities named by topic
    assert 5 <= len(view._labels) <= 28
    labels = [item.toPlainText() for item in view._labels]
    assert not any(text.startswith("On ") for text in labels)  # "On Mon 14 Sep " says nothing
    # The legend has a column of its own: no node or label lies under it.
    legend = view.legend.sceneBoundingRect()
    assert not legend.intersects(view.box.sceneBoundingRect())
    assert not any(legend.intersects(item.sceneBoundingRect()) for item in view._labels)


def test_labels_cut_at_a_word_and_drop_a_leading_date():
    assert label_text("Carol asked for help with a Go module for parsing") == "Carol asked for help with a…"
    assert label_text("Alice bought pears, apples, and plums today") == "Alice bought pears, apples…"
    assert label_text("On Mon 14 Sep  alice said\nhi") == "Alice said hi"
    assert label_text("x" * 40) == "x" * 28 + "…"  # one long word: cut where it must be


def test_a_label_takes_a_free_corner_beside_its_node_or_none():
    # Nodes 8 px across at (100, 100), (115, 85) up and right of it, and (85, 115).
    x, y, radius = np.array([100.0, 115.0, 85.0]), np.array([100.0, 85.0, 115.0]), np.full(3, 4.0)
    placer = LabelPlacer(400, 300, MarkerGrid(x, y, radius, 400, 300))
    left, top, _right, _bottom = placer.place(100.0, 100.0, 4.0, (60, 16), inset=1)
    assert left > 100 and top > 100  # up-right and down-left are taken: down-right
    assert placer.place(100.0, 100.0, 4.0, (60, 16), inset=1)[2] < 100  # then up-left...
    assert placer.place(100.0, 100.0, 4.0, (60, 16), inset=1) is None  # ...then nothing is left
    assert placer.place(390.0, 290.0, 4.0, (60, 16), inset=1)[0] < 390  # kept inside the plot


def test_labels_repeat_no_text_and_lie_on_no_other_node(qtbot, demo_window):
    page = demo_window.page
    records = page.service.records(page.service.select_all())
    assert len({label_text(r.text) for r in records}) < len(records)  # some would read alike
    for tab, view in ((1, page.graph_view), (2, page.map_view)):
        show_tab(qtbot, demo_window, tab)
        qtbot.wait(200)  # labels are placed shortly after the view settles
        texts = [item.toPlainText() for item in view._labels]
        assert len(texts) >= 10 and len(set(texts)) == len(texts)
        for item, row in zip(view._labels, view.label_rows, strict=True):
            text, full = item.toPlainText(), label_text(view.scene.records[row].text, limit=10**6)
            if text.endswith("…"):  # cut after a whole word
                assert full.startswith(text[:-1]) and full[len(text) - 1] in " ,;:-–", (text, full)
            box = item.sceneBoundingRect()
            assert box.intersects(view.box.sceneBoundingRect()) and not box.intersects(
                view.legend.sceneBoundingRect()
            )
            for j, marker in markers_on_screen(view):
                assert j == row or not box.intersects(marker), (text, view.scene.graph.nodes[j])


def markers_on_screen(view) -> list[tuple[int, QRectF]]:
    """Each drawn node and the square its marker covers, in scene coordinates."""
    sizes = view.marker_sizes()
    out = []
    for j in np.flatnonzero(view._visible):
        centre = view.box.mapViewToScene(QPointF(*(float(v) for v in view._pos[j])))
        half = float(sizes[j]) / 2
        out.append((int(j), QRectF(centre.x() - half, centre.y() - half, 2 * half, 2 * half)))
    return out


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


def test_shift_drag_selects_what_the_rectangle_covers(qtbot, demo_window):
    show_tab(qtbot, demo_window, 2)
    view, page = demo_window.page.map_view, demo_window.page
    qtbot.wait(100)
    centre = on_screen(view, MAYA)
    a, b = centre - QPoint(40, 30), centre + QPoint(40, 30)
    left, shift = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier
    mouse(view, QEvent.Type.MouseButtonPress, a, left, left, shift)
    for t in (0.25, 0.5, 1.0):
        qtbot.wait(40)  # pyqtgraph drops mouse moves that come faster than it repaints
        mouse(view, QEvent.Type.MouseMove, a + (b - a) * t, left, modifiers=shift)
    mouse(view, QEvent.Type.MouseButtonRelease, b, Qt.MouseButton.NoButton, left, shift)
    corners = [view.box.mapSceneToView(view.plot.mapToScene(p)) for p in (a, b)]
    rect = QRectF(*corners).normalized()
    inside = {
        r.id
        for r in view.scene.records
        if rect.contains(QPointF(*(float(v) for v in view._pos[view._index[r.id]])))
    }
    assert MAYA in inside and 1 < len(inside) < 324
    assert set(page.selection.ids) == inside
    assert {page.model.id_at(ix.row()) for ix in page.table.selectionModel().selectedRows()} == inside


def test_hover_shows_the_memory_as_plain_text(qtbot, demo_window):
    show_tab(qtbot, demo_window, 1)
    view = demo_window.page.graph_view
    record = next(r for r in view.scene.records if "<b>" in r.text)  # the demo plants some HTML
    x, y = (float(v) for v in view._pos[view._index[record.id]])
    view.box.setRange(xRange=(x - 0.01, x + 0.01), yRange=(y - 0.01, y + 0.01), padding=0)
    qtbot.wait(50)
    at = on_screen(view, record.id)
    mouse(view, QEvent.Type.MouseMove, at + QPoint(60, 60))
    qtbot.wait(40)
    mouse(view, QEvent.Type.MouseMove, at)
    qtbot.waitUntil(lambda: QToolTip.text() != "", timeout=3000)
    tip = QToolTip.text()
    assert html.escape(record.text[:300]) in tip  # escaped: shown as typed, never as markup
    document = QTextDocument()
    document.setHtml(tip)
    shown = document.toPlainText()
    assert " ".join(record.text[:300].split()) in " ".join(shown.split())
    assert (
        record.owner in shown
        and record.status.value in shown
        and record.created_at.strftime("%Y-%m-%d") in shown
    )


def test_search_lights_matches_and_fades_the_rest(qtbot, demo_window):
    show_tab(qtbot, demo_window, 1)
    view = demo_window.page.graph_view
    type_search(qtbot, demo_window, "biscuit", semantic=False)
    lit = view.highlight
    assert len(lit) >= 2 and all("biscuit" in demo_window.page.service.get(i).text.lower() for i in lit)
    alphas = {view.scene.records[int(p.data())].id: p.brush().color().alpha() for p in view.nodes.points()}
    assert all(alphas[i] == 255 for i in lit)
    assert sum(a < 255 for a in alphas.values()) == 324 - len(lit)


def hops_from(scene, node: str) -> dict[str, int]:
    """Each node's distance in edges (of any type) from `node`, from the scene's edge arrays."""
    graph = nx.Graph()
    for pairs in scene.graph.edges.values():
        graph.add_edges_from(pairs.tolist())
    nodes = scene.graph.nodes
    distance = nx.single_source_shortest_path_length(graph, nodes.index(node))
    return {nodes[i]: d for i, d in distance.items()}


def test_focus_shows_only_the_neighbourhood(qtbot, demo_window):
    show_tab(qtbot, demo_window, 1)
    page, view = demo_window.page, demo_window.page.graph_view
    page.selection.set([MAYA])
    view.focus.setChecked(True)
    distance = hops_from(view.scene, MAYA)

    def shown() -> set[str]:
        return {view.scene.graph.nodes[int(d)] for d in view.nodes.data["data"]}

    assert shown() == {n for n, d in distance.items() if d <= 1}
    assert MAYA in shown() and 1 < len(shown()) < 50
    view.hops.setValue(2)
    assert shown() == {n for n, d in distance.items() if d <= 2}
    assert len(shown()) < 324 and any(d == 3 for d in distance.values())  # three hops away: hidden
    assert view.info.text().startswith(f"{len(shown())} memories")


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
    png = QImage(str(tmp_path / "g.png"))
    assert png.width() >= 1200
    assert nx.read_graphml(tmp_path / "g.graphml").number_of_nodes() == 324

    # The PNG is the view drawn larger: its nodes and its legend grow with it.
    view = page.graph_view
    source = view.plot.getPlotItem().sceneBoundingRect()
    scale = png.width() / source.width()
    loneliest = int(np.argmax(nearest_neighbour_px(view)))
    centre = (
        view.box.mapViewToScene(QPointF(*(float(v) for v in view._pos[loneliest]))) - source.topLeft()
    ) * scale
    reach = 0.75 * float(view.marker_sizes()[loneliest]) / 2 * scale  # inside the node, drawn larger
    colour = next(p.brush().color() for p in view.nodes.points() if p.data() == loneliest)
    for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        assert QColor(png.pixel((centre + QPointF(dx, dy) * reach).toPoint())).name() == colour.name()
    right_of_plot = view.box.sceneBoundingRect().right()
    on_screen_legend = ink_rows(
        view.plot.grab().toImage(), view.plot.mapFromScene(QPointF(right_of_plot, 0)).x()
    )
    assert ink_rows(png, (right_of_plot - source.left()) * scale) == pytest.approx(
        on_screen_legend * scale, rel=0.15
    )


def nearest_neighbour_px(view) -> np.ndarray:
    """How far each node lies from its nearest other node, in pixels on screen."""
    px = view.box.viewPixelSize()
    xy = view._pos / np.array(px)
    d = np.linalg.norm(xy[:, None, :] - xy[None, :, :], axis=2)
    np.fill_diagonal(d, np.inf)
    return d.min(axis=1)


def ink_rows(image: QImage, from_x: float) -> int:
    """How many rows, top to bottom, the ink right of `from_x` spans."""
    img = image.convertToFormat(QImage.Format.Format_RGB32)
    arr = np.frombuffer(img.constBits(), dtype=np.uint8).reshape(img.height(), img.bytesPerLine() // 4, 4)
    rows = np.flatnonzero((arr[:, int(from_x) + 2 : img.width(), :3].min(axis=2) < 200).any(axis=1))
    return int(rows[-1] - rows[0] + 1) if len(rows) else 0


def svg_fills(path) -> list[str]:
    """The fill colour of every circle in an SVG file (Qt writes the fill on the group)."""
    svg = "{http://www.w3.org/2000/svg}"
    root = ElementTree.parse(path).getroot()
    assert not list(root.iter(f"{svg}image"))  # not one bitmap
    return [group.get("fill") for group in root.iter(f"{svg}g") for _ in group.findall(f"{svg}circle")]


def different_pixels(a: QImage, b: QImage) -> float:
    """Share of pixels whose colour differs clearly between two pictures of one size."""

    def pixels(img: QImage) -> np.ndarray:
        img = img.convertToFormat(QImage.Format.Format_RGB32)
        arr = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine() // 4, 4)
        return arr[:, : img.width(), :3].astype(int)

    return float((np.abs(pixels(a) - pixels(b)).max(axis=2) > 60).mean())


def test_svg_export_draws_every_node_as_a_shape_and_looks_like_the_view(qtbot, demo_window, tmp_path):
    show_tab(qtbot, demo_window, 1)
    page, view = demo_window.page, demo_window.page.graph_view
    page.selection.set([MAYA])
    qtbot.wait(200)  # labels are placed shortly after the view settles
    page.export("svg", tmp_path / "g.svg")
    drawn = sorted(p.brush().color().name() for p in view.nodes.points())
    assert sorted(svg_fills(tmp_path / "g.svg")) == drawn  # a circle per node, in its colour

    renderer = QSvgRenderer(str(tmp_path / "g.svg"))
    picture = QImage(renderer.viewBox().size(), QImage.Format.Format_RGB32)
    picture.fill(QColor("white"))
    painter = QPainter(picture)
    renderer.render(painter)
    painter.end()
    screen = view.plot.grab().toImage()
    assert picture.size() == screen.size()
    assert different_pixels(picture, screen) < 0.01  # nodes, ring, edges, labels, legend alike
    ring = on_screen(view, MAYA) + QPoint(8, 0)  # the selection ring, 16 px across
    assert QColor(picture.pixel(ring)).lightness() < 100


def test_an_edit_updates_the_graph_without_a_full_relayout(qtbot, demo_window):
    show_tab(qtbot, demo_window, 1)
    page = demo_window.page
    before = page.scene.graph_pos.copy()
    store = page.service.store = QueryRecorder(page.service.store)
    page.save(MAYA, {"text": "Bob's daughter Maya is 9 years old and plays violin."})
    qtbot.waitUntil(
        lambda: page.scene.records[page.graph_view._index[MAYA]].text.endswith("violin."), timeout=60000
    )
    wait_idle(qtbot, demo_window)
    assert not page.scene.recomputed
    moved = np.linalg.norm(page.scene.graph_pos - before, axis=1) > 1e-6
    assert moved.sum() <= 1
    # The index was asked about Maya and the few memories near her, not all 324 again.
    assert 1 <= store.rows <= 1 + 2 * 2 * page.scene.options.knn_k
    near = {
        page.scene.graph.nodes[j] for j in page.scene.graph.neighbours.index[page.graph_view._index[MAYA]]
    }
    assert any(
        "violin" in page.service.get(m).text.lower() or "Maya" in page.service.get(m).text for m in near
    )


def test_options_change_k_and_threshold_without_asking_the_index_again(qtbot, demo_window):
    show_tab(qtbot, demo_window, 1)
    page, view = demo_window.page, demo_window.page.graph_view
    store = page.service.store = QueryRecorder(page.service.store)
    before = len(page.scene.graph.edges["semantic"])
    view.knn_threshold.setValue(0.99)
    view.apply_options.click()
    wait_idle(qtbot, demo_window)
    assert page.scene.options.knn_threshold == 0.99
    kept = page.scene.graph.weights["semantic"]
    assert (kept >= 0.99).all() and len(kept) < before / 50  # only the demo's planted duplicates
    assert page.map_view.knn_threshold.value() == 0.99  # both views show the options in use
    view.knn_k.setValue(1)
    view.knn_threshold.setValue(0.0)
    view.apply_options.click()
    wait_idle(qtbot, demo_window)
    assert 0 < len(page.scene.graph.edges["semantic"]) <= 324
    assert store.queries == []  # the neighbours found when the graph was built answered both
    view.node_checks["tag"].setChecked(True)
    view.apply_options.click()
    wait_idle(qtbot, demo_window)
    tags = [n for n in page.scene.graph.nodes if n.startswith("tag:")]
    assert tags and len(view.nodes.data) == 324 + len(tags)
    assert view.legend_texts()[-1] == "tag"


def test_colour_and_size_by_what_the_memories_say(qtbot, demo_window):
    show_tab(qtbot, demo_window, 1)
    page, view = demo_window.page, demo_window.page.graph_view
    page.service.edit("demo-0100", agent_id="<b>x</b>")
    qtbot.waitUntil(
        lambda: page.scene.records[view._index["demo-0100"]].agent_id == "<b>x</b>", timeout=60000
    )
    wait_idle(qtbot, demo_window)
    fields = {"kind": "kind", "agent": "agent_id", "user": "user_id", "session": "session_id"}
    for key, attr in fields.items():
        view.colour_box.setCurrentText(key)
        counts = Counter(getattr(r, attr) or "(none)" for r in view.scene.records)
        legend = view.legend_texts()
        assert len(legend) <= 12  # eleven colours and "other": every colour drawn is named
        ranked = sorted(counts, key=lambda v: (-counts[v], v))
        if len(counts) <= 12:
            assert legend == [f"{v} ({counts[v]})" for v in ranked]
        else:
            rest = sum(counts[v] for v in ranked[11:])
            assert legend == [f"{v} ({counts[v]})" for v in ranked[:11]] + [f"other ({rest})"]
        colour = {view.scene.records[p.data()].id: p.brush().color().name() for p in view.nodes.points()}
        by_value = {}
        for r in view.scene.records:
            by_value.setdefault(getattr(r, attr) or "(none)", set()).add(colour[r.id])
        assert all(len(c) == 1 for v, c in by_value.items() if v in ranked[:11])  # one colour each
        assert len({next(iter(by_value[v])) for v in ranked[:11]}) == min(11, len(ranked))
    view.colour_box.setCurrentText("agent")
    assert "<b>x</b> (1)" in view.legend_texts()  # as typed, not bold

    size = {}
    for key in ("importance", "degree"):
        view.size_box.setCurrentText(key)
        size[key] = {view.scene.records[p.data()].id: p.size() for p in view.nodes.points()}
    heaviest = max(view.scene.records, key=lambda r: r.importance or 0).id
    assert size["importance"][heaviest] == max(size["importance"].values())
    busiest = view.scene.graph.nodes[int(np.argmax(view.scene.degree))]
    assert size["degree"][busiest] == max(size["degree"].values())
    assert len(set(size["degree"].values())) > 3


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
