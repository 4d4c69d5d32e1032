"""The timeline: when memories were written, changed and used, linked to every other view.

Lanes (by agent, user, session or kind) run across a date axis. Every memory is a mark
at its creation time; journal changes are marks on the same row; retrievals have a lane
of their own; a density strip below shows where a large store's mass lies.

Drawn with one batched item per layer (a ScatterPlotItem each for creations, each change
kind, stale memories, retrievals and the selection ring; one PlotCurveItem for the lines
joining a memory to its changes), fed numpy arrays, so 100,000 memories stay a handful
of draw calls. Picking (hover and click) is a numpy nearest-mark search, not per-mark items.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pyqtgraph as pg
from pyqtgraph.graphicsItems.DateAxisItem import (
    MONTH_DAY_ZOOM_LEVEL,
    MS_SPACING,
    YEAR_MONTH_ZOOM_LEVEL,
    TickSpec,
    ZoomLevel,
    makeMSStepper,
    makeSStepper,
)
from PySide6.QtCore import QDateTime, QPointF, Qt, QTimer, QTimeZone, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QToolButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from memlens.core.record import HIDDEN_STATUSES
from memlens.core.service import MemoryService
from memlens.core.timeline import (
    EVENT_KINDS,
    LANE_BY,
    NONE_LANE,
    OTHER_LANE,
    TimelineData,
    conflict_ids,
    density,
    jitter,
    lane_keys,
    superseded_ids,
    timeline_events,
)
from memlens.gui.memory_table import plain_tooltip
from memlens.gui.palette import FADED_ALPHA, OTHER, QUALITATIVE, pen
from memlens.gui.selection import SelectionModel

# One colour per lane and one grey "(other)" lane for the smallest beyond that: more
# lanes are unreadable, and lanes past the palette would all be grey like "(other)".
MAX_LANES = len(QUALITATIVE) + 1
LANE_LABEL_CHARS = 22
HIDDEN_ALPHA = 90  # archived and deleted memories: still there, drawn faint
CREATED_SIZE = 7
#: kind -> (symbol, fill colour, size): shape carries the meaning, colour helps.
EVENT_STYLE = {
    "edit": ("d", "#f28e2b", 11),
    "merge": ("star", "#b07aa1", 14),
    "delete": ("x", "#e15759", 12),
    "restore": ("t1", "#59a14f", 11),
    "status": ("s", "#9c755f", 9),
}
# A narrow band above lane 0 (the y axis is inverted: lane 0 on top); a full lane's height
# took a third of the plot from the memories when there were only two or three lanes.
RETRIEVAL_LANE = -0.85
RETRIEVAL_TOP = RETRIEVAL_LANE - 0.35
SLIDER_STEPS = 1000
DEBOUNCE_MS = 200
PICK_PX = 7
DENSITY_BINS = 200


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _when(ts: float) -> str:
    return _utc(ts).strftime("%Y-%m-%d %H:%M:%S UTC")


def _qt_time(ts: float) -> QDateTime:
    return QDateTime.fromSecsSinceEpoch(int(ts), QTimeZone.utc())


def _dashed(colour: str, width: float) -> pg.QtGui.QPen:
    p = pen(colour, width)
    p.setStyle(Qt.PenStyle.DashLine)
    return p


# Below ~15 s of view pyqtgraph labels only minutes and "%S.%f" ("50.500", no hour or
# minute): here whole seconds are the major labels and fractions ("…50.5") the minor ones.
_SUBSECOND_ZOOM = ZoomLevel(
    [
        TickSpec(1, makeSStepper(1), "%H:%M:%S", autoSkip=[1, 5, 15, 30]),
        TickSpec(MS_SPACING, makeMSStepper(MS_SPACING), "", autoSkip=[1, 5, 10, 25]),
    ],
    "99:99:99",
)
# What the tick labels of each zoom leave out, said once in the axis title.
_CONTEXT_FORMAT = {id(YEAR_MONTH_ZOOM_LEVEL): "%Y", id(MONTH_DAY_ZOOM_LEVEL): "%b %Y"}
_DAY_FORMAT = "%a {day} %b %Y"  # {day}: the day without a leading zero, on any platform


class _DateAxis(pg.DateAxisItem):
    """pyqtgraph's date axis in UTC, minus minor labels that would collide with a major one
    ("29" beside "Oct"), and minus a minor level whose labels would overprint each other
    (every month over five years on a laptop screen). Seconds keep their hour and minute
    down to the view's one-second limit, and the axis title names the date (and, below
    whole seconds, the minute) the labels leave out."""

    CLEARANCE_PX = 34
    LABEL_GAP_PX = 6
    _show_context = False  # pyqtgraph resizes the axis before __init__ returns

    def __init__(self, show_context: bool = True) -> None:
        super().__init__("bottom", utcOffset=0)
        self.zoomLevels[1] = _SUBSECOND_ZOOM
        self.fontMetrics = QFontMetrics(QFont())  # until a paint gives the painter's
        self._show_context = show_context

    def tickStrings(self, values, scale, spacing):
        if spacing == MS_SPACING:
            return [_fraction_label(v) for v in values]
        return super().tickStrings(values, scale, spacing)

    def tickValues(self, minVal, maxVal, size):
        levels = super().tickValues(minVal, maxVal, size)
        if len(levels) < 2 or size <= 0:
            return levels
        px_per_s = size / (maxVal - minVal)
        clearance = self.CLEARANCE_PX / px_per_s
        major = np.asarray(levels[0][1], dtype=np.float64)
        out = [levels[0]]
        for spacing, values in levels[1:]:
            values = np.asarray(values, dtype=np.float64)
            if len(major) and len(values):
                gap = np.abs(values[:, None] - major[None, :]).min(axis=1)
                values = values[gap >= clearance]
            if not self._fits(values, spacing, px_per_s):
                values = values[:0]
            out.append((spacing, values.tolist()))
        return out

    def _fits(self, values: np.ndarray, spacing: float, px_per_s: float) -> bool:
        """Do neighbouring labels of one level leave a gap between their texts?"""
        if len(values) < 2:
            return True
        metrics = QFontMetrics(self.style.get("tickFont") or QFont())
        widest = max(metrics.horizontalAdvance(s) for s in self.tickStrings(values, 1.0, spacing))
        return float(np.diff(values).min()) * px_per_s >= widest + self.LABEL_GAP_PX

    # -- the title: what the tick labels leave out ---------------------------------
    def setRange(self, mn, mx):
        super().setRange(mn, mx)
        self._update_context()

    def resizeEvent(self, ev=None):
        super().resizeEvent(ev)
        self._update_context()

    def _update_context(self) -> None:
        if not self._show_context or self.label is None:
            return
        lo, hi = self.range
        size = self.geometry().width()
        if hi <= lo or size <= 0:
            return
        self.setZoomLevelForDensity((hi - lo) / size)
        text = _context_text(lo, hi, self.zoomLevel)
        if text != self.labelText:
            self.setLabel(text, color="#4b5563")


def _fraction_label(ts: float) -> str:
    """A sub-second tick as its second and fraction: "…50.5", "…50.25"."""
    ms = round(ts * 1000)
    second, fraction = (ms // 1000) % 60, ms % 1000
    return f"…{second:02d}.{fraction:03d}".rstrip("0")


def _context_text(lo: float, hi: float, level: ZoomLevel) -> str:
    """The dates (and minutes, below whole seconds) from `lo` to `hi`, at the precision
    the tick labels of `level` lack: "Wed 1 Mar 2023 UTC", "Mar 2023 – Apr 2023 UTC"."""
    date_format = _CONTEXT_FORMAT.get(id(level), _DAY_FORMAT)
    minute_format = " %H:%M" if level is _SUBSECOND_ZOOM else ""
    dates = [_utc(t).strftime(date_format.replace("{day}", str(_utc(t).day))) for t in (lo, hi)]
    minutes = [_utc(t).strftime(minute_format) for t in (lo, hi)]
    if dates[0] != dates[1]:
        text = f"{dates[0]}{minutes[0]} – {dates[1]}{minutes[1]}"
    elif minutes[0] != minutes[1]:
        text = f"{dates[0]}{minutes[0]} –{minutes[1]}"
    else:
        text = dates[0] + minutes[0]
    return f"{text} UTC"


class _BoundedByView:
    """Bounds cut to (a margin around) the view. A layer spanning a year is 10^10 pixels
    wide at a one-second zoom, past what Qt's culling can count, and was not drawn."""

    def boundingRect(self):
        rect = super().boundingRect()
        view = self.viewRect()
        if view is None or rect.isEmpty():
            return rect
        margin_x, margin_y = view.width(), view.height()
        return rect.intersected(view.adjusted(-margin_x, -margin_y, margin_x, margin_y))


