"""Hallucination review: suspects one by one, fast keyboard triage, every decision journaled."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton

from memlens.core.review import Suspect, decide, review_queue
from memlens.core.support import source_texts
from memlens.gui.curation_panel import CurationPanel, memory_block


class ReviewPanel(CurationPanel):
    sig_edit = None  # set by the page: a callable that puts the inspector in edit mode

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.reviewed = 0
        self.total = 0
        self.progress = QLabel()
        self.reason = QLineEdit(placeholderText="Reason (optional): kept in the journal with the decision")
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.load)
        self.top.addWidget(self.progress)
        self.top.addWidget(self.reason, 1)
        self.top.addWidget(refresh)
        self.verify_button = self.add_button(
            "Verify", lambda: self.decide("verify"), "V", "True: mark verified"
        )
        self.edit_button = self.add_button("Edit", self.edit, "E", "Correct it in the inspector, then Save")
        self.archive_button = self.add_button(
            "Archive", lambda: self.decide("archive"), "A", "Unsupported: archive"
        )
        self.skip_button = self.add_button("Skip", lambda: self.decide("skip"), "S", "Decide later")
        self.buttons.addStretch(1)
        self.status.setText("Memories their own source does not support, and flagged ones. Keys: V E A S.")

    def load(self) -> None:
        self.loaded = True
        self.status.setText("Scoring memories against their sources…")
        self.workers.read("Building the review queue", lambda ctx: review_queue(self.service), self._found)

    def _found(self, queue: list[Suspect]) -> None:
        self.reviewed, self.total = 0, len(queue)
        labels = []
        for s in queue:
            score = f"{s.support.score:.2f}" if s.support else "—"
            labels.append(f"{s.origin} · {score} · {' '.join(s.record.text.split())[:70]}")
        self.set_items(queue, labels)
        self._update_progress()
        self.status.setText(f"{len(queue)} memories to review: flags first, then the least supported.")

    def _update_progress(self) -> None:
        self.progress.setText(f"Reviewed {self.reviewed} of {self.total}")

    def item_ids(self, item: Suspect) -> list[str]:
        return [item.record.id]

    def describe(self, item: Suspect) -> str:
        turns = source_texts(item.record)
        source = "\n".join(f"  · {t}" for t in turns) or "  (no source turns)"
        return f"Why: {item.why}\n\n{memory_block(self.service, item.record.id)}\n\nSOURCE TURNS\n{source}"

    def empty_text(self) -> str:
        return "Nothing left to review."

    def update_buttons(self) -> None:
        for b in (self.verify_button, self.edit_button, self.archive_button, self.skip_button):
            b.setEnabled(self.current() is not None)

    def decide(self, decision: str) -> None:
        suspect = self.current()
        if suspect is None:
            return
        reason = self.reason.text().strip() or None
        mid = suspect.record.id
        self.reason.clear()
        self._done_one()
        self.write(f"Review: {decision}", lambda: decide(self.service, mid, decision, reason))

    def edit(self) -> None:
        """Editing happens in the inspector; the save is the decision (journaled there)."""
        suspect = self.current()
        if suspect is not None and self.sig_edit is not None:
            self.sig_edit(suspect.record.id)
            self._done_one()

    def _done_one(self) -> None:
        self.reviewed += 1
        self._update_progress()
        self.remove_current()
