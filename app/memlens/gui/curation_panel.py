"""Shared frame of the curation panels: a list of items, their detail, and action buttons.

Panels take the service, the workers and the shared selection; picking an item selects
its memories everywhere (the inspector shows them). Writes go through the write lane and
come back as a Change for the undo stack (`sig_applied`). An undo or redo can bring an
item back (a merge, a dismissal undone): panels then list their items again. A panel that
calls `enable_editing` gets an Edit button (E) and an editor under the detail for the
current item's memories (the Review queue's suspect, both sides of a conflict).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QGroupBox,
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
from memlens.core.record import MemoryRecord
from memlens.core.service import Change, MemoryService
from memlens.gui.bridge import ServiceBridge
from memlens.gui.selection import SelectionModel
from memlens.gui.times import utc_minute
from memlens.gui.workers import TaskContext, Workers

T = TypeVar("T")


class TextEditor(QGroupBox):
    """The texts of one or more memories, editable side by side, each under its caption.

    In the editor letters are text, not triage keys: only Ctrl+Return (save) and Esc
    (cancel) act.
    """

    sig_save = Signal()
    sig_cancel = Signal()

    def __init__(self) -> None:
        super().__init__("Corrected text")
        self.edits: dict[str, QPlainTextEdit] = {}
        self._originals: dict[str, str] = {}
        self._columns: list[QWidget] = []
        self.panes = QHBoxLayout()
        save = QPushButton("Save correction  (Ctrl+Return)")
        save.clicked.connect(self.sig_save)
        cancel = QPushButton("Cancel  (Esc)")
        cancel.clicked.connect(self.sig_cancel)
        row = QHBoxLayout()
        row.addWidget(save)
        row.addWidget(cancel)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(self.panes, 1)
        layout.addLayout(row)
        self.hide()

    def open(self, memories: Sequence[tuple[str, MemoryRecord]]) -> None:
        """Edit these memories' texts; a caption (none for a lone memory) names each."""
        self.close_editor()
        self.setTitle("Corrected text" if len(memories) == 1 else "Corrected texts")
        for caption, record in memories:
            column = QWidget()
            layout = QVBoxLayout(column)
            layout.setContentsMargins(0, 0, 0, 0)
            if caption:
                label = QLabel(caption)
                label.setTextFormat(Qt.TextFormat.PlainText)
                layout.addWidget(label)
            edit = QPlainTextEdit()
            edit.setPlainText(record.text)
            edit.installEventFilter(self)
            layout.addWidget(edit)
            self.panes.addWidget(column)
            self._columns.append(column)
            self.edits[record.id] = edit
            self._originals[record.id] = record.text.strip()
        self.show()
        if self.edits:
            next(iter(self.edits.values())).setFocus()

    def close_editor(self) -> None:
        self.hide()
        for column in self._columns:
            self.panes.removeWidget(column)
            column.deleteLater()
        self._columns.clear()
        self.edits.clear()
        self._originals.clear()

    def texts(self) -> dict[str, str]:
        """Every text in the editor, trimmed."""
        return {mid: edit.toPlainText().strip() for mid, edit in self.edits.items()}

    def changed(self) -> dict[str, str]:
        """The texts that differ from what the editor opened with."""
        return {mid: text for mid, text in self.texts().items() if text != self._originals[mid]}

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Type.KeyPress and obj in self.edits.values():
            if event.key() == Qt.Key.Key_Escape:
                self.sig_cancel.emit()
                return True
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and (
                event.modifiers() & Qt.KeyboardModifier.ControlModifier
            ):
                self.sig_save.emit()
                return True
        return super().eventFilter(obj, event)


