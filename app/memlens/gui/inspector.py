"""The inspector: one memory whole: text, fields, every metadata key, source, history.

Text is always plain: QPlainTextEdit, plain table items and QTextCursor.insertText never
interpret HTML, so a memory holding markup shows its tags.
"""

from __future__ import annotations

import json

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QKeySequence, QTextCharFormat
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from memlens.core.journal import HistoryEntry
from memlens.core.mem0_history import ACTOR as MEMLENS_IN_MEM0
from memlens.core.mem0_history import Mem0Event
from memlens.core.profiles import profile_label
from memlens.core.record import KINDS, MemoryRecord, Status
from memlens.core.service import MemoryService
from memlens.core.text_diff import diff_lines
from memlens.core.watch import EditConflict, same_stored
from memlens.gui.conflict_dialog import KEEP_EDITING, KEEP_MINE, TAKE_THEIRS, ConflictDialog
from memlens.gui.selection import SelectionModel
from memlens.gui.times import as_utc, utc_text

EDITABLE = ("kind", "user_id", "agent_id", "session_id", "tags", "importance")


def _plain_item(text: str) -> QTableWidgetItem:
    item = QTableWidgetItem(text if len(text) < 2000 else text[:2000] + "…")
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    item.setToolTip("")
    return item


def _write_diff(edit: QPlainTextEdit, old: str, new: str) -> None:
    edit.clear()
    cursor = edit.textCursor()
    colours = {"+": QColor("#166534"), "-": QColor("#991b1b"), "@": QColor("#1d4ed8")}
    for line in diff_lines(old, new):
        fmt = QTextCharFormat()
        colour = colours.get(line[:1])
        if colour is not None and not line.startswith(("+++", "---")):
            fmt.setForeground(colour)
        cursor.insertText(line + "\n", fmt)


def _journal_row(h: HistoryEntry) -> tuple[str, str, str]:
    state = "" if h.state == "applied" else f"  ({h.state.replace('_', ' ')})"
    why = f" — {h.reason}" if h.reason else ""
    label = f"{utc_text(h.ts)}  {h.label}  by {h.actor}{why}{state}"
    return label, (h.before.text if h.before else ""), (h.after.text if h.after else "")


def _mem0_row(e: Mem0Event) -> tuple[str, str, str]:
    when = utc_text(e.updated_at or e.created_at)
    return f"{when}  Mem0 {e.event}  by {e.actor_id or 'mem0'}", e.old_memory or "", e.new_memory or ""


def _history_rows(entries: list[HistoryEntry], events: list[Mem0Event]) -> list[tuple[str, str, str]]:
    """(label, old text, new text) of a memory's journal entries and Mem0 history, oldest
    first. The rows MemLens itself appended to history.db are the journal's own entries
    again; they are shown only when this journal has none (another MemLens wrote them)."""
    if entries:
        events = [e for e in events if e.actor_id != MEMLENS_IN_MEM0]
    timed: list[tuple[float, int, tuple[str, str, str]]] = []
    for n, e in enumerate(events):
        when = as_utc(e.updated_at or e.created_at)
        timed.append((when.timestamp() if when else float("-inf"), n, _mem0_row(e)))
    for n, h in enumerate(entries, start=len(events)):
        timed.append((h.ts, n, _journal_row(h)))
    return [row for _, _, row in sorted(timed, key=lambda t: t[:2])]


