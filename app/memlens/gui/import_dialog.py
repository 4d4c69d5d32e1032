"""File ▸ Import…: pick a file, see what it holds and every problem by line, then import.

Reading and checking run off the GUI thread as soon as a file is chosen; nothing is
written until Import is pressed. A file with problems imports nothing unless the user
ticks "skip the lines with problems". Importing (embedding and writing) shows its
progress and is one undo step.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
)

from memlens.core.importers.formats import (
    AUTO,
    IMPORT_FORMATS,
    ImportOptions,
    ImportRefused,
    apply_import,
    error_report,
    read_import,
)
from memlens.core.jsonl import ParseResult
from memlens.core.service import MemoryService, WriteFailed
from memlens.gui.times import utc_minute
from memlens.gui.workers import TaskContext, TaskSlot, Workers

PREVIEW_ROWS = 200
_PICK_CONVERSATIONS = frozenset({"locomo", "memorybank"})
_DEFAULT_OWNER = frozenset({"openai-chat", "sessions-json"})


def _item(text: str, align_right: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem(text if len(text) < 500 else text[:500] + "…")
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    if align_right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


class ImportDialog(QDialog):
    sig_applied = Signal(object)  # the Change, for the undo stack

    def __init__(self, service: MemoryService, workers: Workers, parent=None) -> None:
        super().__init__(parent)
        self.service = service
        self.workers = workers
        self.setWindowTitle(f"Import into '{service.store.collection}'")
        self.resize(860, 560)
        self.parsed: ParseResult | None = None
        self.format_used = ""
        self._read_slot = TaskSlot()
        self._last_request: tuple | None = None
        self.importing = False

        self.path = QLineEdit()
        self.path.setPlaceholderText("a .jsonl or .json file")
        self.path.editingFinished.connect(self.check)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.format = QComboBox()
        self.format.addItem("Recognise from the file", AUTO)
        for fmt in IMPORT_FORMATS.values():
            self.format.addItem(fmt.label, fmt.name)
        self.format.currentIndexChanged.connect(lambda _i: self.check())
        self.conversations = QLineEdit()
        self.conversations.setPlaceholderText("all (or e.g. conv-26, Emily — comma separated)")
        self.conversations.editingFinished.connect(self.check)
        self.owner = QLineEdit()
        self.owner.setPlaceholderText("for conversations that name no user")
        self.owner.editingFinished.connect(self.check)

        file_row = QHBoxLayout()
        file_row.addWidget(self.path, 1)
        file_row.addWidget(browse)
        form = QFormLayout()
        form.addRow("File", file_row)
        form.addRow("Format", self.format)
        form.addRow("Conversations / users", self.conversations)
        form.addRow("Owner", self.owner)

        self.summary = QLabel("Choose a file: it is checked before anything is imported.")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        self.errors = QTableWidget(0, 2)
        self.errors.setHorizontalHeaderLabels(["Line", "Problem"])
        self.errors.verticalHeader().setVisible(False)
        self.errors.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.preview = QTableWidget(0, 4)
        self.preview.setHorizontalHeaderLabels(["Text", "Owner", "Session", "Time (UTC)"])
        self.preview.verticalHeader().setVisible(False)
        self.preview.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.preview, "Memories")
        self.tabs.addTab(self.errors, "Problems")
        self.copy_button = QPushButton("Copy problems")
        self.copy_button.clicked.connect(self.copy_report)
        self.skip = QCheckBox("Import the valid part, skip the lines with problems")
        self.skip.toggled.connect(lambda _on: self._update_buttons())
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.import_button = QPushButton("Import")
        self.import_button.setDefault(True)
        self.import_button.clicked.connect(self.start_import)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)

        bottom = QHBoxLayout()
        bottom.addWidget(self.skip)
        bottom.addStretch(1)
        bottom.addWidget(self.copy_button)
        bottom.addWidget(self.import_button)
        bottom.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.summary)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.progress)
        layout.addLayout(bottom)
        self._update_buttons()

    # -- reading ---------------------------------------------------------------
    def _browse(self) -> None:
        patterns = " ".join(sorted({p for f in IMPORT_FORMATS.values() for p in f.patterns.split()}))
        name, _ = QFileDialog.getOpenFileName(
            self,
            "Import memories",
            self.path.text(),
            f"Memories and conversations ({patterns});;All files (*)",
        )
        if name:
            self.set_file(name)

    def set_file(self, path: str | Path) -> None:
        self.path.setText(str(path))
        self._last_request = None  # the same file again may have changed on disk
        self.check()

    def options(self) -> ImportOptions:
        picked = frozenset(c.strip() for c in self.conversations.text().split(",") if c.strip())
        return ImportOptions(picked, self.owner.text().strip() or None)

    def check(self) -> None:
        """Read and check the file in the background; shows what it holds and its problems."""
        text = self.path.text().strip()
        if not text or self.importing:
            return
        path, fmt, options = Path(text).expanduser(), self.format.currentData(), self.options()
        if (path, fmt, options) == self._last_request:
            return  # focus left a field that did not change: nothing new to read
        self._last_request = (path, fmt, options)
        self.parsed = None
        self.summary.setText(f"Reading {path.name}…")
        self.progress.setRange(0, 0)
        self.progress.show()
        self._update_buttons()
        task = self.workers.read(
            f"Reading {path.name}",
            lambda ctx: read_import(path, fmt, options),
            lambda result: self._show_parsed(path, *result),
            self._read_failed,
        )
        self._read_slot.replace(task)

    def _read_failed(self, message: str) -> None:
        self.progress.hide()
        self._set_summary(message, error=True)
        self._update_buttons()

    def _show_parsed(self, path: Path, fmt: str, parsed: ParseResult) -> None:
        self.progress.hide()
        self.parsed, self.format_used = parsed, fmt
        label = IMPORT_FORMATS[fmt].label if fmt in IMPORT_FORMATS else fmt
        self._fill_preview(parsed)
        self._fill_errors(parsed)
        self.conversations.setEnabled(fmt in _PICK_CONVERSATIONS)
        self.owner.setEnabled(fmt in _DEFAULT_OWNER)
        n, bad = len(parsed.records), len(parsed.errors)
        text = f"{path.name}: {label}. {n:,} memories ready to import"
        if bad:
            text += f"; {bad:,} problem(s) — see Problems. Nothing is imported unless you skip them."
            self.tabs.setCurrentWidget(self.errors)
        else:
            text += "; no problems."
            self.tabs.setCurrentWidget(self.preview)
        self._set_summary(text, error=bool(bad))
        self._update_buttons()

    def _fill_preview(self, parsed: ParseResult) -> None:
        shown = parsed.records[:PREVIEW_ROWS]
        self.preview.setRowCount(len(shown))
        for row, r in enumerate(shown):
            when = utc_minute(r.created_at)
            for col, value in enumerate((r.text, r.owner, r.session_id or "", when)):
                self.preview.setItem(row, col, _item(value))
        self.preview.resizeColumnToContents(1)
        self.preview.resizeColumnToContents(3)
        self.tabs.setTabText(0, f"Memories ({len(parsed.records):,})")

    def _fill_errors(self, parsed: ParseResult) -> None:
        self.errors.setRowCount(len(parsed.errors))
        for row, e in enumerate(parsed.errors):
            self.errors.setItem(row, 0, _item(str(e.line) if e.line else "—", align_right=True))
            self.errors.setItem(row, 1, _item(e.message))
        self.errors.resizeColumnToContents(0)
        self.tabs.setTabText(1, f"Problems ({len(parsed.errors):,})")

    def copy_report(self) -> None:
        if self.parsed is not None and self.parsed.errors:
            name = Path(self.path.text()).name
            QGuiApplication.clipboard().setText("\n".join(error_report(self.parsed.errors, name)))

    # -- importing -------------------------------------------------------------
    def _update_buttons(self) -> None:
        parsed = self.parsed
        has_errors = parsed is not None and bool(parsed.errors)
        self.skip.setEnabled(has_errors and not self.importing)
        self.copy_button.setEnabled(has_errors)
        ready = parsed is not None and bool(parsed.records) and (not has_errors or self.skip.isChecked())
        self.import_button.setEnabled(ready and not self.importing)
        self.close_button.setEnabled(not self.importing)

    def start_import(self) -> None:
        parsed, name = self.parsed, Path(self.path.text()).name
        if parsed is None:
            return
        skip = self.skip.isChecked()
        self.importing = True
        self.progress.setRange(0, max(len(parsed.records), 1))
        self.progress.setValue(0)
        self.progress.setFormat("Embedding and writing: %v of %m")
        self.progress.show()
        self._update_buttons()

        def work(ctx: TaskContext):
            try:
                return apply_import(self.service, parsed, name, skip, progress=ctx.progress)
            except (ImportRefused, WriteFailed) as refused:  # each says what the store holds
                return refused

        task = self.workers.write(f"Importing {name}", work, self._imported, self._import_failed)
        task.sig_progress.connect(lambda done, total: self.progress.setValue(done))

    def _imported(self, result) -> None:
        self.importing = False
        self.progress.hide()
        if isinstance(result, ImportRefused | WriteFailed):
            self._set_summary(str(result), error=True)
        else:
            self.sig_applied.emit(result)
            skipped = (
                f", skipped {len(self.parsed.errors):,} line(s) with problems" if self.parsed.errors else ""
            )
            self._set_summary(
                f"Imported {len(result.ids):,} memories into '{self.service.store.collection}'{skipped}. "
                "Edit ▸ Undo removes them again."
            )
            self.parsed = None  # imported: a second press would only clash
        self._update_buttons()

    def _import_failed(self, message: str) -> None:
        self.importing = False
        self.progress.hide()
        self._set_summary(f"{message}. Nothing was imported.", error=True)
        self._update_buttons()

    def _set_summary(self, text: str, error: bool = False) -> None:
        self.summary.setText(text)
        self.summary.setStyleSheet("color: #b91c1c" if error else "")

    def reject(self) -> None:
        if not self.importing:  # an import under way finishes; the dialog stays until then
            super().reject()