class CurationPanel(QWidget):
    sig_applied = Signal(object)  # Change
    #: Said when a save is refused: what to do instead of saving a blank or an unchanged text.
    BLANK_HINT = ""
    UNCHANGED_HINT = ""

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
        self.editor: TextEditor | None = None
        self.editing: object = None  # the item whose memories are in the editor
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
        # Triage keys act while the list or detail has focus: a plain letter, no modifiers;
        # none while an edit is open (the correction is for the item being edited).
        if (
            event.type() == QEvent.Type.KeyPress
            and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
            and self.editing is None
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
            self.show_item(None)
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
                self.show_item(None)
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
        back = [i for i in items if i not in self.items and moved.intersection(self.item_ids(i))]
        self.set_items(items, labels, back[0] if back else self.current())

    def _on_row(self, row: int) -> None:
        item = self.current()
        if item is None:
            return
        # Only the panel in sight moves the shared selection: one listing in the background
        # (conflicts found for the timeline, a list redone after an undo) leaves it be.
        if self.isVisible():
            self.selection.set(self.item_ids(item), source=self)
        self.show_item(item)
        self.update_buttons()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        item = self.current()
        if item is not None:  # back on this tab: its item is what the inspector shows
            self.selection.set(self.item_ids(item), source=self)

    # -- editing in place ------------------------------------------------------
    def enable_editing(self, tip: str) -> QPushButton:
        """Add the editor under the detail and its Edit button (E)."""
        self.editor = TextEditor()
        self.editor.sig_save.connect(self.save_edit)
        self.editor.sig_cancel.connect(self.cancel_edit)
        self.splitter.addWidget(self.editor)
        return self.add_button("Edit", self.edit, "E", tip)

    def edit(self) -> None:
        item = self.current()
        if item is None or self.editor is None or self.editing is not None:
            return
        memories = [(caption, r) for caption, mid in self.editable(item) if (r := self.service.get(mid))]
        if not memories:
            return
        self.editing = item
        self.editor.open(memories)
        self.list.setEnabled(False)  # the correction is for this item: stay on it until saved
        self.update_buttons()

    def save_edit(self) -> None:
        item = self.editing
        if item is None or self.editor is None:
            return
        if not all(self.editor.texts().values()):
            self.status.setText(f"A corrected text is empty: nothing was saved ({self.BLANK_HINT}).")
            return
        texts = self.editor.changed()
        if not texts:
            self.status.setText(f"The text is unchanged: nothing was saved ({self.UNCHANGED_HINT}).")
            return
        self._close_editor()
        self.save_texts(item, texts)

    def cancel_edit(self) -> None:
        if self.editing is not None:
            self._close_editor()

    def _close_editor(self) -> None:
        self.editing = None
        if self.editor is not None:
            self.editor.close_editor()
        self.list.setEnabled(True)
        self.list.setFocus()
        self.update_buttons()

    # -- to fill in ------------------------------------------------------------
    def item_ids(self, item) -> list[str]:
        raise NotImplementedError

    def editable(self, item) -> list[tuple[str, str]]:
        """(caption, memory id) of the memories Edit opens for `item`."""
        return []

    def save_texts(self, item, texts: dict[str, str]) -> None:
        """Write the corrected `texts` (memory id -> text, only those changed) of `item`."""
        raise NotImplementedError

    def describe(self, item) -> str:
        raise NotImplementedError

    def empty_text(self) -> str:
        return "Nothing here."

    def show_item(self, item) -> None:
        """Show the current item below the list (None: nothing is listed)."""
        self.detail.setPlainText(self.empty_text() if item is None else self.describe(item))

    def update_buttons(self) -> None:
        pass

    def load(self) -> None:
        """Compute the panel's items (called when it is first shown, and on Refresh)."""
        raise NotImplementedError

    def add_model_controls(self, text: str, stretch: bool = False) -> None:
        """The 'ask the language model' toggle (listing again when flipped) and Refresh."""
        self.use_model = ModelToggle(text)
        self.use_model.toggled.connect(lambda _on: self.loaded and self.load())
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.load)
        self.top.addWidget(self.use_model)
        if stretch:
            self.top.addStretch(1)
        self.top.addWidget(refresh)

    def find_asking_model(
        self,
        label: str,
        doing: str,
        asking: str,
        find: Callable[[LLM | None, TaskContext], object],
        found: Callable[[tuple[object, str | None]], None],
    ) -> None:
        """Work out the items off the GUI thread, with the model when it is ticked (`asking`
        names it: '{model}'); `found` gets (items, what went wrong with the model)."""
        self.loaded = True
        self.cancel_edit()
        config = self.use_model.config()
        self.status.setText(doing + (asking.format(model=config.model) if config else "") + "…")
        self.workers.read(label, lambda ctx: with_model(config, lambda llm: find(llm, ctx)), found)

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
