"""Pinning a query as a retrieval regression check, and the list of pinned queries.

A pin says, per memory, whether the query must return it, must not return it, or either.
The trace's hits start as "must return"; the memory selected when pinning (often the one
that should have come back, or should not) is offered too, as "either" until chosen.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from memlens.core.pinned import PinnedQuery, PinnedStore
from memlens.core.query import Filter
from memlens.core.ranking import blend_of
from memlens.core.traces import Trace

MUST, MUST_NOT, EITHER = "must return", "must not return", "either"


def _plain_label(text: str) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    return label


def _one_line(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class PinDialog(QDialog):
    """What the pinned query must and must not return, from an open trace."""

    def __init__(
        self,
        trace: Trace,
        text_of: Callable[[str], str | None],
        extra_id: str | None = None,
        collection: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Pin this query")
        self.trace = trace
        self.collection = collection
        rows: list[tuple[str, str, str, str]] = [
            (h.memory_id, str(h.rank), h.text or text_of(h.memory_id) or "", MUST) for h in trace.hits
        ]
        if extra_id and extra_id not in trace.ids:
            rows.append((extra_id, "—", text_of(extra_id) or "", EITHER))
        self.table = QTableWidget(len(rows), 3)
        self.table.setHorizontalHeaderLabels(["Rank", "Memory", "This query"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.choices: dict[str, QComboBox] = {}
        for row, (mid, rank, text, default) in enumerate(rows):
            self.table.setItem(row, 0, QTableWidgetItem(rank))
            item = QTableWidgetItem(_one_line(text))
            item.setToolTip(mid)  # an id is plain text; the memory text is never a tooltip here
            self.table.setItem(row, 1, item)
            box = QComboBox()
            box.addItems([MUST, MUST_NOT, EITHER])
            box.setCurrentText(default)
            self.table.setCellWidget(row, 2, box)
            self.choices[mid] = box
        self.table.resizeColumnToContents(0)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.k = QSpinBox(minimum=1, maximum=10_000, value=max(trace.k, 1))
        self.error = _plain_label("")
        self.error.setStyleSheet("color: #b91c1c;")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Pin")
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        k_row = QHBoxLayout()
        k_row.addWidget(QLabel("Within the top"))
        k_row.addWidget(self.k)
        k_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(_plain_label(f"“{trace.query}”"))
        layout.addWidget(self.table, 1)
        layout.addLayout(k_row)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.resize(760, 520)
        self.pinned: PinnedQuery | None = None

    def set_choice(self, memory_id: str, choice: str) -> None:
        self.choices[memory_id].setCurrentText(choice)

    def build(self) -> PinnedQuery:
        """The pin as chosen; ValueError says what is inconsistent (e.g. nothing chosen)."""
        must = tuple(m for m, box in self.choices.items() if box.currentText() == MUST)
        must_not = tuple(m for m, box in self.choices.items() if box.currentText() == MUST_NOT)
        return PinnedQuery(
            query=self.trace.query, must=must, must_not=must_not, k=self.k.value(),
            filter=self.trace.filter or Filter(), collection=self.collection,
            blend=blend_of(self.trace.source),
        )  # fmt: skip

    def _accept(self) -> None:
        try:
            self.pinned = self.build()
        except ValueError as exc:
            self.error.setText(f"Cannot pin: {exc}.")
            return
        self.accept()


class PinnedListDialog(QDialog):
    """The collection's pinned queries; select and Remove (or Delete) to drop one."""

    def __init__(self, store: PinnedStore, collection: str | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Pinned queries")
        self.store = store
        self.collection = collection
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Query", "k", "must return", "must not return"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove_selected)
        QShortcut(QKeySequence.StandardKey.Delete, self.table, self.remove_selected)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        bottom = QHBoxLayout()
        bottom.addWidget(self.remove_button)
        bottom.addStretch(1)
        bottom.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)
        self.resize(700, 360)
        self.refresh()

    def refresh(self) -> None:
        self.queries = self.store.all(self.collection)
        self.table.setRowCount(len(self.queries))
        for row, q in enumerate(self.queries):
            for col, value in enumerate((q.query, str(q.k), str(len(q.must)), str(len(q.must_not)))):
                self.table.setItem(row, col, QTableWidgetItem(value))
        self.remove_button.setEnabled(bool(self.queries))

    def remove_selected(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        for row in rows:
            self.store.remove(self.queries[row].id)
        if rows:
            self.refresh()