class _Marks(_BoundedByView, pg.ScatterPlotItem):
    """A mark layer that leaves clicks to the view's numpy picking: pyqtgraph's own search
    builds an object per point on the first click after new data (0.2 s at 100,000)."""

    def mouseClickEvent(self, ev):
        ev.ignore()


class _Lines(_BoundedByView, pg.PlotCurveItem):
    """Lines joining marks, drawn at any zoom (see _BoundedByView)."""


class _TimeBox(pg.ViewBox):
    """A left click picks a mark; Shift+drag, or any left drag while range mode is on,
    draws a time range."""

    sig_drag = Signal(float, float)
    sig_click = Signal(QPointF)

    def __init__(self) -> None:
        super().__init__()
        self.range_mode = False

    def mouseDragEvent(self, ev, axis=None):
        shift = ev.modifiers() & Qt.KeyboardModifier.ShiftModifier
        if ev.button() == Qt.MouseButton.LeftButton and (self.range_mode or shift):
            ev.accept()
            a, b = self.mapToView(ev.buttonDownPos()).x(), self.mapToView(ev.pos()).x()
            self.sig_drag.emit(min(a, b), max(a, b))
            return
        super().mouseDragEvent(ev, axis)

    def mouseClickEvent(self, ev):
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self.sig_click.emit(self.mapToView(ev.pos()))
            return
        super().mouseClickEvent(ev)


