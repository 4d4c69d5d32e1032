"""The memory table: a lazy Qt model over the ids the service selected, and its view."""

from __future__ import annotations

import html
from typing import ClassVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPalette
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from memlens.core.query import SearchHit
from memlens.core.record import MemoryRecord, Status
from memlens.core.service import MemoryService
from memlens.gui.selection import SelectionModel
from memlens.gui.times import ZONE_NOTE, utc_minute

PAGE = 1000
PREVIEW = 240  # characters of text a cell shows; a 10 MB memory must not reach the painter

STATUS_COLOURS = {
    Status.FLAGGED: QColor("#b45309"),
    Status.VERIFIED: QColor("#15803d"),
    Status.ARCHIVED: QColor("#6b7280"),
    Status.DELETED: QColor("#b91c1c"),
}
STATUS_BRUSHES = {status: QBrush(colour) for status, colour in STATUS_COLOURS.items()}

# Roles as the ints Qt passes to data(); an int compare is cheap, an enum compare is not.
_DISPLAY = int(Qt.ItemDataRole.DisplayRole.value)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole.value)
_BACKGROUND = int(Qt.ItemDataRole.BackgroundRole.value)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole.value)
_USER = int(Qt.ItemDataRole.UserRole.value)
_ROLES = frozenset((_DISPLAY, _TOOLTIP, _BACKGROUND, _FOREGROUND, _USER))


def preview(text: str, limit: int = PREVIEW) -> str:
    head = text[: limit + 1]
    line = " ".join(head.split())
    return line if len(line) <= limit and len(text) <= limit else line[:limit].rstrip() + "…"


def plain_tooltip(text: str, limit: int = 600) -> str:
    """Tooltips render rich text; escaping keeps a memory's HTML visible as text."""
    body = html.escape(text[:limit] + ("…" if len(text) > limit else ""))
    return f"<div style='white-space: pre-wrap; max-width: 480px'>{body}</div>"


COLUMNS = ("Created", "Memory", "User", "Agent", "Session", "Kind", "Status", "Tags")


class MemoryTableModel(QAbstractTableModel):
    """Rows are ids; records are looked up in the service's index when a row is painted.

    Rows appear a page at a time (canFetchMore/fetchMore) so 100,000 memories open at once.
    """

    def __init__(self, service: MemoryService, parent=None) -> None:
        super().__init__(parent)
        self.service = service
        self._ids: list[str] = []
        self._scores: dict[str, float] = {}
        self._shown = 0
        self._tints: dict[str, QBrush] = {}
        self.snapshot: dict[str, MemoryRecord] | None = None  # "as of" time travel: read-only past

    # -- content ---------------------------------------------------------------
    def set_ids(self, ids: list[str]) -> None:
        self.beginResetModel()
        self._ids, self._scores = list(ids), {}
        self._shown = min(PAGE, len(self._ids))
        self.endResetModel()

    def set_hits(self, hits: list[SearchHit]) -> None:
        self.beginResetModel()
        self._ids = [h.record.id for h in hits]
        self._scores = {h.record.id: h.score for h in hits}
        self._shown = len(self._ids)
        self.endResetModel()

    @property
    def ids(self) -> list[str]:
        return list(self._ids)

    @property
    def searching(self) -> bool:
        return bool(self._scores)

    def total(self) -> int:
        return len(self._ids)

    def id_at(self, row: int) -> str:
        return self._ids[row]

    def row_of(self, memory_id: str) -> int:
        try:
            row = self._ids.index(memory_id)
        except ValueError:
            return -1
        if row >= self._shown:  # make the row exist before a view scrolls to it
            self.beginInsertRows(QModelIndex(), self._shown, row)
            self._shown = row + 1
            self.endInsertRows()
        return row

    def refresh_rows(self, ids: set[str]) -> None:
        for row, mid in enumerate(self._ids[: self._shown]):
            if mid in ids:
                self.dataChanged.emit(self.index(row, 0), self.index(row, self.columnCount() - 1))

    # -- Qt model --------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else self._shown

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS) + (1 if self._scores else 0)

    def canFetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> bool:
        return not parent.isValid() and self._shown < len(self._ids)

    def fetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> None:
        more = min(PAGE, len(self._ids) - self._shown)
        if more > 0:
            self.beginInsertRows(QModelIndex(), self._shown, self._shown + more - 1)
            self._shown += more
            self.endInsertRows()

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal:
            return None
        names = (("Score",) if self._scores else ()) + COLUMNS
        name = names[section] if section < len(names) else None
        if role == Qt.ItemDataRole.ToolTipRole and name == "Created":
            return ZONE_NOTE
        return name if role == Qt.ItemDataRole.DisplayRole else None

    def record_at(self, row: int) -> MemoryRecord | None:
        if not 0 <= row < len(self._ids):
            return None
        if self.snapshot is not None:
            return self.snapshot.get(self._ids[row])
        return self.service.get(self._ids[row])

    def set_row_tints(self, tints: dict[str, QBrush]) -> None:
        """Backgrounds for some memories' rows (what a live session added or changed)."""
        self._tints = dict(tints)
        if self._shown:
            self.dataChanged.emit(
                self.index(0, 0),
                self.index(self._shown - 1, self.columnCount() - 1),
                [Qt.ItemDataRole.BackgroundRole],
            )

    @property
    def row_tints(self) -> dict[str, QBrush]:
        return dict(self._tints)

    def data(self, index: QModelIndex | QPersistentModelIndex, role=_DISPLAY):
        # The view asks seven roles of every cell it paints; most get nothing, and must
        # get it before any lookup (a scrolled frame at 10,000 rows spent 40 ms here).
        role = int(role)
        if role not in _ROLES or not index.isValid():
            return None
        record = self.record_at(index.row())
        if record is None:
            return None
        column = index.column() - (1 if self._scores else 0)
        if role == _DISPLAY:
            if column < 0:
                return f"{self._scores.get(record.id, 0.0):.3f}"
            return self._cell(record, column)
        if role == _BACKGROUND:
            return self._tints.get(record.id) if self._tints else None
        if role == _FOREGROUND:
            return STATUS_BRUSHES.get(record.status) if column in (1, 6) else None
        if role == _TOOLTIP:
            return plain_tooltip(record.text) if column == 1 else None
        return record.id  # _USER

    @staticmethod
    def _cell(r: MemoryRecord, column: int) -> str:
        match column:
            case 0:
                return utc_minute(r.created_at)
            case 1:
                return preview(r.text)
            case 2:
                return r.user_id or ""
            case 3:
                return r.agent_id or ""
            case 4:
                return r.session_id or ""
            case 5:
                return r.kind
            case 6:
                return r.status.value
            case 7:
                return ", ".join(r.tags)
        return ""


