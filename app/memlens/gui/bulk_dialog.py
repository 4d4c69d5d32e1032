"""Bulk change on a selection or the current filter: the exact preview, then one undo step."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from memlens.core.bulk import KEEP, BulkChange, preview
from memlens.core.record import Status
from memlens.core.service import MemoryService

ACTIONS = {"Keep status": None, "Archive": Status.ARCHIVED, "Delete (to trash)": Status.DELETED}
PREVIEW_ROWS = 500


def _tags(text: str) -> tuple[str, ...]:
    return tuple(t.strip() for t in text.split(",") if t.strip())


class BulkDialog(QDialog):
    def __init__(self, service: MemoryService, ids: list[str], scope: str, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Bulk change: {scope}")
        self.resize(820, 560)
        self.service = service
        self.ids = ids
        self.add_tags = QLineEdit(placeholderText="tags to add, comma separated")
        self.remove_tags = QLineEdit(placeholderText="tags to remove")
        self.user = QLineEdit(placeholderText="leave empty to keep; '-' clears")
        self.agent = QLineEdit(placeholderText="leave empty to keep; '-' clears")
        self.action = QComboBox()
        self.action.addItems(list(ACTIONS))
        form = QFormLayout()
        form.addRow("Add tags", self.add_tags)
        form.addRow("Remove tags", self.remove_tags)
        form.addRow("Set user", self.user)
        form.addRow("Set agent", self.agent)
        form.addRow("Then", self.action)
        self.summary = QLabel()
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Memory", "Before", "After"])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Apply")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.buttons)
        for w in (self.add_tags, self.remove_tags, self.user, self.agent):
            w.textChanged.connect(self.refresh)
        self.action.currentIndexChanged.connect(self.refresh)
        self.refresh()

    def change(self) -> BulkChange:
        def owner(edit: QLineEdit):
            text = edit.text().strip()
            return KEEP if not text else ("" if text == "-" else text)

        return BulkChange(
            add_tags=_tags(self.add_tags.text()),
            remove_tags=_tags(self.remove_tags.text()),
            user_id=owner(self.user),
            agent_id=owner(self.agent),
            status=ACTIONS[self.action.currentText()],
        )

    @staticmethod
    def _fields(r) -> str:
        tags = ", ".join(r.tags) or "—"
        return f"user {r.user_id or '—'} · agent {r.agent_id or '—'} · tags {tags} · {r.status.value}"

    def refresh(self, *_args) -> None:
        change = self.change()
        self.pairs = preview(self.service, self.ids, change)
        self.summary.setText(
            f"{change.describe()}: {len(self.pairs)} of {len(self.ids)} memories change (one undo step)."
        )
        shown = self.pairs[:PREVIEW_ROWS]
        self.table.setRowCount(len(shown))
        for row, (before, after) in enumerate(shown):
            for col, text in enumerate(
                (" ".join(before.text.split())[:80], self._fields(before), self._fields(after))
            ):
                item = QTableWidgetItem(text)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(row, col, item)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(self.pairs))
