"""The trash: archived and deleted memories, restored or purged (with confirmation)."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QPushButton

from memlens.core.query import Filter
from memlens.core.record import MemoryRecord, Status
from memlens.gui.curation_panel import CurationPanel, memory_block

TRASH = Filter(statuses=frozenset({Status.ARCHIVED, Status.DELETED}))


class TrashPanel(CurationPanel):
    confirm = True  # tests answer the dialog themselves

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.load)
        self.top.addStretch(1)
        self.top.addWidget(refresh)
        self.restore_button = self.add_button(
            "Restore", self.restore, "R", "Bring it back as an active memory"
        )
        self.purge_button = self.add_button("Purge…", self.purge, None, "Remove it for good (asks first)")
        self.buttons.addStretch(1)

    def load(self) -> None:
        self.loaded = True
        records = self.service.records(self.service.select(TRASH))
        labels = [f"{r.status.value} · {' '.join(r.text.split())[:80]}" for r in records]
        self.set_items(records, labels)
        self.status.setText(f"{len(records)} archived or deleted memories. Nothing is gone until purged.")

    def item_ids(self, item: MemoryRecord) -> list[str]:
        return [item.id]

    def describe(self, item: MemoryRecord) -> str:
        return memory_block(self.service, item.id)

    def empty_text(self) -> str:
        return "The trash is empty."

    def update_buttons(self) -> None:
        has = self.current() is not None
        self.restore_button.setEnabled(has)
        self.purge_button.setEnabled(has)

    def restore(self) -> None:
        r = self.current()
        if r is not None:
            self.remove_current()
            self.write("Restoring", lambda: self.service.restore([r.id]))

    def purge(self) -> None:
        r = self.current()
        if r is None:
            return
        answer = QMessageBox.warning(
            self,
            "Purge memory",
            "Remove this memory from the store for good? (The journal keeps its last state; "
            "Undo right after can still bring it back.)",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.remove_current()
            self.write("Purging", lambda: self.service.purge([r.id]))
