"""Shared frame of the curation panels: a list of items, their detail, and action buttons.

Panels take the service, the workers and the shared selection; picking an item selects
its memories everywhere (the inspector shows them). Writes go through the write lane and
come back as a Change for the undo stack (`sig_applied`).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from memlens.core.service import MemoryService
from memlens.gui.selection import SelectionModel
from memlens.gui.workers import Workers


class CurationPanel(QWidget):
    sig_applied = Signal(object)  # Change

    def __init__(
        self, service: MemoryService, workers: Workers, selection: SelectionModel, parent=None
    ) -> None:
        super().__init__(parent)
        self.service = service
        self.workers = workers
        self.selection = selection
        self.items: list = []
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        self.list = QListWidget()
        self.list.currentRowChanged.connect(self._on_row)
        self.detail = QPlainTextEdit(readOnly=True)
        self.buttons = QHBoxLayout()
        self.top = QHBoxLayout()
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.list)
        splitter.addWidget(self.detail)
        splitter.setSizes([240, 260])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(self.top)
        layout.addWidget(self.status)
        layout.addWidget(splitter, 1)
        layout.addLayout(self.buttons)
        self.loaded = False
        self._keys: dict[Qt.Key, Callable[[], None]] = {}
        self.list.installEventFilter(self)
        self.detail.installEventFilter(self)

    # -- building blocks -------------------------------------------------------
    def add_button(
        self, text: str, slot: Callable[[], None], key: str | None = None, tip: str = ""
    ) -> QPushButton:
        button = QPushButton(text + (f"  ({key})" if key else ""))
        button.setToolTip(tip)
        button.clicked.connect(slot)
        if key:
            self._keys[QKeySequence(key)[0].key()] = slot
        self.buttons.addWidget(button)
        return button

    def eventFilter(self, obj, event) -> bool:
        # Triage keys act while the list or detail has focus: a plain letter, no modifiers.
        if (
            event.type() == QEvent.Type.KeyPress
            and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        ):
            slot = self._keys.get(Qt.Key(event.key()))
            if slot is not None:
                slot()
                return True
        return super().eventFilter(obj, event)

    def set_items(self, items: list, labels: list[str]) -> None:
        self.items = items
        self.list.blockSignals(True)
        self.list.clear()
        for label in labels:
            self.list.addItem(QListWidgetItem(label))
        self.list.blockSignals(False)
        if items:
            self.list.setCurrentRow(0)
        else:
            self.detail.setPlainText(self.empty_text())
        self.update_buttons()

    def current(self):
        row = self.list.currentRow()
        return self.items[row] if 0 <= row < len(self.items) else None

    def remove_current(self) -> None:
        """Drop the handled item and move to the next, keeping the user's place."""
        row = self.list.currentRow()
        if 0 <= row < len(self.items):
            del self.items[row]
            self.list.takeItem(row)
            if self.items:
                self.list.setCurrentRow(min(row, len(self.items) - 1))
            else:
                self.detail.setPlainText(self.empty_text())
        self.update_buttons()

    def write(self, label: str, fn: Callable[[], object], then: Callable[[], None] | None = None) -> None:
        def done(change) -> None:
            if change is not None:
                self.sig_applied.emit(change)
            if then:
                then()

        self.workers.write(label, lambda ctx: fn(), done)

    # -- to fill in ------------------------------------------------------------
    def _on_row(self, row: int) -> None:
        item = self.current()
        if item is None:
            return
        ids = self.item_ids(item)
        self.selection.set(ids, source=self)
        self.detail.setPlainText(self.describe(item))
        self.update_buttons()

    def item_ids(self, item) -> list[str]:
        raise NotImplementedError

    def describe(self, item) -> str:
        raise NotImplementedError

    def empty_text(self) -> str:
        return "Nothing here."

    def update_buttons(self) -> None:
        pass

    def load(self) -> None:
        """Compute the panel's items (called when it is first shown, and on Refresh)."""
        raise NotImplementedError


def memory_block(service: MemoryService, memory_id: str) -> str:
    r = service.get(memory_id)
    if r is None:
        return f"[{memory_id}] (no longer in the collection)"
    when = r.created_at.strftime("%Y-%m-%d %H:%M") if r.created_at else "no time"
    return f"[{r.id}] {r.owner or 'no owner'} · {r.kind} · {when} · {r.status.value}\n{r.text}"
