"""Someone else changed the memory you are editing: see both versions and choose.

Shown when a save finds the memory changed underneath (another process, or another view)
and from the inspector's "Compare…" notice. Texts are plain text; fields that differ are
listed with all three values.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from memlens.core.record import MemoryRecord

KEEP_MINE = "mine"
TAKE_THEIRS = "theirs"
KEEP_EDITING = "editing"
_FIELDS = ("kind", "user_id", "agent_id", "session_id", "tags", "importance", "status")


def _show(value: object) -> str:
    if isinstance(value, tuple):
        return ", ".join(value)
    return "" if value is None else str(value)


def _pane(title: str, text: str) -> tuple[QLabel, QPlainTextEdit]:
    label = QLabel(title)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setStyleSheet("font-weight: 600")
    edit = QPlainTextEdit(readOnly=True)
    edit.setPlainText(text)
    return label, edit


class ConflictDialog(QDialog):
    def __init__(self, base: MemoryRecord, mine: MemoryRecord, theirs: MemoryRecord, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Changed by someone else")
        self.resize(900, 460)
        self.choice = KEEP_EDITING
        who = theirs.extra.get("actor_id") or "another writer"
        intro = QLabel(
            f"While you were editing memory {base.id}, {who} changed it in the store. "
            "Choose which version to keep; nothing is written until you do."
        )
        intro.setTextFormat(Qt.TextFormat.PlainText)
        intro.setWordWrap(True)

        grid = QGridLayout()
        for col, (title, record) in enumerate(
            (("When you started", base), ("Theirs (now in the store)", theirs), ("Yours (not saved)", mine))
        ):
            label, edit = _pane(title, record.text)
            edit.setObjectName(f"conflict-{('base', 'theirs', 'mine')[col]}")
            grid.addWidget(label, 0, col)
            grid.addWidget(edit, 1, col)

        differing = [f for f in _FIELDS if len({_show(getattr(r, f)) for r in (base, theirs, mine)}) > 1]
        self.fields = QTableWidget(len(differing), 4)
        self.fields.setHorizontalHeaderLabels(["Field", "When you started", "Theirs", "Yours"])
        self.fields.verticalHeader().setVisible(False)
        header = self.fields.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        for row, name in enumerate(differing):
            values = [name, *(_show(getattr(r, name)) for r in (base, theirs, mine))]
            for col, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.fields.setItem(row, col, item)
        self.fields.setVisible(bool(differing))
        self.fields.setFixedHeight(header.sizeHint().height() + 30 * max(len(differing), 1) + 4)

        self.keep_mine = QPushButton("Keep mine")
        self.keep_mine.setToolTip("Save your version over theirs (their change stays in the history)")
        self.take_theirs = QPushButton("Take theirs")
        self.take_theirs.setToolTip("Drop your edit and show their version")
        self.keep_editing = QPushButton("Keep editing")
        self.keep_editing.setToolTip("Keep your text in the editor, on top of their version; save later")
        self.keep_editing.setDefault(True)
        for button, choice in (
            (self.keep_mine, KEEP_MINE),
            (self.take_theirs, TAKE_THEIRS),
            (self.keep_editing, KEEP_EDITING),
        ):
            button.clicked.connect(lambda _=False, c=choice: self._choose(c))
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (self.keep_mine, self.take_theirs, self.keep_editing):
            buttons.addWidget(b)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(grid, 1)
        layout.addWidget(self.fields)
        layout.addLayout(buttons)

    def _choose(self, choice: str) -> None:
        self.choice = choice
        self.accept()
