"""File ▸ Export…: what to export (the filter's list, the selection, everything), in which
format, to which file; written off the GUI thread with progress."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
)

from memlens.core.exporters.formats import EXPORT_FORMATS, export_records
from memlens.core.service import MemoryService
from memlens.gui.workers import Workers


class ExportDialog(QDialog):
    def __init__(
        self,
        service: MemoryService,
        workers: Workers,
        listed: Sequence[str],
        selected: Sequence[str],
        folder: Path | None = None,
        parent=None,
    ) -> None:
        super().__init__(parent)
        self.service = service
        self.workers = workers
        self.exporting = False
        self.written: Path | None = None
        collection = service.store.collection
        self.setWindowTitle(f"Export from '{collection}'")
        self.resize(620, 280)
        self._scopes = {
            "listed": list(listed),
            "selected": list(selected),
            "all": service.select_all(),
        }
        self.format = QComboBox()
        for fmt in EXPORT_FORMATS.values():
            self.format.addItem(fmt.label, fmt.name)
        self.format.currentIndexChanged.connect(self._format_changed)
        self.scope = QButtonGroup(self)
        scopes = QVBoxLayout()
        for key, text in (
            ("listed", "What the table lists now"),
            ("selected", "The selected memories"),
            ("all", "Everything, archived and trash included"),
        ):
            button = QRadioButton(f"{text} ({len(self._scopes[key]):,})")
            button.setProperty("scope", key)
            button.setEnabled(bool(self._scopes[key]))
            self.scope.addButton(button)
            scopes.addWidget(button)
        self.scope.buttons()[0].setChecked(True)
        self.path = QLineEdit(str((folder or Path.home()) / f"{collection}.jsonl"))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Format", self.format)
        form.addRow("Memories", scopes)
        form.addRow("File", row)

        self.summary = QLabel("")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.hide()
        self.export_button = QPushButton("Export")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.start_export)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.summary)
        layout.addWidget(self.progress)
        layout.addLayout(buttons)

    def _format_changed(self, _index: int) -> None:
        suffix = EXPORT_FORMATS[self.format.currentData()].suffix
        current = Path(self.path.text())
        self.path.setText(str(current.with_suffix(suffix)))

    def _browse(self) -> None:
        fmt = EXPORT_FORMATS[self.format.currentData()]
        name, _ = QFileDialog.getSaveFileName(
            self, "Export memories", self.path.text(), f"{fmt.label} (*{fmt.suffix})"
        )
        if name:
            self.path.setText(name)

    def chosen_ids(self) -> list[str]:
        return self._scopes[self.scope.checkedButton().property("scope")]

    def start_export(self) -> None:
        path = Path(self.path.text().strip()).expanduser()
        fmt = self.format.currentData()
        ids = self.chosen_ids()
        records = self.service.records(reversed(ids)) if ids else []  # oldest first reads naturally
        store = self.service.store
        self.exporting = True
        self.export_button.setEnabled(False)
        self.close_button.setEnabled(False)
        self.progress.setRange(0, max(len(records), 1))
        self.progress.setValue(0)
        self.progress.show()
        self.summary.setStyleSheet("")
        self.summary.setText(f"Writing {len(records):,} memories to {path.name}…")
        task = self.workers.read(
            f"Exporting {path.name}",
            lambda ctx: export_records(records, fmt, path, store, ctx.progress),
            lambda n: self._done(path, n),
            self._failed,
        )
        task.sig_progress.connect(lambda done, total: self.progress.setValue(done))

    def _done(self, path: Path, n: int) -> None:
        self._finish()
        self.written = path
        self.summary.setText(f"Wrote {n:,} memories to {path}.")

    def _failed(self, message: str) -> None:
        self._finish()
        self.summary.setStyleSheet("color: #b91c1c")
        self.summary.setText(f"{message}. Nothing was written.")

    def _finish(self) -> None:
        self.exporting = False
        self.progress.hide()
        self.export_button.setEnabled(True)
        self.close_button.setEnabled(True)

    def reject(self) -> None:
        if not self.exporting:
            super().reject()
