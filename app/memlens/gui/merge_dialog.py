"""The merge dialog: sources side by side, an editable merged text, what the merge will keep."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QGroupBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from memlens.core.llm import LLM, LLMConfig
from memlens.core.merge import merged_record, suggested_text
from memlens.core.record import MemoryRecord
from memlens.gui.times import utc_minute
from memlens.gui.workers import Workers


def _source_box(r: MemoryRecord) -> QGroupBox:
    when = (utc_minute(r.created_at) + " UTC") if r.created_at else "no time"
    box = QGroupBox(f"{r.id} · {r.owner or 'no owner'} · {when}")
    text = QPlainTextEdit(readOnly=True)
    text.setPlainText(r.text)
    text.setMinimumHeight(90)
    layout = QVBoxLayout(box)
    layout.addWidget(text)
    return box


class MergeDialog(QDialog):
    def __init__(
        self, sources: list[MemoryRecord], workers: Workers, llm_config: LLMConfig | None = None, parent=None
    ):
        super().__init__(parent)
        self.setWindowTitle(f"Merge {len(sources)} memories")
        self.resize(max(760, 340 * min(len(sources), 3) + 60), 640)
        self.sources = sources
        self.workers = workers
        self.llm_config = llm_config or LLMConfig.current(read_keyring=False)

        # Side by side: up to three in a row, more wrap onto further rows.
        listing = QWidget()
        listing_layout = QGridLayout(listing)
        columns = min(len(sources), 3)
        for n, r in enumerate(sources):
            listing_layout.addWidget(_source_box(r), n // columns, n % columns)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(listing)

        self.text = QPlainTextEdit()
        self.text.setPlainText(suggested_text(sources))
        self.text.textChanged.connect(self._update_summary)
        self.summary = QLabel()
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        self.suggest = QPushButton("Suggest")
        self.suggest.setEnabled(self.llm_config.configured)
        self.suggest.setToolTip(
            "Ask the language model for a merged text"
            if self.llm_config.configured
            else "Set a language model (File ▸ Language Model…) to let it suggest a text"
        )
        self.suggest.clicked.connect(self._ask_model)
        merged_box = QGroupBox("Merged memory (editable)")
        merged_layout = QVBoxLayout(merged_box)
        merged_layout.addWidget(self.text)
        merged_layout.addWidget(self.summary)
        merged_layout.addWidget(self.suggest, alignment=Qt.AlignmentFlag.AlignLeft)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(scroll)
        splitter.addWidget(merged_box)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.merge_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.merge_button.setText("Merge")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(buttons)
        self._update_summary()

    @property
    def merged_text(self) -> str:
        return self.text.toPlainText().strip()

    def _update_summary(self) -> None:
        blank = not self.merged_text
        self.merge_button.setEnabled(not blank)
        self.merge_button.setToolTip("The merged memory needs some text" if blank else "")
        m = merged_record(self.sources, self.merged_text or " ")
        when = (utc_minute(m.created_at) + " UTC") if m.created_at else "no time"
        self.summary.setText(
            f"Owner {m.user_id or '—'} · agent {m.agent_id or '—'} · created {when} · "
            f"tags {', '.join(m.tags) or '—'} · links {len(m.links)}. "
            f"The {len(self.sources)} sources are archived (restorable), links to them point here."
        )

    def _ask_model(self) -> None:
        texts = [r.text for r in self.sources]
        config = self.llm_config
        self.suggest.setEnabled(False)
        self.suggest.setText("Asking…")

        def done(text: str) -> None:
            self.text.setPlainText(text)
            self._restore_button()

        def failed(message: str) -> None:
            self.summary.setText(message)
            self._restore_button()

        self.workers.read(
            "Asking the language model", lambda ctx: LLM(config).suggest_merge(texts), done, failed
        )

    def _restore_button(self) -> None:
        self.suggest.setText("Suggest")
        self.suggest.setEnabled(True)
