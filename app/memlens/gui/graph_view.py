"""The memory graph and the semantic map: one widget, two layouts of the same scene.

Drawn with one batched item per layer: a NodeLayer for all nodes (see node_layer.py), one
PlotCurveItem (connect="pairs") per edge type, one ScatterPlotItem ring for the selection.
Never a graphics item per memory, so 100,000 memories stay one draw call per layer.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFontMetricsF, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSpinBox,
    QToolButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
    QWidgetAction,
)

from memlens.core.graph import EDGE_TYPES, NODE_KINDS, GraphOptions, community_labels
from memlens.core.graph_scene import GraphScene
from memlens.core.layout import umap_available
from memlens.core.record import MemoryRecord
from memlens.gui.label_layout import LabelPlacer, MarkerGrid, label_text
from memlens.gui.node_layer import NodeLayer
from memlens.gui.palette import EDGE_COLOURS, FADED_ALPHA, STATUS, CategoryColours, pen
from memlens.gui.selection import SelectionModel
from memlens.gui.times import utc_minute

COLOUR_BY: dict[str, Callable[[MemoryRecord], str]] = {
    "community": lambda r: "",  # filled from the scene
    "kind": lambda r: r.kind,
    "agent": lambda r: r.agent_id or "(none)",
    "user": lambda r: r.user_id or "(none)",
    "session": lambda r: r.session_id or "(none)",
    "status": lambda r: r.status.value,
}
SIZE_BY = ("uniform", "importance", "degree", "centrality")
MAX_LABELS = 28
MAX_COLOURS = 11  # named colours; the rest are "other", so the legend names every colour
DEFAULT_GRAPH_EDGES = ("link", "merge", "session", "semantic")
DEFAULT_MAP_EDGES = ("link", "merge")
LABEL_MARGIN_PX = 1  # a label's clear margin around its text (Qt's default is 4)
EXTRA_NODE_COLOUR = "#374151"
EXTRA_NODE_ALPHA = 200  # drawn between faded and lit memories
EDGE_DETAIL_LIMIT = 30_000  # edges in view up to which each is drawn, zoomed out or not
DEFER_EDGES_FROM = 20_000  # nodes from which edges are drawn a turn of the event loop later


def community_names(scene: GraphScene) -> dict[int, str]:
    labels = scene.labels
    if labels is None:
        labels = community_labels(scene.records, scene.graph.communities)
    return {c: f"{c + 1} · {name}" for c, name in labels.items()}


class _SelectBox(pg.ViewBox):
    """Shift+drag draws a rectangle that selects the nodes inside it."""

    sig_rect = Signal(QRectF)

    def mouseDragEvent(self, ev, axis=None):
        if ev.button() == Qt.MouseButton.LeftButton and ev.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            ev.accept()
            self.updateScaleBox(ev.buttonDownPos(), ev.pos())
            if ev.isFinish():
                self.rbScaleBox.hide()
                a, b = self.mapToView(ev.buttonDownPos()), self.mapToView(ev.pos())
                self.sig_rect.emit(QRectF(a, b).normalized())
            return
        super().mouseDragEvent(ev, axis)


class _Legend(pg.LegendItem):
    """A legend at a fixed place in its column. Not anchored: an anchor follows its parent's
    geometry, and at exit that signal reached the already deleted column. Scaled with the
    rest of the plot (pyqtgraph keeps a legend at screen size, for one inside a zoomable
    view): a PNG exported at twice the size had it at half the size of everything else."""

    MARGIN = 4

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.setFlag(self.GraphicsItemFlag.ItemIgnoresTransformations, False)

    def updateSize(self) -> None:
        super().updateSize()  # which moves it to (0, 0)
        self.setPos(self.MARGIN, self.MARGIN)


class GraphView(QWidget):
    """Draws a GraphScene; reads and writes the shared selection."""

    sig_export = Signal(str)  # "png", "svg" or "graphml"
    sig_rebuild = Signal()
    sig_options = Signal(object, str)  # GraphOptions, map projection ("pca" or "umap")

    def __init__(self, selection: SelectionModel, mode: str = "graph", parent=None) -> None:
        super().__init__(parent)
        self.selection = selection
        self.mode = mode
        self.scene: GraphScene | None = None
        self.highlight: set[str] | None = None
        self._pos = np.zeros((0, 2))
        self._visible = np.zeros(0, dtype=bool)
        self._index: dict[str, int] = {}
        self._labels: list[pg.TextItem] = []
        self.label_rows: list[int] = []  # the node each label names
        self._names: dict[int, str] | None = None  # community names of the scene
        self._stale = False  # a scene or a highlight arrived while hidden
        self._fit = False  # the first scene: fit the view to it once drawn
        self._size_cache: tuple[object, str, np.ndarray] | None = None  # (scene, size by, sizes)
        self._order_cache: tuple[object, np.ndarray] | None = None  # (scene, nodes by degree)

        self.box = _SelectBox()
        self.box.setAspectLocked(True)
        self.box.sig_rect.connect(self._select_rect)
        self.plot = pg.PlotWidget(viewBox=self.box, background="w")
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.setMouseTracking(True)
        # Zoomed out, a type with very many edges is drawn as its density (edge_density.py).
        self.edge_images = {t: pg.ImageItem(axisOrder="row-major") for t in EDGE_TYPES}
        for image in self.edge_images.values():
            image.hide()
            self.plot.addItem(image)
        self.edge_items = {
            t: pg.PlotCurveItem(connect="pairs", pen=pen(EDGE_COLOURS[t], 1, 110)) for t in EDGE_TYPES
        }
        self._edge_xy: dict[str, np.ndarray] = {}  # per type: (m, 2, 2) ends of the edges shown
        self._edge_box: dict[str, tuple[np.ndarray, ...]] = {}  # per type: left, right, bottom, top
        self.member_edges = pg.PlotCurveItem(connect="pairs", pen=pen("#9ca3af", 1, 90))
        for item in (*self.edge_items.values(), self.member_edges):
            self.plot.addItem(item)
        self.nodes = NodeLayer()
        self.nodes.sigClicked.connect(self._clicked)
        self.nodes.sigHovered.connect(self._hovered)
        self.plot.addItem(self.nodes)
        self.ring = pg.ScatterPlotItem(pxMode=True, brush=None, pen=pen("#111827", 2.2), symbol="o")
        self.plot.addItem(self.ring)
        self.query_mark = pg.ScatterPlotItem(
            pxMode=True, size=20, symbol="star", brush=pg.mkBrush("#e15759"), pen=pen("#7f1d1d", 1)
        )
        self.plot.addItem(self.query_mark)
        # The legend has a column of its own beside the plot, so it never covers a node or
        # a label, and exports (which render the plot item) still show it.
        self._legend_slot = pg.GraphicsWidget()
        self.plot.getPlotItem().layout.addItem(self._legend_slot, 2, 3)
        self.legend = _Legend(labelTextColor="#111827", brush=pg.mkBrush("#ffffff"))
        self.legend.setParentItem(self._legend_slot)
        self._edges_timer = QTimer(self, singleShot=True, interval=0)
        self._edges_timer.timeout.connect(self._redraw_edges)
        self._densities_shown = False
        self._label_timer = QTimer(self, singleShot=True, interval=60)
        self._label_timer.timeout.connect(self._place_labels)
        self.box.sigRangeChanged.connect(lambda *_: self._label_timer.start())
        self.box.sigRangeChanged.connect(self._refresh_edges)

        self._build_controls()
        self.info = QLabel()
        self.info.setTextFormat(Qt.TextFormat.PlainText)
        self.info.setStyleSheet("color: #4b5563")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.controls)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.info)
        selection.sig_changed.connect(self._on_selection)

    # -- controls --------------------------------------------------------------
    def _build_controls(self) -> None:
        self.colour_box = QComboBox()
        self.colour_box.addItems(list(COLOUR_BY))
        self.colour_box.setToolTip("Colour nodes by")
        self.size_box = QComboBox()
        self.size_box.addItems(list(SIZE_BY))
        self.size_box.setToolTip("Size nodes by")
        self.edge_checks: dict[str, QCheckBox] = {}
        self.controls = QHBoxLayout()
        self.controls.setContentsMargins(6, 4, 6, 0)
        self.controls.addWidget(QLabel("Colour"))
        self.controls.addWidget(self.colour_box)
        self.controls.addWidget(QLabel("Size"))
        self.controls.addWidget(self.size_box)
        self.controls.addSpacing(8)
        for etype in EDGE_TYPES:
            box = QCheckBox(etype)
            # Defaults that keep the picture readable; the rest are one click away.
            box.setChecked(etype in (DEFAULT_MAP_EDGES if self.mode == "map" else DEFAULT_GRAPH_EDGES))
            box.setStyleSheet(f"QCheckBox {{ color: {EDGE_COLOURS[etype]}; }}")
            box.setToolTip(f"Show {etype} edges")
            box.toggled.connect(self.redraw)
            self.edge_checks[etype] = box
            self.controls.addWidget(box)
        self.controls.addStretch(1)
        self.focus = QCheckBox("Focus")
        self.focus.setToolTip("Show only the current memory's neighbourhood")
        self.hops = QSpinBox(minimum=1, maximum=4, value=1, suffix=" hop")
        for w in (self.colour_box, self.size_box):
            w.currentIndexChanged.connect(self.redraw)
        self.focus.toggled.connect(self.redraw)
        self.hops.valueChanged.connect(self.redraw)
        self.controls.addWidget(self.focus)
        self.controls.addWidget(self.hops)
        for fmt in ("png", "svg", "graphml"):
            button = QToolButton(text=fmt.upper())
            button.setToolTip(f"Export as {fmt.upper()}")
            button.clicked.connect(lambda _=False, f=fmt: self.sig_export.emit(f))
            self.controls.addWidget(button)
        self.controls.addWidget(self._build_options())
        rebuild = QToolButton(text="Rebuild")
        rebuild.setToolTip("Recompute the graph and its layout")
        rebuild.clicked.connect(self.sig_rebuild.emit)
        self.controls.addWidget(rebuild)

    def _build_options(self) -> QToolButton:
        """What the graph is built from, in a popover: applied together, since most of
        these rebuild the graph."""
        form = QWidget()
        layout = QFormLayout(form)
        self.knn_k = QSpinBox(minimum=1, maximum=30, value=GraphOptions.knn_k)
        self.knn_k.setToolTip("Semantic edges join each memory to this many nearest neighbours")
        self.knn_threshold = QDoubleSpinBox(minimum=0.0, maximum=1.0, singleStep=0.05, decimals=2)
        self.knn_threshold.setValue(GraphOptions.knn_threshold)
        self.knn_threshold.setToolTip("…if their cosine similarity is at least this")
        layout.addRow("Neighbours (k)", self.knn_k)
        layout.addRow("Similarity ≥", self.knn_threshold)
        self.node_checks: dict[str, QCheckBox] = {}
        nodes = QHBoxLayout()
        for kind in NODE_KINDS:
            box = QCheckBox(kind)
            box.setToolTip(f"A node for each {kind}, joined to its memories")
            self.node_checks[kind] = box
            nodes.addWidget(box)
        layout.addRow("Extra nodes", nodes)
        self.projection_box = QComboBox()
        self.projection_box.addItem("PCA", "pca")
        self.projection_box.addItem("UMAP" if umap_available() else "UMAP (pip install umap-learn)", "umap")
        if not umap_available():
            self.projection_box.model().item(1).setEnabled(False)
        self.projection_box.setToolTip("How the semantic map is projected (UMAP when installed)")
        layout.addRow("Map projection", self.projection_box)
        self.apply_options = QPushButton("Apply")
        self.apply_options.clicked.connect(self._emit_options)
        layout.addRow(self.apply_options)
        button = QToolButton(text="Options")
        button.setToolTip("Semantic neighbours, extra nodes, map projection")
        button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(button)
        action = QWidgetAction(menu)
        action.setDefaultWidget(form)
        menu.addAction(action)
        button.setMenu(menu)
        self.options_button = button
        return button

    def graph_options(self) -> tuple[GraphOptions, str]:
        """The options and projection the popover shows."""
        kinds = frozenset(k for k, box in self.node_checks.items() if box.isChecked())
        options = GraphOptions(
            node_kinds=kinds, knn_k=self.knn_k.value(), knn_threshold=round(self.knn_threshold.value(), 2)
        )
        return options, self.projection_box.currentData()

    def set_graph_options(self, options: GraphOptions, method: str) -> None:
        """Show `options` in the popover (the other view's, or the scene's)."""
        self.knn_k.setValue(options.knn_k)
        self.knn_threshold.setValue(options.knn_threshold)
        for kind, box in self.node_checks.items():
            box.setChecked(kind in options.node_kinds)
        found = self.projection_box.findData(method)
        self.projection_box.setCurrentIndex(max(found, 0))

    def _emit_options(self) -> None:
        self.options_button.menu().hide()
        self.sig_options.emit(*self.graph_options())

    # -- content ---------------------------------------------------------------
    def set_scene(self, scene: GraphScene) -> None:
        """Draw `scene`; a hidden view (graph and map are tabs) draws it when next shown:
        at 100,000 memories a drawing holds the GUI thread for seconds."""
        self._fit = self._fit or self.scene is None
        self.scene = scene
        self._names = None
        self._pos = scene.map_pos if self.mode == "map" else scene.graph_pos
        self._index = scene.node_index if scene.node_index is not None else scene.graph.index()
        self._visible = np.ones(len(scene.graph.nodes), dtype=bool)  # until a redraw applies focus
        self._edge_xy, self._edge_box = {}, {}
        self._densities_shown = False
        for image in self.edge_images.values():
            image.hide()
        if self.isVisible():
            self.redraw()
        else:
            self._stale = True

    def set_query_vector(self, vector: np.ndarray | None) -> None:
        """Draw a retrieval's query on the semantic map, where its meaning places it."""
        projection = self.scene.projection if self.scene is not None else None
        if vector is None or projection is None or self.mode != "map":
            self.query_mark.setData([])
            return
        xy = projection.apply(np.asarray(vector, dtype=np.float32)[None, :])
        self.query_mark.setData(pos=xy, data=["query"])

    def set_highlight(self, ids: set[str] | None) -> None:
        """Search matches are lit, the rest faded; None lights everything.

        Every search lights its hits here; a hidden view (the usual case, searching from
        the table) redraws when next shown: at 10,000 memories a redraw took 0.25 s of the
        GUI thread, for each of the two views.
        """
        self.highlight = ids
        if self.isVisible():
            self.redraw()
        else:
            self._stale = True

    def node_values(self) -> list[str]:
        scene = self.scene
        key = self.colour_box.currentText()
        if key == "community":
            if scene.community_values is not None:
                return scene.community_values
            if self._names is None:  # read from every memory's text: once per scene
                self._names = community_names(scene)
            names = self._names
            return [names[scene.graph.communities.get(r.id, 0)] for r in scene.records]
        return [COLOUR_BY[key](r) for r in scene.records]

    def _sizes(self) -> np.ndarray:
        """Node sizes, worked out once per scene and choice (not on each search or focus)."""
        scene, key = self.scene, self.size_box.currentText()
        cached = self._size_cache
        if cached is not None and cached[0] is scene and cached[1] == key:
            return cached[2]
        sizes = self._compute_sizes(key)
        self._size_cache = (scene, key, sizes)
        return sizes

    def _compute_sizes(self, key: str) -> np.ndarray:
        scene = self.scene
        n = len(scene.graph.nodes)
        m = len(scene.records)
        if key == "importance":
            base = np.array([r.importance if r.importance is not None else 0.3 for r in scene.records])
        elif key == "degree":
            base = (scene.degree if scene.degree is not None else scene.graph.degree())[:m]
        elif key == "centrality":
            from memlens.core.graph import centrality

            base = (scene.centrality if scene.centrality is not None else centrality(scene.graph))[:m]
        else:
            base = np.ones(m)
        span = float(base.max() - base.min()) if len(base) else 0.0
        scaled = 6 + 10 * np.sqrt((base - base.min()) / span) if span else np.full(len(base), 8.0)
        sizes = np.full(n, 9.0, dtype=np.float32)
        sizes[: len(scene.records)] = scaled
        return sizes

    def _focus_mask(self) -> np.ndarray:
        n = len(self.scene.graph.nodes)
        current = self.selection.current
        if not self.focus.isChecked() or current not in self._index:
            return np.ones(n, dtype=bool)
        keep = self.scene.graph.neighbourhood(current, self.hops.value())
        mask = np.zeros(n, dtype=bool)
        mask[[self._index[k] for k in keep]] = True
        return mask

    def redraw(self, *_args) -> None:
        scene = self.scene
        if scene is None:
            return
        self._stale = False
        mg = scene.graph
        self._visible = self._focus_mask()
        values = self.node_values()
        fixed = STATUS if self.colour_box.currentText() == "status" else None
        distinct = len(set(values))
        # Twelve values get twelve colours: an 'other' of one would name nothing more.
        colours = CategoryColours(values, fixed, distinct if distinct <= MAX_COLOURS + 1 else MAX_COLOURS)
        self._draw_nodes(colours, values)
        if len(mg.nodes) >= DEFER_EDGES_FROM:
            # Nodes and edges each hold the GUI thread 60-80 ms at 100,000 memories: the
            # edges follow in the next turn of the event loop, so the window answers between.
            self._edges_timer.start()
        else:
            self._redraw_edges()
        self._fill_legend(colours)
        self._on_selection(self.selection.ids, self.selection.current, None)
        shown_edges = sum(len(mg.edges.get(t, ())) for t, b in self.edge_checks.items() if b.isChecked())
        self.info.setText(
            f"{int(self._visible[: len(scene.records)].sum()):,} memories · {shown_edges:,} edges shown · "
            f"{len(set(mg.communities.values()))} communities · Shift+drag to select an area"
        )
        if self._fit:
            self._fit = False
            self.box.autoRange(padding=0.05)
        self._label_timer.start()

    def _draw_nodes(self, colours: CategoryColours, values: list[str]) -> None:
        """Memories, then extra nodes as squares; search hits drawn last, on top."""
        scene, n = self.scene, len(self.scene.graph.nodes)
        m = len(scene.records)
        palette = [*colours.colours.values(), colours.other, QColor(EXTRA_NODE_COLOUR)]
        slot = {v: i for i, v in enumerate(colours.colours)}
        colour = np.full(n, len(palette) - 1, dtype=np.int64)
        colour[:m] = np.fromiter((slot.get(v, len(palette) - 2) for v in values), dtype=np.int64, count=m)
        alpha = np.full(n, EXTRA_NODE_ALPHA, dtype=np.int64)
        lit = self.highlight
        if lit is None:
            alpha[:m] = 255
        else:
            on = np.fromiter((r.id in lit for r in scene.records), dtype=bool, count=m)
            alpha[:m] = np.where(on, 255, FADED_ALPHA)
        square = np.arange(n) >= m
        vis = np.flatnonzero(self._visible)
        rows = vis[np.argsort(alpha[vis], kind="stable")]
        self.nodes.set_nodes(
            self._pos[rows], rows, palette, colour[rows], alpha[rows], self._sizes()[rows], square[rows]
        )

    def _redraw_edges(self) -> None:
        scene = self.scene
        if scene is None:
            return
        if not self._densities_shown:
            self._densities_shown = True
            self._load_densities(scene.map_density if self.mode == "map" else scene.graph_density)
        mg = scene.graph
        for etype in self.edge_items:
            self._keep_edges(etype, mg.edges.get(etype), self.edge_checks[etype].isChecked())
        self._refresh_edges()
        members = [p for t, p in mg.edges.items() if t.endswith("-member") and len(p)]
        self._set_edges(self.member_edges, np.concatenate(members) if members else None, True)

    def _load_densities(self, densities: dict) -> None:
        for etype, image in self.edge_images.items():
            density = densities.get(etype)
            if density is None:
                image.clear()
                continue
            rgba = np.empty((*density.alpha.shape, 4), dtype=np.uint8)
            rgba[..., :3] = QColor(EDGE_COLOURS[etype]).getRgb()[:3]
            rgba[..., 3] = density.alpha
            image.setImage(rgba, autoLevels=False, levels=(0, 255))
            image.setRect(QRectF(density.left, density.bottom, density.width, density.height))

    def _keep_edges(self, etype: str, pairs: np.ndarray | None, on: bool) -> None:
        if not on or pairs is None or not len(pairs):
            self._edge_xy.pop(etype, None)
            self._edge_box.pop(etype, None)
            return
        pairs = pairs[self._visible[pairs[:, 0]] & self._visible[pairs[:, 1]]]
        xy = self._pos[pairs]
        # Each edge's bounding box, for telling cheaply on a zoom or pan which are in view.
        self._edge_xy[etype] = xy
        self._edge_box[etype] = (xy[:, :, 0].min(axis=1), xy[:, :, 0].max(axis=1),
                                 xy[:, :, 1].min(axis=1), xy[:, :, 1].max(axis=1))  # fmt: skip

    def _refresh_edges(self, *_args) -> None:
        """Draw the edges for the current zoom: each one while few are in view, else the
        density of the types that have one (the rest, fewer, edge by edge)."""
        scene = self.scene
        if scene is None:
            return
        shown = self._edge_xy
        total = sum(len(xy) for xy in shown.values())
        if total <= EDGE_DETAIL_LIMIT and _args:
            return  # a zoom or pan: every edge is drawn already
        in_view: dict[str, np.ndarray | None] = dict.fromkeys(shown)  # None: every edge
        rect = self.box.viewRect()
        (x0, y0), (x1, y1) = self._pos.min(axis=0), self._pos.max(axis=0)
        everything = rect.left() <= x0 and rect.right() >= x1 and rect.top() <= y0 and rect.bottom() >= y1
        if total > EDGE_DETAIL_LIMIT and not everything:
            for etype in shown:
                left, right, bottom, top = self._edge_box[etype]
                in_view[etype] = (
                    (right >= rect.left())
                    & (left <= rect.right())
                    & (top >= rect.top())
                    & (bottom <= rect.bottom())
                )
        aggregate = (
            sum(
                len(xy) if m is None else int(m.sum())
                for xy, m in zip(shown.values(), in_view.values(), strict=True)
            )
            > EDGE_DETAIL_LIMIT
        )
        densities = scene.map_density if self.mode == "map" else scene.graph_density
        for etype, item in self.edge_items.items():
            image = self.edge_images[etype]
            xy = shown.get(etype)
            as_density = xy is not None and aggregate and etype in densities and not self.focus.isChecked()
            image.setVisible(as_density)
            if xy is None or as_density:
                if item.xData is not None and len(item.xData):
                    item.setData([], [])
                continue
            mask = in_view[etype]
            pts = (xy if mask is None else xy[mask]).reshape(-1, 2)
            item.setData(pts[:, 0], pts[:, 1], connect="pairs")

    def _set_edges(self, item: pg.PlotCurveItem, pairs: np.ndarray | None, on: bool) -> None:
        if not on or pairs is None or not len(pairs):
            item.setData([], [])
            return
        keep = self._visible[pairs[:, 0]] & self._visible[pairs[:, 1]]
        pairs = pairs[keep]
        xy = self._pos[pairs.reshape(-1)]
        item.setData(xy[:, 0], xy[:, 1], connect="pairs")

    def _fill_legend(self, colours: CategoryColours) -> None:
        """One row per colour drawn (MAX_COLOURS and 'other' at most). Labels are shown as
        rich text by pyqtgraph: escaped, so an agent called '<b>x</b>' reads as typed."""
        self.legend.clear()
        for label, colour, count in colours.legend():
            sample = pg.ScatterPlotItem(size=10, brush=pg.mkBrush(colour), pen=None)
            self.legend.addItem(sample, html.escape(f"{label} ({count:,})"))
        kinds = sorted(t.removesuffix("-member") for t in self.scene.graph.edges if t.endswith("-member"))
        if kinds:
            self.legend.addItem(
                pg.ScatterPlotItem(size=10, symbol="s", brush=pg.mkBrush(EXTRA_NODE_COLOUR), pen=None),
                html.escape(" / ".join(kinds)),
            )
        width = int(self.legend.width()) + 12 if self.legend.items else 0
        self._legend_slot.setMinimumWidth(width)
        self._legend_slot.setMaximumWidth(width)

    def legend_texts(self) -> list[str]:
        """The legend's rows as they read on screen."""
        return [label.item.toPlainText() for _, label in self.legend.items]

    def save_svg(self, path) -> None:
        """Vector export through Qt's own SVG writer (pyqtgraph's cannot read Qt 6.8+ paths)."""
        generator = QSvgGenerator()
        generator.setFileName(str(path))
        generator.setSize(self.plot.size())
        generator.setViewBox(self.plot.rect())
        generator.setResolution(self.plot.logicalDpiX())  # else text comes out at 72/96 of its size
        generator.setTitle("MemLens graph" if self.mode == "graph" else "MemLens semantic map")
        painter = QPainter(generator)
        # In export mode pyqtgraph's scatter items (the selection ring, the query star)
        # draw shapes too, not pieces of their bitmap atlas.
        items = [item for item in self.plot.scene().items() if hasattr(item, "setExportMode")]
        for item in items:
            item.setExportMode(True, {"antialias": True})
        try:
            self.plot.render(painter)
        finally:
            painter.end()
            for item in items:
                item.setExportMode(False)

    # -- selection ---------------------------------------------------------------
    def _on_selection(self, ids: list, current: str, source: object) -> None:
        if self.scene is None:
            return
        if self.focus.isChecked() and source is not self and source is not None:
            self.redraw()
            return
        idx = [self._index[i] for i in ids if i in self._index]
        self.ring.setData(pos=self._pos[idx] if idx else np.zeros((0, 2)), size=16)

    def _clicked(self, _item, points, _ev) -> None:
        if len(points):
            node = self.scene.graph.nodes[int(points[0].data())]
            if node in self.scene.graph.nodes[: self.scene.graph.memory_count]:
                self.selection.set([node], source=self)
                self._on_selection([node], node, self)

    def select_ids_in(self, rect: QRectF) -> list[str]:
        scene = self.scene
        n = scene.graph.memory_count
        pos = self._pos[:n]
        inside = (
            (pos[:, 0] >= rect.left())
            & (pos[:, 0] <= rect.right())
            & (pos[:, 1] >= rect.top())
            & (pos[:, 1] <= rect.bottom())
            & self._visible[:n]
        )
        return [scene.graph.nodes[i] for i in np.flatnonzero(inside)]

    def _select_rect(self, rect: QRectF) -> None:
        ids = self.select_ids_in(rect)
        self.selection.set(ids, source=self)
        self._on_selection(ids, ids[0] if ids else "", self)

    def _hovered(self, _item, points, ev) -> None:
        if not len(points) or self.scene is None:
            QToolTip.hideText()
            return
        i = int(points[0].data())
        node = self.scene.graph.nodes[i]
        if i < len(self.scene.records):
            r = self.scene.records[i]
            when = (utc_minute(r.created_at) + " UTC") if r.created_at else "no time"
            body = (
                f"<b>{html.escape(r.owner or 'no owner')}</b> · {html.escape(r.agent_id or '')} · {when} · "
                f"{r.status.value}<br>{html.escape(r.text[:300])}"
            )
        else:
            kind, name = node.split(":", 1)
            count = self.scene.graph.graph.degree(node)
            body = f"<b>{html.escape(kind)}</b>: {html.escape(name)} ({count} memories)"
        screen = ev.screenPos() if hasattr(ev, "screenPos") else None
        if screen is not None:
            QToolTip.showText(screen.toPoint(), f"<div style='max-width: 420px'>{body}</div>", self.plot)

    # -- labels ------------------------------------------------------------------
    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self.redraw()
        self._label_timer.start()  # placed while hidden, they were laid out at size zero

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._label_timer.start()

    def _place_labels(self) -> None:
        """Label the best connected nodes in view where a label fits: beside its node, on
        no other node or label, and never twice the same text."""
        for item in self._labels:
            self.plot.removeItem(item)
        self._labels, self.label_rows = [], []
        if self.scene is None or not self.isVisible():
            return
        view = self.box.viewRect()
        width, height = max(self.box.width(), 1.0), max(self.box.height(), 1.0)
        px = view.width() / width, view.height() / height  # view units per pixel
        x = (self._pos[:, 0] - view.left()) / px[0]
        y = (view.bottom() - self._pos[:, 1]) / px[1]  # pixels down from the top
        radius = self.marker_sizes() / 2 + 0.5  # antialiasing bleeds half a pixel
        drawn = self._visible
        placer = LabelPlacer(width, height, MarkerGrid(x[drawn], y[drawn], radius[drawn], width, height))
        in_plot = drawn & (x >= 0) & (x <= width) & (y >= 0) & (y <= height)
        order = self._label_order()
        shown: set[str] = set()
        for i in order[in_plot[order]][: MAX_LABELS * 20]:  # best connected first
            text = self._label_text(int(i))
            if text in shown:
                continue
            box = placer.place(x[i], y[i], radius[i], self._label_size(text), LABEL_MARGIN_PX)
            if box is None:
                continue
            shown.add(text)
            self._add_label(text, QPointF(view.left() + box[0] * px[0], view.bottom() - box[1] * px[1]))
            self.label_rows.append(int(i))
            if len(self._labels) >= MAX_LABELS:
                break

    def marker_sizes(self) -> np.ndarray:
        """Each node's marker across, in pixels, as the node layer draws it."""
        return np.clip(np.rint(self._sizes()), 1, 64)

    def _label_size(self, text: str) -> tuple[float, float]:
        """The box a label of `text` takes, in pixels, margins included."""
        metrics = QFontMetricsF(self.font())
        margins = 2 * LABEL_MARGIN_PX
        return np.ceil(metrics.horizontalAdvance(text)) + margins, np.ceil(metrics.height()) + margins

    def _add_label(self, text: str, top_left: QPointF) -> None:
        item = pg.TextItem(text, color=QColor("#1f2937"), anchor=(0, 0))
        item.setFont(self.font())
        item.textItem.document().setDocumentMargin(LABEL_MARGIN_PX)
        item.updateTextPos()
        item.setPos(top_left)
        self.plot.addItem(item)
        self._labels.append(item)

    def _label_order(self) -> np.ndarray:
        """Nodes by degree, most connected first: sorted once per scene, not on each zoom."""
        scene = self.scene
        if self._order_cache is None or self._order_cache[0] is not scene:
            degree = scene.degree if scene.degree is not None else scene.graph.degree()
            self._order_cache = (scene, np.argsort(-degree, kind="stable"))
        return self._order_cache[1]

    def _label_text(self, i: int) -> str:
        scene = self.scene
        if i < len(scene.records):
            return label_text(scene.records[i].text)
        return label_text(scene.graph.nodes[i].split(":", 1)[1])
