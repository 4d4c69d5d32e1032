"""Shared frame of the curation panels: a list of items, their detail, and action buttons.

Panels take the service, the workers and the shared selection; picking an item selects
its memories everywhere (the inspector shows them). Writes go through the write lane and
come back as a Change for the undo stack (`sig_applied`). An undo or redo can bring an
item back (a merge, a dismissal undone): panels then list their items again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
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

from memlens.core.llm import LLM, LLMConfig, LLMError
from memlens.core.service import Change, MemoryService
from memlens.gui.bridge import ServiceBridge
from memlens.gui.selection import SelectionModel
from memlens.gui.times import utc_minute
from memlens.gui.workers import Workers

T = TypeVar("T")


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
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.list)
        self.splitter.addWidget(self.detail)
        self.splitter.setSizes([240, 260])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(self.top)
        layout.addWidget(self.status)
        layout.addWidget(self.splitter, 1)
        layout.addLayout(self.buttons)
        self.loaded = False
        self._keys: dict[Qt.Key, Callable[[], None]] = {}
        self.list.installEventFilter(self)
        self.detail.installEventFilter(self)
        self.bridge = ServiceBridge(service, self)
        self.bridge.sig_changed.connect(self._on_service_change)

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

    def set_items(self, items: list, labels: list[str], current: object = None) -> None:
        """List `items`; `current` (one of them) or else the first becomes current."""
        self.items = items
        self.list.blockSignals(True)
        self.list.clear()
        for label in labels:
            self.list.addItem(QListWidgetItem(label))
        if items:
            self.list.setCurrentRow(items.index(current) if current in items else 0)
        self.list.blockSignals(False)
        if items:
            self._on_row(self.list.currentRow())
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

    def _on_service_change(self, change: Change) -> None:
        """An undo or redo can bring items back (a merge or a dismissal undone) or take
        them away: list them again, showing first what the step brought back."""
        if not self.loaded or change.kind not in ("undo", "redo"):
            return
        listed = self.relisted()
        if listed is None or listed[0] == self.items:
            return
        items, labels = listed
        moved = set(change.ids)
        back = [i for i in items if i not in self.items and set(self.item_ids(i)) <= moved]
        self.set_items(items, labels, back[0] if back else self.current())

    def _on_row(self, row: int) -> None:
        item = self.current()
        if item is None:
            return
        # Only the panel in sight moves the shared selection: one listing in the background
        # (conflicts found for the timeline, a list redone after an undo) leaves it be.
        if self.isVisible():
            self.selection.set(self.item_ids(item), source=self)
        self.detail.setPlainText(self.describe(item))
        self.update_buttons()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        item = self.current()
        if item is not None:  # back on this tab: its item is what the inspector shows
            self.selection.set(self.item_ids(item), source=self)

    # -- to fill in ------------------------------------------------------------
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

    def relisted(self) -> tuple[list, list[str]] | None:
        """The items and their labels as they stand now, worked out again from what was
        found (in memory: no new search), or None to keep the list as it is."""
        return None


class ModelToggle(QCheckBox):
    """The "ask the language model" box: on only while one is configured (looked at again
    each time the panel is shown, so the settings dialog takes effect at once)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.refresh()

    def refresh(self) -> None:
        configured = LLMConfig.current(read_keyring=False).configured
        self.setEnabled(configured)
        if not configured:
            self.setChecked(False)
        self.setToolTip(
            "" if configured else "No language model is set: File ▸ Language Model… (or MEMLENS_LLM_BASE_URL)"
        )

    def showEvent(self, event) -> None:
        self.refresh()
        super().showEvent(event)

    def config(self) -> LLMConfig | None:
        """The model to ask, or None (unticked, or none configured)."""
        config = LLMConfig.current(read_keyring=False)
        return config if self.isChecked() and config.configured else None


def with_model(config: LLMConfig | None, run: Callable[[LLM | None], T]) -> tuple[T, str | None]:
    """`run` with the model (on a worker thread: every question is a network call); if the
    model fails, `run` again without it and say why."""
    if config is None:
        return run(None), None
    try:
        return run(LLM(config)), None
    except LLMError as exc:
        return run(None), f"{exc} Shown without the model's judgement."


def memory_block(service: MemoryService, memory_id: str) -> str:
    r = service.get(memory_id)
    if r is None:
        return f"[{memory_id}] (no longer in the collection)"
    when = (utc_minute(r.created_at) + " UTC") if r.created_at else "no time"
    return f"[{r.id}] {r.owner or 'no owner'} · {r.kind} · {when} · {r.status.value}\n{r.text}"
