"""One open collection: filter bar, memory table and inspector, sharing one selection."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from memlens.core.query import Filter, SearchHit
from memlens.core.record import Status
from memlens.core.service import Change, MemoryService
from memlens.gui.bridge import ServiceBridge
from memlens.gui.filter_bar import KEYWORD, FilterBar
from memlens.gui.inspector import Inspector
from memlens.gui.memory_table import MemoryTableModel, MemoryTableView
from memlens.gui.selection import SelectionModel
from memlens.gui.workers import TaskSlot, Workers

SEARCH_K = 50


class CollectionPage(QWidget):
    sig_applied = Signal(object)  # Change made by this page, for the undo stack
    sig_counts = Signal(str)  # text for the status bar

    def __init__(self, service: MemoryService, workers: Workers, parent=None) -> None:
        super().__init__(parent)
        self.service = service
        self.workers = workers
        self.selection = SelectionModel(self)
        self.bridge = ServiceBridge(service, self)
        self._query_slot = TaskSlot()
        self._search = ("", KEYWORD)

        self.filter_bar = FilterBar()
        self.model = MemoryTableModel(service, self)
        self.table = MemoryTableView(self.model, self.selection)
        self.inspector = Inspector(service, self.selection)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.filter_bar)
        left_layout.addWidget(self.table, 1)
        splitter.addWidget(left)
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

    # -- reading ---------------------------------------------------------------
    def refresh_facets(self) -> None:
        self.filter_bar.set_facets(self.service.facets())
        times = [r.created_at for r in self.service.records(self.service.select()) if r.created_at]
        self.filter_bar.set_time_bounds(min(times, default=None), max(times, default=None))

    def current_filter(self) -> Filter:
        flt = self.filter_bar.current_filter()
        text, mode = self._search
        if text and mode == KEYWORD:
            flt = Filter(**{**flt.__dict__, "text": text})
        return flt

    def requery(self) -> None:
        """Run the current filter or search off the GUI thread; the newest request wins."""
        flt = self.current_filter()
        text, mode = self._search
        if text and mode != KEYWORD:
            task = self.workers.read(
                "Searching", lambda ctx: self.service.semantic_search(text, SEARCH_K, flt), self._show_hits
            )
        else:
            task = self.workers.read("Filtering", lambda ctx: self.service.select(flt), self._show_ids)
        self._query_slot.replace(task)

    def _show_ids(self, ids: list[str]) -> None:
        self.model.set_ids(ids)
        self._after_rows()

    def _show_hits(self, hits: list[SearchHit]) -> None:
        self.model.set_hits(hits)
        self._after_rows()

    def _after_rows(self) -> None:
        shown = self.model.total()
        what = "results" if self.model.searching else "memories"
        self.filter_bar.count.setText(f"{shown:,} {what}")
        counts = self.service.status_counts()
        total = len(self.service)
        self.sig_counts.emit(
            f"{total:,} memories · {counts[Status.FLAGGED]} flagged · {counts[Status.VERIFIED]} verified · "
            f"{counts[Status.DELETED]} in trash  ·  {self.service.store.profile} store"
        )
        if not self.selection.current and shown:
            self.selection.set([self.model.id_at(0)], source=None)

    def _on_search(self, text: str, mode: str) -> None:
        self._search = (text, mode)
        self.requery()

    # -- writing ---------------------------------------------------------------
    def save(self, memory_id: str, changes: dict) -> None:
        self.workers.write(
            "Saving (re-embedding)" if "text" in changes else "Saving",
            lambda ctx: self.service.edit(memory_id, **changes),
            self.sig_applied.emit,
        )

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
        self.model.refresh_rows(changed)
        self.inspector.refresh(changed)
        self.refresh_facets()
        self.requery()
        if change.kind in ("undo", "redo") and change.ids:
            # Show what moved: the undone or redone memories become the selection.
            self.selection.set(list(change.ids), source=None)
