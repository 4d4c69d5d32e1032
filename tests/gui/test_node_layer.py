"""The graph's node layer: drawn where the nodes are, picked by what is on top, and
aggregated when zoomed out without losing what is seen."""

from __future__ import annotations

from xml.etree import ElementTree

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtSvg import QSvgGenerator

from memlens.gui import node_layer
from memlens.gui.node_layer import NodeLayer, _topmost_per_cell


def layer_in_plot(qtbot, pos, alpha):
    plot = pg.PlotWidget(background="w")
    qtbot.addWidget(plot)
    plot.resize(400, 300)
    layer = NodeLayer()
    plot.addItem(layer)
    n = len(pos)
    palette = [QColor("#4e79a7"), QColor("#e15759")]
    colour = np.arange(n) % 2
    layer.set_nodes(pos, np.arange(n), palette, colour, alpha, np.full(n, 10.0), np.zeros(n, dtype=bool))
    plot.getViewBox().setRange(xRange=(-1, 11), yRange=(-1, 11), padding=0)
    plot.show()
    qtbot.waitExposed(plot)
    return plot, layer


def test_nodes_are_drawn_and_the_top_one_is_picked(qtbot):
    pos = np.array([[2.0, 2.0], [8.0, 8.0], [8.0, 8.0]])
    plot, layer = layer_in_plot(qtbot, pos, np.array([255, 40, 255]))
    image = plot.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    centre = plot.getViewBox().mapViewToScene(QPointF(2.0, 2.0))
    mapped = plot.mapFromScene(centre)
    assert QColor(image.pixel(mapped.x(), mapped.y())).name() == "#4e79a7"
    picked = layer.points_at(QPointF(8.0, 8.0))
    assert [p.data() for p in picked] == [2, 1]  # the last drawn is on top
    assert picked[0].brush().color().alpha() == 255 and picked[1].brush().color().alpha() == 40
    assert layer.points_at(QPointF(5.0, 5.0)) == []
    assert sorted(layer.data["data"]) == [0, 1, 2]


def test_many_nodes_in_view_are_drawn_one_per_cell_keeping_the_top_one():
    dx = np.array([0.2, 1.0, 5.0, 0.9])  # rows 0, 1 and 3 share the first 2-pixel cell
    dy = np.array([0.5, 1.5, 5.0, 0.1])
    rows = np.array([10, 11, 12, 13])
    assert _topmost_per_cell(rows, dx, dy).tolist() == [12, 13]  # drawing order kept


def test_zoomed_out_aggregate_paints_the_same_picture(qtbot, monkeypatch):
    rng = np.random.default_rng(3)
    pos = rng.normal(5, 1.5, size=(3000, 2))
    plot, _ = layer_in_plot(qtbot, pos, np.full(3000, 255))
    full = plot.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    monkeypatch.setattr(node_layer, "AGGREGATE_FROM", 100)
    plot.viewport().update()
    aggregated = plot.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)

    def pixels(img):
        return np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine() // 4, 4)

    differ = (np.abs(pixels(full).astype(int) - pixels(aggregated).astype(int)).max(axis=2) > 60).mean()
    assert differ < 0.02  # what is hidden under the top node of a cell is not missed


def test_painted_into_an_svg_nodes_are_shapes_in_their_colours(qtbot, tmp_path):
    pos = np.array([[2.0, 2.0], [8.0, 8.0], [5.0, 5.0]])
    plot, layer = layer_in_plot(qtbot, pos, np.array([255, 255, 40]))
    layer.set_nodes(
        pos, np.arange(3), [QColor("#4e79a7"), QColor("#e15759")], np.array([0, 1, 0]),
        np.array([255, 255, 40]), np.array([10.0, 16.0, 10.0]), np.array([False, False, True]),
    )  # fmt: skip
    generator = QSvgGenerator()
    generator.setFileName(str(tmp_path / "nodes.svg"))
    generator.setSize(plot.size())
    generator.setViewBox(plot.rect())
    painter = QPainter(generator)
    plot.render(painter)
    painter.end()

    svg = "{http://www.w3.org/2000/svg}"
    root = ElementTree.parse(tmp_path / "nodes.svg").getroot()
    assert not list(root.iter(f"{svg}image"))
    shapes = {
        (child.tag.removeprefix(svg), group.get("fill"), group.get("fill-opacity")): child.attrib
        for group in root.iter(f"{svg}g")
        for child in group
        if child.tag in (f"{svg}circle", f"{svg}rect") and group.get("fill") not in ("#ffffff", "none")
    }
    assert shapes.keys() == {
        ("circle", "#4e79a7", "1"),
        ("circle", "#e15759", "1"),
        ("rect", "#4e79a7", "0.156863"),  # a faded square: alpha 40 of 255
    }
    assert float(shapes["circle", "#e15759", "1"]["r"]) == 8  # 16 px across
    centre = plot.mapFromScene(plot.getViewBox().mapViewToScene(QPointF(8.0, 8.0)))
    circle = shapes["circle", "#e15759", "1"]
    assert abs(float(circle["cx"]) - centre.x()) < 1 and abs(float(circle["cy"]) - centre.y()) < 1
