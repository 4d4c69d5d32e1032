"""The graph's and map's memories as one item that stays fast at 100,000 nodes.

pyqtgraph's ScatterPlotItem looks up a style for every point in Python whenever its data
is set: at 100,000 memories each search (lit and faded nodes) or new scene held the GUI
thread for a second, and a zoom or pan repainted every point (47 ms). Here a node's style
is a small integer (colour, lit or faded, size, symbol); each style is drawn once into an
atlas, and a paint is a few numpy operations and one drawPixmapFragments call. Painted
into an SVG or PDF, nodes are drawn as shapes instead. When more
than AGGREGATE_FROM nodes are in view (zoomed out), nodes are drawn as an aggregate: one
per CELL_PX square of the screen, the one that would be drawn on top, since the others
would be hidden under it anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import internals
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPaintEngine, QPainter, QPixmap

# Paint engines that write shapes (SVG, PDF): nodes go out as shapes, not atlas pieces.
VECTOR_ENGINES = (QPaintEngine.Type.SVG, QPaintEngine.Type.Pdf)
AGGREGATE_FROM = 20_000  # nodes in view from which they are drawn one per cell
CELL_PX = 2


@dataclass(frozen=True)
class NodePoint:
    """A node under the mouse, as pyqtgraph's SpotItem answers for the calls made on it."""

    index: int
    x: float
    y: float
    colour: QColor
    diameter: float = 0.0  # pixels

    def data(self) -> int:
        return self.index

    def size(self) -> float:
        return self.diameter

    def pos(self) -> QPointF:
        return QPointF(self.x, self.y)

    def brush(self) -> QBrush:
        return QBrush(self.colour)