class TimelineView(QWidget):
    """Draws the collection in time; reads and writes the shared selection."""

    sig_range = Signal(object, object)  # since, until (datetime or None; None/None: cleared)
    sig_as_of = Signal(object)  # datetime, or None when time travel is off

    def __init__(
        self, service: MemoryService, selection: SelectionModel, parent=None, load: bool = True
    ) -> None:
        """With load=False the owner computes `timeline_events` off the GUI thread and
        calls `set_data` (what the window does: 100,000 memories take a while)."""
        super().__init__(parent)
        self.service = service
        self.selection = selection
        self.data: TimelineData | None = None
        self.highlight: set[str] | None = None
        self._index: dict[str, int] = {}
        self._lanes = np.zeros(0, dtype=np.int64)
        self._lane_labels: list[str] = []
        self._y = np.zeros(0)
        self._retrievals = np.zeros((0, 2))
        self._conflicts: set[str] = set()
        self._conflicts_known = False  # looked for (a large collection waits for the Conflicts tab)
        self._superseded: set[str] = set()
        self._span: tuple[float, float] | None = None
        self._pickable: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._ranged = False
        self._counts = (0, 0, 0)  # drawn memories, change marks, stale memories
        self._as_of_ts: float | None = None  # where time travel was left; the newest time at first

        self._build_controls()
        self._build_plots()
        self.info = QLabel()
        self.info.setTextFormat(Qt.TextFormat.PlainText)
        self.info.setStyleSheet("color: #4b5563")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.controls)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.info)

        self._range_timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._range_timer.timeout.connect(self._emit_range)
        self._as_of_timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._as_of_timer.timeout.connect(self._emit_as_of)
        self._density_timer = QTimer(self, singleShot=True, interval=40)
        self._density_timer.timeout.connect(self._update_density)
        self.box.sigXRangeChanged.connect(lambda *_: self._density_timer.start())
        selection.sig_changed.connect(self._on_selection)
        if load:
            self.refresh()

    # -- building ----------------------------------------------------------------
    def _build_controls(self) -> None:
        self.lanes_box = QComboBox()
        self.lanes_box.addItems(list(LANE_BY))
        self.lanes_box.setToolTip("One lane per agent, user, session or kind")
        self.lanes_box.currentIndexChanged.connect(self._layout_lanes)
        self.range_button = QToolButton(text="Select range", checkable=True)
        self.range_button.setToolTip("Drag across the timeline to filter every view to that time range")
        self.range_button.toggled.connect(self._set_range_mode)
        self.clear_button = QToolButton(text="Clear range")
        self.clear_button.setToolTip("Remove the time range filter")
        self.clear_button.setEnabled(False)
        self.clear_button.clicked.connect(self.clear_range)
        self.as_of_box = QCheckBox("As of")
        self.as_of_box.setToolTip("Show the collection as it was at this time (read-only)")
        self.as_of_edit = QDateTimeEdit(calendarPopup=True, displayFormat="yyyy-MM-dd HH:mm:ss")
        self.as_of_edit.setTimeZone(QTimeZone.utc())
        self.as_of_edit.setEnabled(False)
        self.as_of_slider = QSlider(Qt.Orientation.Horizontal, minimum=0, maximum=SLIDER_STEPS)
        self.as_of_slider.setValue(SLIDER_STEPS)
        self.as_of_slider.setEnabled(False)
        self.as_of_slider.setMinimumWidth(140)
        self.as_of_box.toggled.connect(self._as_of_toggled)
        self.as_of_edit.dateTimeChanged.connect(self._as_of_edited)
        self.as_of_slider.valueChanged.connect(self._as_of_slid)

        self.controls = QHBoxLayout()
        self.controls.setContentsMargins(6, 4, 6, 0)
        self.controls.addWidget(QLabel("Lanes by"))
        self.controls.addWidget(self.lanes_box)
        self.controls.addSpacing(8)
        self.controls.addWidget(self.range_button)
        self.controls.addWidget(self.clear_button)
        self.controls.addStretch(1)
        self.controls.addWidget(self.as_of_box)
        self.controls.addWidget(self.as_of_edit)
        self.controls.addWidget(self.as_of_slider, 1)

    def _build_plots(self) -> None:
        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.setBackground("w")
        self.canvas.ci.layout.setContentsMargins(4, 4, 8, 4)
        self.canvas.ci.layout.setVerticalSpacing(2)
        self.legend = pg.LegendItem(
            colCount=5, labelTextColor="#111827", brush=pg.mkBrush(255, 255, 255, 0), pen=None
        )
        self.canvas.addItem(self.legend, row=0, col=0)
        # As wide as its entries, on the left: a stretched legend scatters its columns.
        self.legend.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.canvas.ci.layout.setAlignment(self.legend, Qt.AlignmentFlag.AlignLeft)
        self.box = _TimeBox()
        self.box.sig_drag.connect(self._dragged)
        self.box.sig_click.connect(self.click_at)
        self.plot = self.canvas.addPlot(
            row=1,
            col=0,
            viewBox=self.box,
            axisItems={"bottom": _DateAxis(), "left": pg.AxisItem("left")},
        )
        self.plot.hideButtons()
        self.plot.showGrid(x=True, y=False, alpha=0.12)
        self.box.invertY(True)
        self.box.setMouseEnabled(x=True, y=False)
        self.box.enableAutoRange(x=False, y=False)
        for name in ("left", "bottom"):
            axis = self.plot.getAxis(name)
            axis.setTextPen("#374151")
            axis.setPen("#9ca3af")
        self.plot.getAxis("left").setStyle(tickLength=0)

        self.strip = self.canvas.addPlot(row=2, col=0, axisItems={"bottom": _DateAxis(show_context=False)})
        self.strip.hideButtons()
        self.strip.setMaximumHeight(72)
        self.strip.setXLink(self.plot)
        self.strip.setMouseEnabled(x=True, y=False)
        self.strip.getAxis("bottom").setStyle(showValues=False)
        self.strip.getAxis("left").setStyle(tickLength=0)
        for name in ("left", "bottom"):
            self.strip.getAxis(name).setPen("#9ca3af")
            self.strip.getAxis(name).setTextPen("#6b7280")
        self.strip.getAxis("left").setTicks([])
        self.strip.setLabel("left", "density", color="#6b7280")
        empty = {"x": np.zeros(1), "y": np.zeros(0)}  # a step curve has one edge more than counts
        self.density_created = pg.PlotCurveItem(
            **empty,
            stepMode="center",
            fillLevel=0,
            brush=pg.mkBrush(78, 121, 167, 110),
            pen=pen("#4e79a7", 1),
        )
        self.density_events = pg.PlotCurveItem(
            **empty, stepMode="center", fillLevel=0, brush=pg.mkBrush(242, 142, 43, 170), pen=None
        )
        self.strip.addItem(self.density_created)
        self.strip.addItem(self.density_events)

        self.bands: list[pg.LinearRegionItem] = []
        self.lifelines = _Lines(connect="pairs", pen=pen("#9ca3af", 1, 120))
        self.created = _Marks(pxMode=True, size=CREATED_SIZE, pen=None, tip=None)
        self.superseded = _Marks(
            pxMode=True,
            size=10,
            pen=_dashed("#6b7280", 1.4),
            brush=QBrush(QColor(229, 231, 235, 160)),
            tip=None,
        )
        self.conflicted = _Marks(
            pxMode=True,
            size=11,
            pen=_dashed("#dc2626", 1.6),
            brush=QBrush(QColor(254, 226, 226, 160)),
            tip=None,
        )
        self.event_items = {
            kind: _Marks(
                pxMode=True,
                symbol=sym,
                size=size,
                brush=pg.mkBrush(colour),
                pen=pen("#1f2937", 0.8),
                tip=None,
            )
            for kind, (sym, colour, size) in EVENT_STYLE.items()
        }
        self.retrievals = _Marks(
            pxMode=True, symbol="|", brush=pg.mkBrush("#374151"), pen=pen("#374151", 1.6), tip=None
        )
        self.ring = _Marks(pxMode=True, size=17, brush=None, pen=pen("#111827", 2.2), tip=None)
        self.region = pg.LinearRegionItem(
            brush=pg.mkBrush(59, 130, 246, 40),
            hoverBrush=pg.mkBrush(59, 130, 246, 60),
            pen=pen("#2563eb", 1.5),
        )
        self.region.setZValue(-5)
        self.region.hide()
        self.region.sigRegionChanged.connect(lambda *_: self._range_timer.start())
        self.future = pg.LinearRegionItem(movable=False, brush=pg.mkBrush(17, 24, 39, 22), pen=pg.mkPen(None))
        self.future.setZValue(-6)
        self.future.hide()
        self.as_of_line = pg.InfiniteLine(
            angle=90,
            movable=True,
            pen=pen("#111827", 1.5),
            hoverPen=pen("#2563eb", 2),
            label="as of",
            labelOpts={"position": 0.02, "color": "#111827", "fill": (255, 255, 255, 200)},
        )
        self.as_of_line.hide()
        self.as_of_line.sigPositionChanged.connect(self._as_of_dragged)
        for item in (self.region, self.future, self.lifelines, self.created):
            self.plot.addItem(item)
        for item in (self.superseded, self.conflicted, *self.event_items.values(), self.retrievals):
            self.plot.addItem(item)
        for item in (self.ring, self.as_of_line):
            self.plot.addItem(item, ignoreBounds=True)
        self._hover_proxy = pg.SignalProxy(
            self.canvas.scene().sigMouseMoved, rateLimit=30, slot=self._hovered
        )
        self._fill_legend()

    def _fill_legend(self) -> None:
        def sample(**kw) -> pg.ScatterPlotItem:
            return pg.ScatterPlotItem(**{"size": 10, "pen": None, **kw})

        self.legend.addItem(sample(brush=pg.mkBrush(QUALITATIVE[0])), "created")
        for kind, (sym, colour, size) in EVENT_STYLE.items():
            name = "status change" if kind == "status" else kind
            self.legend.addItem(
                sample(symbol=sym, size=size, brush=pg.mkBrush(colour), pen=pen("#1f2937", 0.8)), name
            )
        self.legend.addItem(
            sample(pen=self.superseded.opts["pen"], brush=self.superseded.opts["brush"]), "superseded"
        )
        self.legend.addItem(
            sample(pen=self.conflicted.opts["pen"], brush=self.conflicted.opts["brush"]), "open conflict"
        )
        self.legend.addItem(sample(symbol="|", pen=pen("#374151", 1.6)), "retrieval")
        self.legend.addItem(sample(size=14, brush=None, pen=pen("#111827", 2)), "selected")

    # -- content -------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read the collection and its journal (call after changes)."""
        self.set_data(timeline_events(self.service))

    def set_data(self, data: TimelineData) -> None:
        """Draw data computed elsewhere (e.g. `timeline_events` on a worker thread)."""
        # A view showing everything keeps doing so as the data grows; a zoom stays put.
        initial = self.data is None
        follow = initial or self._span is None or self._showing_all()
        self.data = data
        self._index = {r.id: i for i, r in enumerate(data.records)}
        self._superseded = superseded_ids(data.records)
        # Per-memory facts lanes and redraws reuse: computed once per data, not per redraw.
        self._jitter = jitter(r.id for r in data.records)
        n = len(data.records)
        self._hidden = np.fromiter((r.status in HIDDEN_STATUSES for r in data.records), dtype=bool, count=n)
        if initial and len(lane_keys(data.records, "agent")[1]) == 1:
            self.lanes_box.blockSignals(True)  # one agent (an import): people make better lanes
            self.lanes_box.setCurrentText("user")
            self.lanes_box.blockSignals(False)
        self._layout_lanes()
        self._update_span()
        if follow and self._span is not None:
            self.show_all()
        self._update_density()  # now, not after the zoom debounce: the strip belongs to the data

    def set_retrievals(self, times) -> None:
        """Retrievals as (epoch seconds, hit count) pairs, drawn in their own top lane."""
        arr = np.asarray(list(times), dtype=np.float64).reshape(-1, 2)
        follow = self._span is None or self._showing_all()
        self._retrievals = arr[np.isfinite(arr[:, 0])]
        self._draw_retrievals()
        self._set_lane_ticks()
        self._update_span()
        if follow and self._span is not None:
            self.show_all()  # a search made today is in view, not beyond the right edge
        if self.data is not None:
            self._show_info()

    def set_conflicts(self, pairs) -> None:
        """Pairs (or `Conflict`s) of memories in open conflicts, drawn as stale."""
        self._conflicts = conflict_ids(pairs)
        self._conflicts_known = True
        self._draw_marks()

    def set_highlight(self, ids: set[str] | None) -> None:
        """Search matches are lit, the rest faded; None lights everything."""
        self.highlight = ids
        self._draw_marks()

    def show_all(self) -> None:
        if self._span is not None:
            lo, hi = self._span
            pad = max((hi - lo) * 0.03, 60.0)
            self.box.setXRange(lo - pad, hi + pad, padding=0)

    def _showing_all(self) -> bool:
        lo, hi = self.box.viewRange()[0]
        return self._span is not None and lo <= self._span[0] and hi >= self._span[1]

    def _update_span(self) -> None:
        data = self.data
        span = data.time_span() if data is not None else None
        if len(self._retrievals):
            r = self._retrievals[:, 0]
            span = (min(span[0], r.min()), max(span[1], r.max())) if span else (r.min(), r.max())
        self._span = span
        if span is None:
            return
        lo, hi = span
        pad = max((hi - lo) * 0.25, 3600.0)
        self.box.setLimits(xMin=lo - pad, xMax=hi + pad, minXRange=1.0)
        edit = self.as_of_edit
        edit.blockSignals(True)
        edit.setDateTimeRange(_qt_time(lo), _qt_time(hi + 1))
        edit.blockSignals(False)
        self._move_as_of(hi if self._as_of_ts is None else self._as_of_ts)
        if not self.as_of_box.isChecked():
            self._as_of_ts = None  # until time travel is used, it starts at the newest time

    # -- lanes and marks -----------------------------------------------------------
    def _layout_lanes(self, *_args) -> None:
        data = self.data
        if data is None:
            return
        self._lanes, self._lane_labels = lane_keys(data.records, self.lanes_box.currentText(), MAX_LANES)
        self._y = self._lanes + self._jitter
        n = max(len(self._lane_labels), 1)
        for band in self.bands:
            self.plot.removeItem(band)
        # Alternate lanes get a faint band so a row reads across the whole width.
        self.bands = [
            pg.LinearRegionItem(
                (lane - 0.5, lane + 0.5),
                orientation="horizontal",
                movable=False,
                brush=pg.mkBrush(243, 244, 246, 255),
                pen=pg.mkPen(None),
            )
            for lane in range(0, n, 2)
        ]
        for band in self.bands:
            band.setZValue(-20)
            self.plot.addItem(band, ignoreBounds=True)
        self._draw_marks()
        self._draw_retrievals()
        self._set_lane_ticks()

    def _member(self, ids: set[str]) -> np.ndarray:
        """Per memory: is its id in `ids`? (No loop at all for the usual empty set.)"""
        n = len(self.data.records)
        if not ids:
            return np.zeros(n, dtype=bool)
        return np.fromiter((r.id in ids for r in self.data.records), dtype=bool, count=n)

    def _lane_brushes(self) -> np.ndarray:
        """brushes[lane, alpha level]: levels are normal, hidden status, faded by a search."""
        out = np.empty((max(len(self._lane_labels), 1), 3), dtype=object)
        for lane in range(out.shape[0]):
            label = self._lane_labels[lane] if lane < len(self._lane_labels) else ""
            grey = label in (NONE_LANE, OTHER_LANE) or lane >= len(QUALITATIVE)
            for level, alpha in enumerate((230, HIDDEN_ALPHA, FADED_ALPHA)):
                colour = QColor(OTHER if grey else QUALITATIVE[lane])
                colour.setAlpha(alpha)
                out[lane, level] = QBrush(colour)
        return out

    def _draw_marks(self) -> None:
        data = self.data
        if data is None:
            return
        x, y = data.created, self._y
        known = np.isfinite(x)
        is_super, is_conf = self._member(self._superseded), self._member(self._conflicts)
        level = np.where(self._hidden, 1, 0)
        if self.highlight is not None:
            level = np.where(self._member(self.highlight), level, 2)
        plain = np.flatnonzero(known & ~is_super & ~is_conf)
        brushes = self._lane_brushes()[self._lanes[plain], level[plain]]
        self.created.setData(x=x[plain], y=y[plain], data=plain, brush=brushes)
        sup, conf = np.flatnonzero(known & is_super & ~is_conf), np.flatnonzero(known & is_conf)
        self.superseded.setData(x=x[sup], y=y[sup], data=sup)
        self.conflicted.setData(x=x[conf], y=y[conf], data=conf)
        self._pickable["created"] = (x[plain], y[plain], plain)
        self._pickable["superseded"] = (x[sup], y[sup], sup)
        self._pickable["conflict"] = (x[conf], y[conf], conf)

        on_row = data.event_index >= 0
        for kind, item in self.event_items.items():
            rows = np.flatnonzero(on_row & (data.event_kind == kind))
            mem = data.event_index[rows]
            ex, ey = data.event_time[rows], y[mem]
            item.setData(x=ex, y=ey, data=mem)
            self._pickable[kind] = (ex, ey, rows)
        # A thin line joins a memory's creation to each of its changes: one row, one story.
        rows = np.flatnonzero(on_row)
        rows = rows[known[data.event_index[rows]]]
        mem = data.event_index[rows]
        xs = np.column_stack([x[mem], data.event_time[rows]]).reshape(-1)
        ys = np.repeat(y[mem], 2)
        self.lifelines.setData(xs, ys, connect="pairs")
        self._on_selection(self.selection.ids, self.selection.current, None)
        self._counts = (int(known.sum()), int(on_row.sum()), len(sup) + len(conf))
        self._show_info()

    def _draw_retrievals(self) -> None:
        r = self._retrievals
        sizes = np.clip(8 + 3 * np.log2(1 + r[:, 1]), 8, 22) if len(r) else []
        ys = np.full(len(r), RETRIEVAL_LANE)
        self.retrievals.setData(x=r[:, 0], y=ys, size=sizes, data=np.arange(len(r)))
        self._pickable["retrieval"] = (r[:, 0], ys, np.arange(len(r)))
        top = RETRIEVAL_TOP if len(r) else -0.6
        self.box.setYRange(top, max(len(self._lane_labels), 1) - 0.4, padding=0)

    def _set_lane_ticks(self) -> None:
        """Lane names on the left axis; with more lanes than fit, every k-th is named."""
        labels = self._lane_labels
        counts = np.bincount(self._lanes, minlength=len(labels)) if len(labels) else []
        texts = [self._lane_text(label, int(c)) for label, c in zip(labels, counts, strict=True)]
        px = max(self.box.height(), 1.0) / max(len(labels) + (1.5 if len(self._retrievals) else 0.5), 1)
        step = max(1, int(np.ceil(14 / px)))
        ticks = [(float(n), texts[n]) for n in range(0, len(labels), step)]
        if len(self._retrievals):
            ticks.insert(0, (RETRIEVAL_LANE, "retrievals"))
        axis = self.plot.getAxis("left")
        axis.setTicks([ticks, []])
        metrics = QFontMetrics(axis.style.get("tickFont") or self.font())
        width = max((metrics.horizontalAdvance(t) for _, t in ticks), default=40) + 14
        for plot in (self.plot, self.strip):
            plot.getAxis("left").setWidth(int(np.clip(width, 60, 240)))

    @staticmethod
    def _lane_text(label: str, count: int) -> str:
        short = label if len(label) <= LANE_LABEL_CHARS else label[: LANE_LABEL_CHARS - 1] + "…"
        return f"{short} ({count:,})"

    def _update_density(self) -> None:
        data = self.data
        if data is None:
            return
        lo, hi = self.box.viewRange()[0]
        edges, counts = density(data.created, DENSITY_BINS, (lo, hi))
        self.density_created.setData(edges, counts)
        edges, counts = density(data.event_time, DENSITY_BINS, (lo, hi))
        self.density_events.setData(edges, counts)
        self._show_info()

    def _show_info(self) -> None:
        data = self.data
        marks, changes, stale = self._counts
        undated = len(data.records) - marks
        lo, hi = self.box.viewRange()[0]
        fmt = (
            "%Y-%m-%d %H:%M:%S" if hi - lo < 3600 else "%Y-%m-%d %H:%M" if hi - lo < 3 * 86400 else "%Y-%m-%d"
        )
        parts = [
            f"{_utc(lo):{fmt}} – {_utc(hi):{fmt}} UTC",
            f"{marks:,} memories",
            f"{changes:,} changes",
            f"{len(self._retrievals):,} retrievals",
        ]
        if stale:
            parts.append(f"{stale:,} stale")
        if undated:
            parts.append(f"{undated:,} without a time (not drawn)")
        if not self._conflicts_known:
            parts.append("conflicts not looked for yet (the Conflicts tab finds them)")
        parts.append("Shift+drag: select a time range · wheel: zoom")
        self.info.setText(" · ".join(parts))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._set_lane_ticks()

    # -- selection and picking ------------------------------------------------------
    def _on_selection(self, ids: list, current: str, source: object) -> None:
        data = self.data
        if data is None:
            return
        idx = np.array([self._index[i] for i in ids if i in self._index], dtype=np.int64)
        x, y = data.created[idx], self._y[idx]
        rows = np.flatnonzero(np.isin(data.event_index, idx)) if len(idx) else np.zeros(0, dtype=np.int64)
        xs = np.concatenate([x, data.event_time[rows]])
        ys = np.concatenate([y, self._y[data.event_index[rows]]])
        keep = np.isfinite(xs)
        self.ring.setData(x=xs[keep], y=ys[keep])

    def click_at(self, pos: QPointF) -> None:
        """A left click at `pos` (view coordinates): the memory of the mark there is selected."""
        hit = self.mark_at(pos)
        if hit is None or hit[0] == "retrieval":
            return
        layer, row = hit
        i = int(self.data.event_index[row]) if layer in EVENT_KINDS else row
        memory_id = self.data.records[i].id
        self.selection.set([memory_id], source=self)
        self._on_selection([memory_id], memory_id, self)

    def mark_at(self, pos: QPointF) -> tuple[str, int] | None:
        """The mark nearest `pos` (view coordinates) within a few pixels: (layer, row)."""
        sx, sy = self.box.viewPixelSize()
        best: tuple[float, str, int] | None = None
        for layer, (x, y, rows) in self._pickable.items():
            if not len(x):
                continue
            d = ((x - pos.x()) / sx) ** 2 + ((y - pos.y()) / sy) ** 2
            i = int(np.argmin(d))
            if d[i] <= PICK_PX**2 and (best is None or d[i] < best[0]):
                best = (float(d[i]), layer, int(rows[i]))
        return None if best is None else (best[1], best[2])

    def describe(self, layer: str, row: int) -> str:
        """The plain text a tooltip shows for one mark."""
        data = self.data
        if layer == "retrieval":
            t, hits = self._retrievals[row]
            return f"retrieval · {int(hits)} hit{'s' if int(hits) != 1 else ''}\n{_when(t)}"
        if layer in EVENT_KINDS:
            r = data.records[data.event_index[row]]
            head = f"{layer} · {data.event_label[row]}\n{_when(data.event_time[row])}"
        else:
            r = data.records[row]
            head = f"created · {_when(data.created[row])}"
            if r.id in self._superseded:
                head += f"\nsuperseded since {r.valid_to:%Y-%m-%d %H:%M}"
            if r.id in self._conflicts:
                head += "\nin an open conflict"
        owner = " · ".join(v for v in (r.owner, r.agent_id, r.session_id, r.kind, r.status.value) if v)
        text = " ".join(r.text[:400].split())
        return f"{head}\n{owner}\n\n{text[:300]}{'…' if len(text) > 300 else ''}"

    def tooltip_at(self, pos: QPointF) -> str | None:
        """The tooltip for the mark at `pos` (view coordinates): rich text around escaped text."""
        hit = self.mark_at(pos) if self.data is not None else None
        return None if hit is None else plain_tooltip(self.describe(*hit), limit=900)

    def _hovered(self, args) -> None:
        scene_pos = args[0]
        tip = None
        if self.box.sceneBoundingRect().contains(scene_pos):
            tip = self.tooltip_at(self.box.mapSceneToView(scene_pos))
        if tip is None:
            QToolTip.hideText()
            return
        screen = self.canvas.mapToGlobal(self.canvas.mapFromScene(scene_pos))
        QToolTip.showText(screen, tip, self.canvas)

    # -- time range ---------------------------------------------------------------
    def _set_range_mode(self, on: bool) -> None:
        self.box.range_mode = on

    def _dragged(self, x0: float, x1: float) -> None:
        self.region.setRegion((x0, x1))
        self.region.show()
        self._ranged = True
        self.clear_button.setEnabled(True)

    def set_range(self, since: datetime | None, until: datetime | None) -> None:
        """Show a time range (emits sig_range after the debounce, as a drag does)."""
        if since is None and until is None:
            self.clear_range()
            return
        lo, hi = self.box.viewRange()[0]
        self._dragged(since.timestamp() if since else lo, until.timestamp() if until else hi)

    def selected_range(self) -> tuple[datetime, datetime] | None:
        if not self._ranged:
            return None
        lo, hi = self.region.getRegion()
        return _utc(lo), _utc(hi)

    def clear_range(self) -> None:
        self._range_timer.stop()
        self.region.hide()
        self.clear_button.setEnabled(False)
        if self._ranged:
            self._ranged = False
            self.sig_range.emit(None, None)

    def _emit_range(self) -> None:
        chosen = self.selected_range()
        if chosen is not None:
            self.sig_range.emit(*chosen)

    # -- as of ---------------------------------------------------------------------
    def as_of_time(self) -> datetime | None:
        if not self.as_of_box.isChecked():
            return None
        return _utc(self.as_of_edit.dateTime().toSecsSinceEpoch())

    def set_as_of(self, when: datetime | None) -> None:
        """Switch time travel on at `when`, or off with None (emits sig_as_of once)."""
        if when is not None:
            self._move_as_of(when.timestamp())
        on = when is not None
        if self.as_of_box.isChecked() != on:
            self.as_of_box.setChecked(on)  # which emits, through _as_of_toggled
            return
        self._as_of_timer.stop()  # already on (or off): no toggle would say it moved
        self._emit_as_of()

    def _as_of_toggled(self, on: bool) -> None:
        for w in (self.as_of_edit, self.as_of_slider):
            w.setEnabled(on)
        self.as_of_line.setVisible(on)
        self.future.setVisible(on)
        if on and self._span is not None:
            self._move_as_of(self._span[1] if self._as_of_ts is None else self._as_of_ts)
        self._as_of_timer.stop()
        self._emit_as_of()

    def _move_as_of(self, ts: float, source: object = None) -> None:
        """Put the date edit, the slider and the line at `ts` without echoing back."""
        if self._span is not None:
            lo, hi = self._span
            ts = min(max(ts, lo), hi + 1)
        self._as_of_ts = ts
        for w in (self.as_of_edit, self.as_of_slider, self.as_of_line):
            w.blockSignals(True)
        if source is not self.as_of_edit:
            self.as_of_edit.setDateTime(_qt_time(ts))
        if source is not self.as_of_slider and self._span is not None:
            lo, hi = self._span
            self.as_of_slider.setValue(round((ts - lo) / max(hi - lo, 1e-9) * SLIDER_STEPS))
        if source is not self.as_of_line:
            self.as_of_line.setValue(ts)
        for w in (self.as_of_edit, self.as_of_slider, self.as_of_line):
            w.blockSignals(False)
        right = self.box.state["limits"]["xLimits"][1]
        self.future.setRegion((ts, max(right or ts + 1, ts + 1)))

    def _as_of_edited(self, value: QDateTime) -> None:
        self._move_as_of(value.toSecsSinceEpoch(), self.as_of_edit)
        self._as_of_timer.start()

    def _as_of_slid(self, value: int) -> None:
        if self._span is not None:
            lo, hi = self._span
            self._move_as_of(lo + (hi - lo) * value / SLIDER_STEPS, self.as_of_slider)
            self._as_of_timer.start()

    def _as_of_dragged(self, line: pg.InfiniteLine) -> None:
        self._move_as_of(line.value(), self.as_of_line)
        self._as_of_timer.start()

    def _emit_as_of(self) -> None:
        self.sig_as_of.emit(self.as_of_time())