class Inspector(QWidget):
    sig_save = Signal(str, dict)  # memory id, changed fields
    sig_status = Signal(list, object)  # ids, Status

    def __init__(self, service: MemoryService, selection: SelectionModel, parent=None) -> None:
        super().__init__(parent)
        self.service = service
        self.selection = selection
        self._record: MemoryRecord | None = None
        self._drafts: dict[str, dict] = {}  # unsaved edits survive moving to another memory
        # The record each unsaved edit started from: what the user changed is measured
        # against it, and a save is refused if the store no longer holds it.
        self._bases: dict[str, MemoryRecord] = {}
        self._expected: dict[str, MemoryRecord] = {}  # handed to the save, see take_expected
        self.snapshot: dict[str, MemoryRecord] | None = None  # "as of": the past, read-only
        self._as_of_label = ""
        self._loading = False

        self.title = QLabel("No memory selected")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setObjectName("inspectorTitle")
        # Long ids (Mem0 uses UUIDs) must not set the window's minimum width.
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._build_memory_tab(), "Memory")
        self.metadata = QTableWidget(0, 2)
        self.metadata.setHorizontalHeaderLabels(["Key", "Value"])
        self.metadata.horizontalHeader().setStretchLastSection(True)
        self.metadata.verticalHeader().setVisible(False)
        self.tabs.addTab(self.metadata, "Metadata")
        self.source = QPlainTextEdit(readOnly=True)
        self.tabs.addTab(self.source, "Source")
        self.tabs.addTab(self._build_history_tab(), "History")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.title)
        layout.addWidget(self.tabs, 1)
        selection.sig_changed.connect(lambda ids, cur, src: self.show_memory(cur))
        self.show_memory("")

    # -- building --------------------------------------------------------------
    def _build_memory_tab(self) -> QWidget:
        self.text = QPlainTextEdit()
        self.text.setPlaceholderText("Memory text")
        self.text.textChanged.connect(self._on_edited)
        self.kind = QComboBox(editable=True)
        self.kind.addItems(KINDS)
        self.user = QLineEdit()
        self.agent = QLineEdit()
        self.session = QLineEdit()
        self.tags = QLineEdit(placeholderText="comma, separated")
        self.importance = QDoubleSpinBox(minimum=0.0, maximum=1.0, singleStep=0.05, decimals=2)
        self.importance.setSpecialValueText("—")
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.times = QLabel()
        self.times.setTextFormat(Qt.TextFormat.PlainText)
        self.times.setWordWrap(True)
        for w in (self.user, self.agent, self.session, self.tags):
            w.textEdited.connect(self._on_edited)
        self.kind.currentTextChanged.connect(self._on_edited)
        self.importance.valueChanged.connect(self._on_edited)
        form = QFormLayout()
        form.addRow("Kind", self.kind)
        form.addRow("User", self.user)
        form.addRow("Agent", self.agent)
        form.addRow("Session", self.session)
        form.addRow("Tags", self.tags)
        form.addRow("Importance", self.importance)
        form.addRow("Status", self.status)
        form.addRow("Time", self.times)

        self.save_button = QPushButton("Save")
        self.save_button.setShortcut(QKeySequence.StandardKey.Save)
        self.save_button.setToolTip("Save the edit (Ctrl+S); the text is re-embedded in the background")
        self.save_button.clicked.connect(self.save)
        self.revert_button = QPushButton("Revert")
        self.revert_button.clicked.connect(self.revert)
        self.flag_button = QPushButton("Flag suspect")
        self.flag_button.clicked.connect(lambda: self._status(Status.FLAGGED))
        self.verify_button = QPushButton("Mark verified")
        self.verify_button.clicked.connect(lambda: self._status(Status.VERIFIED))
        self.delete_button = QPushButton("Delete")
        self.delete_button.clicked.connect(lambda: self._status(Status.DELETED))
        self.restore_button = QPushButton("Restore")
        self.restore_button.clicked.connect(lambda: self._status(Status.ACTIVE))
        edits = QHBoxLayout()
        for b in (self.save_button, self.revert_button):
            edits.addWidget(b)
        edits.addStretch(1)
        verdicts = QHBoxLayout()
        for b in (self.flag_button, self.verify_button, self.delete_button, self.restore_button):
            verdicts.addWidget(b)
        verdicts.addStretch(1)

        self.conflict_notice = QFrame()
        self.conflict_notice.setObjectName("conflictNotice")
        self.conflict_notice.setStyleSheet(
            "#conflictNotice { background: #fef3c7; border: 1px solid #f59e0b; border-radius: 4px; }"
        )
        self.conflict_label = QLabel()
        self.conflict_label.setTextFormat(Qt.TextFormat.PlainText)
        self.conflict_label.setWordWrap(True)
        self.compare_button = QPushButton("Compare…")
        self.compare_button.clicked.connect(self.compare)
        notice = QHBoxLayout(self.conflict_notice)
        notice.setContentsMargins(6, 3, 6, 3)
        notice.addWidget(self.conflict_label, 1)
        notice.addWidget(self.compare_button)
        self.conflict_notice.hide()

        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(self.conflict_notice)
        layout.addWidget(self.text, 3)
        layout.addLayout(form)
        layout.addLayout(edits)
        layout.addLayout(verdicts)
        return page

    def _build_history_tab(self) -> QWidget:
        self.history = QListWidget()
        self.history.currentRowChanged.connect(self._show_version)
        self.diff = QPlainTextEdit(readOnly=True)
        self.diff.setFont(QFont("monospace"))
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.history)
        splitter.addWidget(self.diff)
        splitter.setSizes([160, 220])
        return splitter

    # -- showing ---------------------------------------------------------------
    @property
    def record(self) -> MemoryRecord | None:
        return self._record

    def show_memory(self, memory_id: str) -> None:
        if self._record is not None and self.dirty:
            self._drafts[self._record.id] = self._form_values()
        elif self._record is not None:
            self._bases.pop(self._record.id, None)
        if not memory_id:
            record = None
        elif self.snapshot is not None:
            record = self.snapshot.get(memory_id)
        else:
            record = self.service.get(memory_id)
        self._record = record
        self._loading = True
        try:
            self._fill(record)
        finally:
            self._loading = False
        self._update_buttons()

    def _fill(self, r: MemoryRecord | None) -> None:
        enabled = r is not None
        self.tabs.setEnabled(enabled)
        values = self._drafts.pop(r.id, None) if r else None  # shown again: the form holds it
        if r is None:
            self.title.setText("No memory selected")
            values = {"text": "", "kind": "", "user_id": "", "agent_id": "", "session_id": "", "tags": ""}
            values["importance"] = 0.0
        else:
            self.title.setText(f"{r.id}  ·  {r.kind}  ·  {r.owner or 'no owner'}  ·  v{r.version}")
            values = values or self._record_values(r)
        self._set_form(values)
        self.status.setText(r.status.value if r else "")
        self.times.setText(
            f"created {utc_text(r.created_at)} · updated {utc_text(r.updated_at)}" if r else ""
        )
        self._fill_metadata(r)
        self._fill_source(r)
        self._fill_history(r)
        self._show_conflict_notice()

    def _set_form(self, values: dict) -> None:
        if self.text.toPlainText() != values["text"]:  # keep the cursor when the text is the same
            self.text.setPlainText(values["text"])
        self.kind.setCurrentText(values["kind"])
        self.user.setText(values["user_id"])
        self.agent.setText(values["agent_id"])
        self.session.setText(values["session_id"])
        self.tags.setText(values["tags"])
        self.importance.setValue(values["importance"])

    @staticmethod
    def _record_values(r: MemoryRecord) -> dict:
        return {
            "text": r.text,
            "kind": r.kind,
            "user_id": r.user_id or "",
            "agent_id": r.agent_id or "",
            "session_id": r.session_id or "",
            "tags": ", ".join(r.tags),
            "importance": r.importance or 0.0,
        }

    def _fill_metadata(self, r: MemoryRecord | None) -> None:
        rows: list[tuple[str, str]] = []
        if r is not None:
            for key, value in r.to_dict().items():
                if key in ("text", "extra", "source"):
                    continue
                rows.append((key, "" if value is None else str(value)))
            rows.append(("content hash", r.content_hash))
            rows.append(("store profile", profile_label(self.service.store.profile)))
            for key, value in sorted(r.extra.items()):
                rows.append((f"extra · {key}", json.dumps(value) if not isinstance(value, str) else value))
        self.metadata.setRowCount(len(rows))
        for n, (key, value) in enumerate(rows):
            self.metadata.setItem(n, 0, _plain_item(key))
            self.metadata.setItem(n, 1, _plain_item(value))
        self.metadata.resizeColumnToContents(0)

    def _fill_source(self, r: MemoryRecord | None) -> None:
        if r is None or not r.source:
            self.source.setPlainText("" if r is None else "No source recorded for this memory.")
            return
        lines = [f"Source type: {r.source.get('type', 'unknown')}"]
        for turn in r.source.get("turns", []) or []:
            who = turn.get("role") or turn.get("speaker") or "?"
            mid = f" [{turn['message_id']}]" if turn.get("message_id") else ""
            lines.append(f"\n{who}{mid}:\n{turn.get('text', '')}")
        others = {k: v for k, v in r.source.items() if k not in ("type", "turns")}
        if others:
            lines.append("\n" + json.dumps(others, indent=2, ensure_ascii=False))
        self.source.setPlainText("\n".join(lines))

    def _fill_history(self, r: MemoryRecord | None) -> None:
        self.history.blockSignals(True)
        self.history.clear()
        self._history: list[tuple[str, str]] = []  # (old text, new text) per row
        if r is not None:
            for label, old, new in _history_rows(self.service.history(r.id), self.service.mem0_events(r.id)):
                self._add_history(label, old, new)
        self.history.blockSignals(False)
        self.diff.clear()
        if self._history:
            self.history.setCurrentRow(self.history.count() - 1)

    def _add_history(self, label: str, old: str, new: str) -> None:
        item = QListWidgetItem(label)
        self.history.addItem(item)
        self._history.append((old, new))

    def _show_version(self, row: int) -> None:
        if 0 <= row < len(self._history):
            _write_diff(self.diff, *self._history[row])

    # -- editing ---------------------------------------------------------------
    def _form_values(self) -> dict:
        return {
            "text": self.text.toPlainText(),
            "kind": self.kind.currentText().strip(),
            "user_id": self.user.text().strip(),
            "agent_id": self.agent.text().strip(),
            "session_id": self.session.text().strip(),
            "tags": self.tags.text(),
            "importance": self.importance.value(),
        }

    def _base(self) -> MemoryRecord | None:
        r = self._record
        return None if r is None else self._bases.get(r.id, r)

    def _emptied(self) -> bool:
        """The text was edited down to nothing: the service refuses that, so Save waits
        (a memory another writer left blank can still have its other fields edited)."""
        return not self.text.toPlainText().strip() and "text" in self.changes()

    def changes(self) -> dict:
        """Record fields the user changed (from the record the edit started from), as
        `MemoryRecord.replace` takes them; fields left alone are not sent, so a save never
        undoes what someone else changed in them meanwhile."""
        r = self._base()
        if r is None:
            return {}
        v = self._form_values()
        new = {
            "text": v["text"],
            "kind": v["kind"] or r.kind,
            "user_id": v["user_id"] or None,
            "agent_id": v["agent_id"] or None,
            "session_id": v["session_id"] or None,
            "tags": tuple(t.strip() for t in v["tags"].split(",") if t.strip()),
            "importance": v["importance"] or (None if r.importance is None else 0.0),
        }
        return {k: value for k, value in new.items() if getattr(r, k) != value}

    @property
    def dirty(self) -> bool:
        return bool(self.changes())

    @property
    def draft_count(self) -> int:
        return len(self._drafts) + (1 if self._record is not None and self.dirty else 0)

    def _on_edited(self, *_args) -> None:
        if not self._loading:
            r = self._record
            if r is not None and self.snapshot is None:
                if self.dirty:
                    self._bases.setdefault(r.id, r)
                elif not self._changed_underneath():
                    self._bases.pop(r.id, None)
            self._update_buttons()

    def set_snapshot(self, snapshot: dict[str, MemoryRecord] | None, label: str = "") -> None:
        """Show the past (read-only) or, with None, the live collection again."""
        self.snapshot = snapshot
        self._as_of_label = label
        self.show_memory(self._record.id if self._record else "")

    def _update_buttons(self) -> None:
        r = self._record
        if self.snapshot is not None:  # the past cannot be edited
            for b in (self.save_button, self.revert_button, self.flag_button, self.verify_button):
                b.setEnabled(False)
            self.delete_button.setEnabled(False)
            self.restore_button.setEnabled(False)
            self.text.setReadOnly(True)
            self.title.setText(f"{self.title.text()}  ·  {self._as_of_label} (read-only)")
            return
        self.text.setReadOnly(False)
        dirty = r is not None and self.dirty
        blank = dirty and self._emptied()
        self.save_button.setEnabled(dirty and not blank)
        self.save_button.setToolTip(
            "A memory needs some text; to remove it, use Delete"
            if blank
            else "Save the edit (Ctrl+S); the text is re-embedded in the background"
        )
        self.revert_button.setEnabled(dirty)
        self.flag_button.setEnabled(r is not None and r.status != Status.FLAGGED)
        self.verify_button.setEnabled(r is not None and r.status != Status.VERIFIED)
        self.delete_button.setEnabled(r is not None and r.status != Status.DELETED)
        self.restore_button.setEnabled(r is not None and r.status in (Status.DELETED, Status.ARCHIVED))
        self.title.setStyleSheet("color: #b45309" if dirty else "")

    def save(self) -> None:
        """Save the edit, unless the memory changed underneath: then the user chooses."""
        if self._record is None or not self.dirty or self._emptied():
            return
        memory_id, base = self._record.id, self._base()
        current = self.service.get(memory_id)
        if current is None:
            self._deleted_underneath()
        elif not same_stored(self.service.store.profile, base, current):
            self.resolve_conflict(base, current)
        else:
            self._emit_save(memory_id, self.changes(), base)

    def _emit_save(self, memory_id: str, changes: dict, expected: MemoryRecord) -> None:
        self._drafts.pop(memory_id, None)
        self._bases.pop(memory_id, None)
        self._expected[memory_id] = expected
        self.conflict_notice.hide()
        self.sig_save.emit(memory_id, changes)

    def take_expected(self, memory_id: str) -> MemoryRecord | None:
        """The record a save of `memory_id` was made against (for the store-side check)."""
        return self._expected.pop(memory_id, None)

    def _changed_underneath(self) -> bool:
        r = self._record
        base = self._bases.get(r.id) if r is not None else None
        if base is None:
            return False
        current = self.service.get(r.id)
        return current is None or not same_stored(self.service.store.profile, base, current)

    def _show_conflict_notice(self) -> None:
        if self.snapshot is None and self._changed_underneath():
            gone = self.service.get(self._record.id) is None
            self.conflict_label.setText(
                "Someone else deleted this memory while you were editing it. Your text is still here."
                if gone
                else "Someone else changed this memory while you were editing it. "
                "Compare before saving; nothing is overwritten without asking."
            )
            self.compare_button.setVisible(not gone)
            self.conflict_notice.show()
        else:
            self.conflict_notice.hide()

    def compare(self) -> None:
        r = self._record
        current = self.service.get(r.id) if r is not None else None
        if r is not None and current is not None:
            self.resolve_conflict(self._base(), current)

    def resolve_conflict(self, base: MemoryRecord, theirs: MemoryRecord) -> str:
        """Ask Keep mine / Take theirs / Keep editing, and do it; returns the choice."""
        changes = self.changes()
        mine = theirs.replace(**changes)
        dialog = ConflictDialog(base, mine, theirs, self)
        dialog.exec()
        memory_id = theirs.id
        if dialog.choice == KEEP_MINE:
            self._emit_save(memory_id, changes, theirs)
        elif dialog.choice == TAKE_THEIRS:
            self._drafts.pop(memory_id, None)
            self._bases.pop(memory_id, None)
            self._record = theirs
            self.revert()
        elif dialog.choice == KEEP_EDITING:
            self._rebase(theirs, changes)
        return dialog.choice

    def _rebase(self, theirs: MemoryRecord, changes: dict) -> None:
        """Their version becomes the base; the user's changed fields stay in the form."""
        self._record = theirs
        self._bases[theirs.id] = theirs
        self._drafts[theirs.id] = self._record_values(theirs.replace(**changes))
        self._loading = True
        try:
            self._fill(theirs)
        finally:
            self._loading = False
        self._update_buttons()

    def on_save_conflict(self, conflict: EditConflict, changes: dict) -> None:
        """The store refused a save (changed between the last look and the write): the
        edit comes back as a draft on the old base, and the user is asked."""
        memory_id = conflict.memory_id
        self._bases[memory_id] = conflict.base
        self._drafts[memory_id] = self._record_values(conflict.base.replace(**changes))
        if self._record is not None and self._record.id == memory_id:
            self._record = self.service.get(memory_id) or self._record
            self._loading = True
            try:
                self._fill(self._record)
            finally:
                self._loading = False
            self._update_buttons()
            if conflict.theirs is None:
                self._deleted_underneath()
            else:
                self.resolve_conflict(conflict.base, conflict.theirs)

    def _deleted_underneath(self) -> None:
        self._show_conflict_notice()
        QMessageBox.warning(
            self,
            "Deleted by someone else",
            "Another writer deleted this memory while you were editing it, so it cannot be saved. "
            "Your text is still in the editor: copy it if you want to keep it.",
        )

    def discard_drafts(self) -> None:
        """Forget every unsaved edit, the one on screen included."""
        self._drafts.clear()
        self.revert()

    def revert(self) -> None:
        if self._record is not None:
            self._drafts.pop(self._record.id, None)
            self._bases.pop(self._record.id, None)
            self._loading = True
            self._fill(self._record)
            self._loading = False
            self._update_buttons()

    def _status(self, status: Status) -> None:
        ids = self.selection.ids or ([self._record.id] if self._record else [])
        if ids:
            self.sig_status.emit(ids, status)

    def refresh(self, ids: set[str]) -> None:
        """The service changed these memories: show the new state; an unsaved edit stays
        (fields the user did not touch take the new values) and a notice says if the
        memory changed underneath it."""
        if self._record is None or self._record.id not in ids:
            return
        if self.dirty:
            current = self.service.get(self._record.id)
            if current is not None:
                self._rebase_untouched(current)
            self._fill_history(self._record)
            self._show_conflict_notice()
            self._update_buttons()
            return
        self.show_memory(self._record.id)

    def _rebase_untouched(self, current: MemoryRecord) -> None:
        base = self._base()
        form, was = self._form_values(), self._record_values(base)
        mine = {k: v for k, v in form.items() if v != was[k]}
        self._record = current
        values = {**self._record_values(current), **mine}
        self._loading = True
        try:
            self._set_form(values)
        finally:
            self._loading = False