class NodeLayer(pg.GraphicsObject):
    sigClicked = Signal(object, object, object)  # (self, [NodePoint], event), as ScatterPlotItem
    sigHovered = Signal(object, object, object)

    def __init__(self) -> None:
        super().__init__()
        self.setAcceptHoverEvents(True)
        self._pos = np.zeros((0, 2))
        self._style = np.zeros(0, dtype=np.int64)
        self._index = np.zeros(0, dtype=np.int64)
        self._sizes = np.zeros(0, dtype=np.float32)
        self._colours: list[QColor] = []  # per style
        self._specs: list[tuple[QColor, int, bool]] = []  # per style: colour, size, square
        self._rects = np.zeros((0, 4))  # per style: x, y, w, h in the atlas
        self._atlas = QPixmap()
        self._fragments = internals.PrimitiveArray(QPainter.PixmapFragment, 10)
        self._bounds: QRectF | None = None

    # -- content ---------------------------------------------------------------
    def set_nodes(
        self,
        pos: np.ndarray,
        index: np.ndarray,
        palette: Sequence[QColor],
        colour: np.ndarray,
        alpha: np.ndarray,
        size: np.ndarray,
        square: np.ndarray,
    ) -> None:
        """Nodes at `pos` (n, 2), reported by `index` when picked, coloured palette[colour]
        with `alpha` (0-255), `size` pixels across, squares where `square`; later rows are
        drawn on top, so callers put what must stay visible (search hits) last."""
        px = np.clip(np.rint(size), 1, 64).astype(np.int64)
        shade = colour.astype(np.int64) * 256 + alpha.astype(np.int64)
        keys = (shade * 65 + px) * 2 + square.astype(np.int64)
        unique, style = np.unique(keys, return_inverse=True)
        self._colours = []
        self._specs = []
        for key in unique.tolist():
            key, is_square = divmod(key, 2)
            key, width = divmod(key, 65)
            c, a = divmod(key, 256)
            qc = QColor(palette[c])
            qc.setAlpha(a)
            self._colours.append(qc)
            self._specs.append((qc, width, bool(is_square)))
        self._atlas, self._rects = _render_atlas(self._specs)
        self.prepareGeometryChange()
        self._pos = np.asarray(pos, dtype=np.float64).reshape(-1, 2)
        self._index = np.asarray(index, dtype=np.int64)
        self._style = style.reshape(-1)
        self._sizes = px.astype(np.float32)
        self._bounds = None
        self.update()

    def clear(self) -> None:
        empty = np.zeros(0)
        self.set_nodes(np.zeros((0, 2)), empty, [], empty, empty, empty, empty.astype(bool))

    @property
    def data(self) -> np.ndarray:
        """The nodes drawn (x, y, data), in the shape ScatterPlotItem.data has."""
        out = np.zeros(len(self._pos), dtype=[("x", float), ("y", float), ("data", object)])
        out["x"], out["y"] = self._pos[:, 0], self._pos[:, 1]
        out["data"] = self._index
        return out

    def points(self) -> list[NodePoint]:
        return [self._point(i) for i in range(len(self._pos))]

    def _point(self, row: int) -> NodePoint:
        x, y = self._pos[row]
        style = self._style[row]
        return NodePoint(
            int(self._index[row]), float(x), float(y), self._colours[style], float(self._sizes[row])
        )

    # -- geometry --------------------------------------------------------------
    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange=None):
        if not len(self._pos):
            return (None, None)
        values = self._pos[:, ax]
        return (float(values.min()), float(values.max()))

    def pixelPadding(self) -> float:
        return float(self._sizes.max()) * 0.7072 if len(self._sizes) else 0.0

    def boundingRect(self) -> QRectF:
        if self._bounds is None:
            if not len(self._pos):
                self._bounds = QRectF()
                return self._bounds
            (x0, x1), (y0, y1) = self.dataBounds(0), self.dataBounds(1)
            px, py = self.pixelVectors()
            pad = self.pixelPadding()
            wx = pad * (px.length() if px is not None else 0.0)
            wy = pad * (py.length() if py is not None else 0.0)
            self._bounds = QRectF(x0 - wx, y0 - wy, x1 - x0 + 2 * wx, y1 - y0 + 2 * wy)
        return self._bounds

    def viewTransformChanged(self) -> None:
        self.prepareGeometryChange()
        self._bounds = None
        super().viewTransformChanged()

    # -- drawing ---------------------------------------------------------------
    def paint(self, p: QPainter, *_args) -> None:
        rows, dx, dy = self._rows_in_view(p)
        if not len(rows):
            return
        # An export at a higher resolution (pyqtgraph's ImageExporter) scales the nodes as
        # it scales the other markers; the atlas holds them at screen size only.
        scale = self._exportOpts.get("resolutionScale", 1.0) if self._exportOpts else 1.0
        p.save()
        p.resetTransform()
        if p.paintEngine().type() in VECTOR_ENGINES or scale != 1.0:
            self._paint_shapes(p, rows, dx[rows], dy[rows], scale)
        else:
            self._paint_fragments(p, rows, dx[rows], dy[rows])
        p.restore()

    def _rows_in_view(self, p: QPainter) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The rows to draw (in drawing order), and every node's device position."""
        if not len(self._pos):
            return np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0)
        tr = p.transform()
        x, y = self._pos[:, 0], self._pos[:, 1]
        dx = tr.m11() * x + tr.m21() * y + tr.m31()
        dy = tr.m12() * x + tr.m22() * y + tr.m32()
        device = p.device()
        pad = float(self._sizes.max())
        dpr = device.devicePixelRatioF()
        width, height = device.width() / dpr, device.height() / dpr
        rows = np.flatnonzero((dx > -pad) & (dx < width + pad) & (dy > -pad) & (dy < height + pad))
        if len(rows) > AGGREGATE_FROM:
            rows = _topmost_per_cell(rows, dx[rows], dy[rows])
        return rows, dx, dy

    def _paint_fragments(self, p: QPainter, rows: np.ndarray, dx: np.ndarray, dy: np.ndarray) -> None:
        """Each node a piece of the atlas: one call, whatever the count."""
        self._fragments.resize(len(rows))
        frags = self._fragments.ndarray()
        frags[:, 0] = dx
        frags[:, 1] = dy
        frags[:, 2:6] = self._rects[self._style[rows]]
        frags[:, 6:10] = [1.0, 1.0, 0.0, 1.0]  # scale x, scale y, rotation, opacity
        p.drawPixmapFragments(*self._fragments.drawargs(), self._atlas)

    def _paint_shapes(
        self, p: QPainter, rows: np.ndarray, dx: np.ndarray, dy: np.ndarray, scale: float = 1.0
    ) -> None:
        """Each node a circle or square, as the atlas draws it (`scale` times the size): an
        SVG or PDF of the view then holds shapes that scale and can be edited, not a bitmap
        per node."""
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        style = self._style[rows]
        # Runs of one style, in drawing order, so what is on top stays on top.
        starts = np.flatnonzero(np.diff(style, prepend=-1))
        for start, stop in zip(starts, [*starts[1:], len(rows)], strict=True):
            colour, size, square = self._specs[style[start]]
            size *= scale
            p.setBrush(colour)
            lefts, tops = (dx[start:stop] - size / 2).tolist(), (dy[start:stop] - size / 2).tolist()
            shapes = [QRectF(x, y, size, size) for x, y in zip(lefts, tops, strict=True)]
            if square:
                p.drawRects(shapes)
            else:
                for shape in shapes:
                    p.drawEllipse(shape)

    # -- picking ---------------------------------------------------------------
    def points_at(self, pos: QPointF) -> list[NodePoint]:
        """Nodes under `pos` (item coordinates), the one drawn on top first."""
        if not len(self._pos):
            return []
        px, py = self.pixelVectors()
        if px is None or py is None or not px.length() or not py.length():
            return []
        ddx = (self._pos[:, 0] - pos.x()) / px.length()
        ddy = (self._pos[:, 1] - pos.y()) / py.length()
        radius = self._sizes / 2 + 1
        hit = np.flatnonzero(ddx * ddx + ddy * ddy <= radius * radius)
        return [self._point(int(i)) for i in hit[::-1]]

    def hoverEvent(self, ev) -> None:
        points = [] if ev.isExit() else self.points_at(ev.pos())
        self.sigHovered.emit(self, points, ev)

    def mouseClickEvent(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        points = self.points_at(ev.pos())
        if points:
            ev.accept()
            self.sigClicked.emit(self, points, ev)
        else:
            ev.ignore()


def _topmost_per_cell(rows: np.ndarray, dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Of `rows` (in drawing order), the last one in each CELL_PX square, in drawing order."""
    cx = (dx // CELL_PX).astype(np.int64)
    cy = (dy // CELL_PX).astype(np.int64)
    cx -= cx.min()
    cy -= cy.min()
    height = int(cy.max()) + 1
    top = np.full((int(cx.max()) + 1) * height, -1, dtype=np.int64)
    np.maximum.at(top, cx * height + cy, np.arange(len(rows)))  # no sort: 4x faster than unique
    keep = np.zeros(len(rows), dtype=bool)
    keep[top[top >= 0]] = True
    return rows[keep]


def _render_atlas(specs: list[tuple[QColor, int, bool]]) -> tuple[QPixmap, np.ndarray]:
    """Each (colour, size, square) drawn once, side by side; their source rectangles."""
    if not specs:
        return QPixmap(), np.zeros((0, 4))
    cells = [size + 2 for _, size, _ in specs]
    atlas = QPixmap(max(sum(cells), 1), max(cells))
    atlas.fill(Qt.GlobalColor.transparent)
    painter = QPainter(atlas)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    rects = np.zeros((len(specs), 4))
    left = 0
    for n, ((colour, size, square), cell) in enumerate(zip(specs, cells, strict=True)):
        painter.setBrush(colour)
        shape = QRectF(left + 1, 1, size, size)
        if square:
            painter.drawRect(shape)
        else:
            painter.drawEllipse(shape)
        rects[n] = (left, 0, cell, cell)
        left += cell
    painter.end()
    return atlas, rects
