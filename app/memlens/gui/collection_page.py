"""One open collection: filter bar, the views (table, graph, map, timeline, curation, traces)
and the inspector, sharing one selection."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QFileDialog, QSplitter, QTabWidget, QVBoxLayout, QWidget

from memlens.core import bulk
from memlens.core.graph import GraphOptions, to_graphml
from memlens.core.graph_scene import GraphScene, compute_scene, update_scene
from memlens.core.merge import merge, merge_problem
from memlens.core.profiles import profile_label
from memlens.core.query import Filter, SearchHit
from memlens.core.record import Status
from memlens.core.service import Change, MemoryService
from memlens.core.timeline import TimelineData, as_of, select_in, timeline_events
from memlens.core.watch import EditConflict
from memlens.core.workspace import data_dir
from memlens.gui.bridge import ServiceBridge
from memlens.gui.bulk_dialog import BulkDialog
from memlens.gui.conflicts_panel import ConflictsPanel
from memlens.gui.curation_panel import CurationPanel
from memlens.gui.duplicates_panel import DuplicatesPanel
from memlens.gui.filter_bar import KEYWORD, FilterBar
from memlens.gui.graph_view import GraphView
from memlens.gui.inspector import Inspector
from memlens.gui.layout import stacked
from memlens.gui.lazy_tabs import LazyTabs
from memlens.gui.memory_table import MemoryTableModel, MemoryTableView
from memlens.gui.merge_dialog import MergeDialog
from memlens.gui.review_panel import ReviewPanel
from memlens.gui.selection import SelectionModel
from memlens.gui.sessions_panel import session_tints
from memlens.gui.timeline_view import TimelineView
from memlens.gui.traces_panel import TracesPanel
from memlens.gui.trash_panel import TrashPanel
from memlens.gui.workers import TaskSlot, Workers
from memlens.plugin_host.sessions import DELETED

SEARCH_K = 50
TIMELINE_RETRIEVALS = 5000  # newest traces drawn in the timeline's retrieval lane
CONFLICTS_WITH_TIMELINE = 20_000  # up to this size, opening the timeline also finds conflicts
# The timeline marks as stale only likely conflicts; the Conflicts tab lists weaker candidates too.
STALE_CONFLICT_SIMILARITY = 0.8


class CollectionPage(QWidget):
    sig_applied = Signal(object)  # Change made by this page, for the undo stack
    sig_counts = Signal(str)  # text for the status bar
    sig_error = Signal(str)

    def __init__(self, service: MemoryService, workers: Workers, parent=None) -> None:
        super().__init__(parent)
        self.service = service
        self.workers = workers
        self.selection = SelectionModel(self)
        self.bridge = ServiceBridge(service, self)
        self._query_slot = TaskSlot()
        self._scene_slot = TaskSlot()
        self._scene_stale = True
        self.scene: GraphScene | None = None
        # Memories changed since the scene shown was read: the next one is made from it.
        self._scene_changes: set[str] = set()
        self._scene_full_wanted = self._scene_full_done = 0  # changes that need a rebuild
        self._graph_options = GraphOptions()
        self._map_method = "pca"
        self._search = ("", KEYWORD)
        self._time_range: tuple[datetime | None, datetime | None] = (None, None)
        self._timeline_slot = TaskSlot()
        self._timeline_stale = True
        self._as_of_slot = TaskSlot()

        self.filter_bar = FilterBar()
        self.model = MemoryTableModel(service, self)
        self.table = MemoryTableView(self.model, self.selection)
        self.inspector = Inspector(service, self.selection)
        self.views = QTabWidget()
        self.views.setDocumentMode(True)
        # The plots are made when first shown (or asked for): the table comes first.
        self.lazy = LazyTabs(self.views)
        self._stale_conflicts: list | None = None
        self._query_vector = None
        self.views.addTab(self.table, "Table")
        self.lazy.add("Graph", lambda: self._make_graph_view("graph"))
        self.lazy.add("Semantic map", lambda: self._make_graph_view("map"))
        self.lazy.add("Timeline", self._make_timeline)
        self.panels = {
            "Duplicates": DuplicatesPanel(service, workers, self.selection),
            "Conflicts": ConflictsPanel(service, workers, self.selection),
            "Review": ReviewPanel(service, workers, self.selection),
            "Trash": TrashPanel(service, workers, self.selection),
        }
        for name, panel in self.panels.items():
            self.views.addTab(panel, name)
            panel.sig_applied.connect(self.sig_applied.emit)
        self.lazy.add("Traces", self._make_traces_panel)
        self.panels["Conflicts"].sig_found.connect(self._on_conflicts_found)
        self.views.currentChanged.connect(self._on_view_changed)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(stacked(self.filter_bar, self.views))
        splitter.addWidget(self.inspector)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([640, 360])  # proportions; the table gets the larger share
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

        self.filter_bar.sig_filter_changed.connect(lambda _f: self.requery())
        self.filter_bar.sig_search.connect(self._on_search)
        self.inspector.sig_save.connect(self.save)
        self.inspector.sig_status.connect(self.set_status)
        self.bridge.sig_changed.connect(self._on_service_change)
        self.refresh_facets()
        self.requery()

    # -- the tabs made when first shown ----------------------------------------------
    @property
    def graph_view(self) -> GraphView:
        return self.lazy.widget("Graph")

    @property
    def map_view(self) -> GraphView:
        return self.lazy.widget("Semantic map")

    @property
    def timeline(self) -> TimelineView:
        return self.lazy.widget("Timeline")

    @property
    def traces_panel(self) -> TracesPanel:
        return self.lazy.widget("Traces")

    def _made(self, *titles: str) -> list:
        return [w for w in map(self.lazy.made, titles) if w is not None]

    def _make_graph_view(self, kind: str) -> GraphView:
        view = GraphView(self.selection, kind)
        view.sig_export.connect(self._ask_export)
        view.sig_rebuild.connect(lambda: self._ensure_scene(force=True))
        view.sig_options.connect(self._on_graph_options)
        view.set_graph_options(self._graph_options, self._map_method)
        view.set_highlight(self._shown_lit())
        if self.scene is not None:
            view.set_scene(self.scene)
        if kind == "map" and self._query_vector is not None:
            view.set_query_vector(self._query_vector)
        return view

    def _make_timeline(self) -> TimelineView:
        timeline = TimelineView(self.service, self.selection, load=False)
        timeline.sig_range.connect(self._on_time_range)
        timeline.sig_as_of.connect(self._on_as_of)
        timeline.set_highlight(self._shown_lit())
        if self._stale_conflicts is not None:
            timeline.set_conflicts(self._stale_conflicts)
        return timeline

    def _make_traces_panel(self) -> TracesPanel:
        panel = TracesPanel(self.service, self.workers, self.selection)
        panel.sig_highlight.connect(self._set_highlight)
        panel.sig_query_point.connect(self._on_query_point)
        return panel

    def _on_query_point(self, vector) -> None:
        self._query_vector = vector
        for view in self._made("Semantic map"):
            view.set_query_vector(vector)

    def _on_conflicts_found(self, found) -> None:
        self._stale_conflicts = [c for c in found if c.similarity >= STALE_CONFLICT_SIMILARITY]
        for timeline in self._made("Timeline"):
            timeline.set_conflicts(self._stale_conflicts)

    def _reload_traces_list(self) -> None:
        """A retrieval was just recorded: list it now if the list is in view, else when it
        is next shown. Listing reads up to 500 traces with their hits (~0.5 s at 500), and
        every search as you type records one."""
        panel = self.lazy.made("Traces")
        if panel is None or not panel.loaded:
            return
        if self.views.currentWidget() is panel:
            panel.load()
        else:
            panel.loaded = False

    # -- reading ---------------------------------------------------------------
    def refresh_facets(self) -> None:
        self.filter_bar.set_facets(self.service.facets())
        self.filter_bar.set_time_bounds(*self.service.time_bounds())

    def _base_filter(self) -> Filter:
        """The filter bar's filter, narrowed to the range dragged on the timeline."""
        flt = self.filter_bar.current_filter()
        since, until = self._time_range
        if since is not None:
            flt = Filter(**{**flt.__dict__, "since": max(filter(None, (flt.since, since)))})
        if until is not None:
            flt = Filter(**{**flt.__dict__, "until": min(filter(None, (flt.until, until)))})
        return flt

    def current_filter(self) -> Filter:
        flt = self._base_filter()
        text, mode = self._search
        if text and mode == KEYWORD:
            flt = Filter(**{**flt.__dict__, "text": text})
        return flt

    def requery(self) -> None:
        """Run the current filter or search off the GUI thread; the newest request wins."""
        flt = self.current_filter()
        text, mode = self._search
        graph_filter = self._base_filter()
        if graph_filter != getattr(self, "_graph_filter", None):
            self._graph_filter = graph_filter
            self._scene_stale = True
            self._ensure_scene()
        snapshot = self.model.snapshot
        if snapshot is not None:  # "as of": the past is in memory; search it by keyword
            flt = Filter(**{**flt.__dict__, "text": text}) if text else flt
            task = self.workers.read(
                "Filtering the past", lambda ctx: select_in(snapshot, flt), self._show_ids
            )
        elif text and mode != KEYWORD:
            task = self.workers.read(
                "Searching", lambda ctx: self.service.semantic_search(text, SEARCH_K, flt), self._show_hits
            )
        else:
            task = self.workers.read("Filtering", lambda ctx: self.service.select(flt), self._show_ids)
        self._query_slot.replace(task)

    def _show_ids(self, ids: list[str]) -> None:
        self.model.set_ids(ids)
        self._set_highlight(set(ids) if self._search[0] else None)
        self._after_rows()

    def _show_hits(self, hits: list[SearchHit]) -> None:
        self.model.set_hits(hits)
        self._set_highlight({h.record.id for h in hits})
        self._after_rows()
        self._reload_traces_list()  # the search was just recorded as a trace

    def _set_highlight(self, ids: set[str] | None) -> None:
        self._lit = ids
        for view in self._made("Graph", "Semantic map", "Timeline"):
            view.set_highlight(self._shown_lit())

    def _shown_lit(self) -> set[str] | None:
        # A live session's memories stay lit while nothing else is.
        return self._session_lit if self._lit is None else self._lit

    def _on_view_changed(self, _index: int) -> None:
        panel = self.views.currentWidget()
        if isinstance(panel, CurationPanel | TracesPanel) and not panel.loaded:
            panel.load()  # lists are computed when first looked at
        self._ensure_scene()
        self._ensure_timeline()

    # -- live agent sessions (plugins; see gui/plugin_bridge.py) ----------------
    _lit: set[str] | None = None  # what a search or an open trace lights
    _session_lit: set[str] | None = None

    def mark_session_memories(self, marks: dict[str, str] | None) -> None:
        """Show what the session in the Sessions panel wrote: rows it added or changed are
        tinted in the table, and lit in graph, map and timeline unless a search is lit."""
        self.model.set_row_tints(session_tints(marks or {}))
        lit = {mid for mid, what in (marks or {}).items() if what != DELETED}
        self._session_lit = lit or None
        self._set_highlight(self._lit)

    def retrieval_recorded(self) -> None:
        """A session's retrieval was traced: list it and draw it in the retrieval lane."""
        self._timeline_stale = True
        self._ensure_timeline()
        self._reload_traces_list()

    def open_trace(self, trace_id: str) -> None:
        trace = self.service.traces.get(trace_id) if self.service.traces is not None else None
        if trace is None:
            self.sig_error.emit(f"Trace {trace_id} is no longer kept (see the Traces tab's retention).")
            return
        self.show_view("Traces")
        self.traces_panel.open_trace(trace)

    def show_view(self, name: str) -> None:
        for i in range(self.views.count()):
            if self.views.tabText(i) == name:
                self.views.setCurrentIndex(i)

    # -- curation actions ------------------------------------------------------
    def merge_selected(self) -> None:
        ids = self.selection.ids
        if len(ids) < 2:
            self.sig_error.emit(
                "Select two or more memories to merge (Ctrl+click or Shift+click in the table)."
            )
            return
        problem = merge_problem(self.service, ids)
        if problem:
            self.sig_error.emit(problem)
            return
        dialog = MergeDialog(self.service.records(ids), self.workers, parent=self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            text = dialog.merged_text
            self.workers.write(
                "Merging", lambda ctx: merge(self.service, ids, text)[0], self.sig_applied.emit
            )

    def bulk_change(self) -> None:
        """On the selection when several memories are selected, else on everything listed."""
        ids = self.selection.ids if len(self.selection.ids) > 1 else self.model.ids
        scope = f"{len(ids)} selected" if len(self.selection.ids) > 1 else f"{len(ids)} listed by the filter"
        dialog = BulkDialog(self.service, ids, scope, parent=self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            change = dialog.change()
            self.workers.write(
                "Bulk change", lambda ctx: bulk.apply(self.service, ids, change), self.sig_applied.emit
            )

    # -- graph and map ---------------------------------------------------------
    def _ensure_scene(self, force: bool = False) -> None:
        """(Re)build the graph scene when a graph view is showing and the data moved on.

        After edits, adds and deletes the next scene is made from the one shown (only the
        changed memories are asked of the index, positions stay); a new filter, projection
        or Rebuild builds it from scratch.
        """
        if self.lazy.current_title() not in ("Graph", "Semantic map"):
            return
        if not (self._scene_stale or force):
            return
        self._scene_stale = False
        ids = self.service.select(self._graph_filter)
        previous, key = self.scene, _view_key(self._graph_filter)
        options, method = self._graph_options, self._map_method
        taken, wanted = set(self._scene_changes), self._scene_full_wanted
        full = (
            force
            or previous is None
            or previous.view_key != key
            or previous.method != method
            or wanted != self._scene_full_done
        )
        if full:
            label = "Building graph"

            def work(ctx):
                return compute_scene(self.service, ids, options, data_dir(), method, ctx.progress, key)
        else:
            label = "Updating graph"

            def work(ctx):
                return update_scene(self.service, previous, ids, taken, options, data_dir(), ctx.progress)

        task = self.workers.read(label, work, lambda scene: self._show_scene(scene, taken, wanted))
        self._scene_slot.replace(task)

    def _show_scene(self, scene: GraphScene, taken: set[str] = frozenset(), wanted: int = 0) -> None:
        self.scene = scene
        self._scene_changes -= taken
        self._scene_full_done = max(self._scene_full_done, wanted)
        for view in self._made("Graph", "Semantic map"):
            view.set_scene(scene)

    def _on_graph_options(self, options: GraphOptions, method: str) -> None:
        """New semantic k, threshold, extra nodes or projection, from either view."""
        for view in self._made("Graph", "Semantic map"):
            view.set_graph_options(options, method)
        if (options, method) == (self._graph_options, self._map_method):
            return
        self._graph_options, self._map_method = options, method
        self._scene_stale = True
        self._ensure_scene()

    def _ask_export(self, fmt: str) -> None:
        filters = {"png": "PNG image (*.png)", "svg": "SVG image (*.svg)", "graphml": "GraphML (*.graphml)"}
        name = f"{self.service.store.collection}-{'map' if self._showing_map() else 'graph'}.{fmt}"
        path, _ = QFileDialog.getSaveFileName(self, f"Export {fmt.upper()}", name, filters[fmt])
        if path:
            self.export(fmt, Path(path))

    def export(self, fmt: str, path: Path) -> None:
        """Write the showing view as PNG/SVG, or the graph as GraphML (opens in Gephi)."""
        import pyqtgraph.exporters as exporters

        view = self.map_view if self._showing_map() else self.graph_view
        if fmt == "graphml":
            if self.scene is not None:
                to_graphml(self.scene.graph, {r.id: r for r in self.scene.records}, str(path))
            return
        if fmt == "svg":
            view.save_svg(path)
            return
        exporter = exporters.ImageExporter(view.plot.getPlotItem())
        exporter.parameters()["width"] = max(view.plot.width() * 2, 1200)
        exporter.export(str(path))

    def _showing_map(self) -> bool:
        return self.lazy.current_title() == "Semantic map"

    # -- timeline --------------------------------------------------------------
    def _ensure_timeline(self) -> None:
        """Recompute the timeline off the GUI thread when it is showing and out of date."""
        if self.lazy.current_title() != "Timeline" or not self._timeline_stale:
            return
        self._timeline_stale = False
        collection = self.service.store.collection
        traces = self.service.traces

        def compute(ctx) -> tuple[TimelineData, list[tuple[float, int]]]:
            data = timeline_events(self.service)
            found = traces.find(collection=collection, limit=TIMELINE_RETRIEVALS) if traces else []
            return data, [(t.time.timestamp(), len(t.hits)) for t in found]

        self._timeline_slot.replace(self.workers.read("Reading the timeline", compute, self._show_timeline))
        conflicts = self.panels["Conflicts"]
        if not conflicts.loaded and len(self.service) <= CONFLICTS_WITH_TIMELINE:
            conflicts.load()  # open conflicts are drawn as stale marks

    def _show_timeline(self, result: tuple[TimelineData, list[tuple[float, int]]]) -> None:
        data, retrievals = result
        self.timeline.set_data(data)
        self.timeline.set_retrievals(retrievals)

    def _on_time_range(self, since: datetime | None, until: datetime | None) -> None:
        self._time_range = (since, until)
        self.requery()

    def _on_as_of(self, when: datetime | None) -> None:
        """Time travel: the table and inspector show the collection as it was at `when`."""
        if when is None:
            self._as_of_slot.replace(self.workers.read("Back to now", lambda ctx: None, self._show_snapshot))
            return
        label = f"as of {when:%Y-%m-%d %H:%M}"
        task = self.workers.read(
            "Rebuilding the past",
            lambda ctx: as_of(self.service, when),
            lambda s: self._show_snapshot(s, label),
        )
        self._as_of_slot.replace(task)

    def _show_snapshot(self, snapshot: dict | None, label: str = "") -> None:
        self.model.snapshot = snapshot
        self.inspector.set_snapshot(snapshot, label)
        self.requery()

    def _after_rows(self) -> None:
        shown = self.model.total()
        what = "results" if self.model.searching else "memories"
        self.filter_bar.count.setText(f"{shown:,} {what}")
        counts = self.service.status_counts()
        total = len(self.service)
        self.sig_counts.emit(
            f"{total:,} memories · {counts[Status.FLAGGED]} flagged · {counts[Status.VERIFIED]} verified · "
            f"{counts[Status.DELETED]} in trash  ·  {profile_label(self.service.store.profile)} store"
        )
        if not self.selection.current and shown:
            self.selection.set([self.model.id_at(0)], source=None)

    def _on_search(self, text: str, mode: str) -> None:
        self._search = (text, mode)
        self.requery()

    # -- writing ---------------------------------------------------------------
    def save(self, memory_id: str, changes: dict) -> None:
        # Saved against the record the edit started from: if another writer changed it in
        # the store meanwhile, the save is refused and the inspector asks the user.
        expected = self.inspector.take_expected(memory_id)

        def work(ctx):
            try:
                return self.service.edit(memory_id, expected=expected, **changes)
            except EditConflict as conflict:
                return conflict

        def done(result) -> None:
            if isinstance(result, EditConflict):
                self.inspector.on_save_conflict(result, changes)
            else:
                self.sig_applied.emit(result)

        self.workers.write("Saving (re-embedding)" if "text" in changes else "Saving", work, done)

    def set_status(self, ids: list[str], status: Status) -> None:
        if ids:
            self.workers.write(
                f"Setting {status.value}",
                lambda ctx: self.service.set_status(ids, status),
                self.sig_applied.emit,
            )

    def delete_selected(self) -> None:
        self.set_status(self.selection.ids, Status.DELETED)

    def restore_selected(self) -> None:
        self.set_status(self.selection.ids, Status.ACTIVE)

    def _on_service_change(self, change: Change) -> None:
        changed = set(change.ids)
        self._scene_changes |= changed
        if not changed:  # the rest of a large store was read, or an unknown outside change
            self._scene_full_wanted += 1
        self._scene_stale = True
        self._ensure_scene()
        self._timeline_stale = True
        self._ensure_timeline()
        self.model.refresh_rows(changed)
        self.inspector.refresh(changed)
        self.refresh_facets()
        self.requery()
        if self.panels["Trash"].loaded:  # in memory and cheap: keep it current
            self.panels["Trash"].load()
        if change.kind in ("undo", "redo") and change.ids:
            # Show what moved: the undone or redone memories become the selection.
            self.selection.set(list(change.ids), source=None)


def _view_key(flt: Filter) -> str:
    """A stable name for the view a filter makes ("" for the default): graph layouts of
    filtered views are cached apart from the whole collection's."""
    if flt.is_default:
        return ""
    parts = []
    for f in dataclasses.fields(flt):
        value = getattr(flt, f.name)
        parts.append(f"{f.name}={sorted(map(str, value)) if isinstance(value, frozenset) else value}")
    return hashlib.sha1("|".join(parts).encode()).hexdigest()[:12]