def table_palette(base: QPalette) -> QPalette:
    """The table's quiet colours, as a palette: as a style-sheet rule they made the style
    sheet engine draw every cell, a third slower (bench/bench_window.py)."""
    palette = QPalette(base)
    for role, colour in (
        (QPalette.ColorRole.Highlight, "#dbeafe"),
        (QPalette.ColorRole.HighlightedText, "#111827"),
        (QPalette.ColorRole.AlternateBase, "#f9fafb"),
        (QPalette.ColorRole.Mid, "#e5e7eb"),  # the grid lines
    ):
        for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
            palette.setColor(group, role, QColor(colour))
    return palette


class MemoryTableView(QTableView):
    """Shows the model and keeps the shared selection in step, both ways."""

    sig_activated = Signal(str)

    def __init__(self, model: MemoryTableModel, selection: SelectionModel, parent=None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self._model = model
        self._selection = selection
        self._syncing = False
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setAlternatingRowColors(True)
        self.setPalette(table_palette(self.palette()))
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(24)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        model.modelReset.connect(self._on_reset)
        self._on_reset()
        self.selectionModel().selectionChanged.connect(self._on_view_selection)
        selection.sig_changed.connect(self._on_shared_selection)
        self.doubleClicked.connect(lambda idx: self.sig_activated.emit(model.id_at(idx.row())))

    # Columns with short, fixed-size content keep their width; agent, session and tags
    # shrink (to half) before the Memory column drops below MEMORY_SHARE of the table.
    FIXED: ClassVar[dict[int, int]] = {0: 128, 2: 64, 5: 84, 6: 70}
    FLEXIBLE: ClassVar[dict[int, int]] = {3: 116, 4: 140, 7: 120}
    SCORE_WIDTH = 58
    MEMORY_SHARE = 0.45

    def _fit_columns(self) -> None:
        offset = 1 if self._model.searching else 0
        avail = self.viewport().width() - (self.SCORE_WIDTH if offset else 0)
        room = avail * (1 - self.MEMORY_SHARE) - sum(self.FIXED.values())
        scale = min(1.0, max(0.5, room / sum(self.FLEXIBLE.values())))
        widths = {**self.FIXED, **{c: int(w * scale) for c, w in self.FLEXIBLE.items()}}
        for col, width in widths.items():
            self.setColumnWidth(col + offset, width)
        if offset:
            self.setColumnWidth(0, self.SCORE_WIDTH)
        self.setColumnWidth(1 + offset, max(160, avail - sum(widths.values())))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_columns()

    def _on_reset(self) -> None:
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        self._fit_columns()
        # New rows: start at the top (best hits, newest memories) unless the current
        # memory is among them, in which case the selection sync scrolls to it.
        self.scrollToTop()
        self._on_shared_selection(self._selection.ids, self._selection.current, None)

    def _on_view_selection(self, *_args) -> None:
        if self._syncing:
            return
        rows = sorted({i.row() for i in self.selectionModel().selectedRows()})
        ids = [self._model.id_at(r) for r in rows]
        current = self.currentIndex()
        cur = (
            self._model.id_at(current.row())
            if current.isValid() and current.row() < self._model.total()
            else None
        )
        self._selection.set(ids, cur if cur in ids else None, source=self)

    def _on_shared_selection(self, ids: list, current: str, source: object) -> None:
        if source is self:
            return
        self._syncing = True
        try:
            sel = self.selectionModel()
            sel.clearSelection()
            flags = sel.SelectionFlag.Select | sel.SelectionFlag.Rows
            for mid in ids:
                row = self._model.row_of(mid)
                if row >= 0:
                    sel.select(self._model.index(row, 0), flags)
            row = self._model.row_of(current) if current else -1
            if row >= 0:
                sel.setCurrentIndex(self._model.index(row, 0), sel.SelectionFlag.NoUpdate)
                self.scrollTo(self._model.index(row, 0))
        finally:
            self._syncing = False
