"""Hallucination review: suspects one by one, fast keyboard triage, every decision journaled
with the reason typed beside it. Edit opens the corrected text under the source turns;
it counts as reviewed once saved."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QLineEdit

from memlens.core.review import Suspect, decide, review_queue
from memlens.core.support import source_texts
from memlens.gui.curation_panel import CurationPanel, memory_block


class ReviewPanel(CurationPanel):
    BLANK_HINT = "Archive removes a memory"
    UNCHANGED_HINT = "Verify marks it as true"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.reviewed = 0
        self.total = 0
        self.progress = QLabel()
        self.reason = QLineEdit(placeholderText="Reason (optional): kept in the journal with the decision")
        self.top.addWidget(self.progress)
        self.top.addWidget(self.reason, 1)
        self.add_model_controls("Ask the language model about weak ones")
        self.verify_button = self.add_button(
            "Verify", lambda: self.decide("verify"), "V", "True: mark verified"
        )
        self.edit_button = self.enable_editing("Correct the text, then Save")
        self.archive_button = self.add_button(
            "Archive", lambda: self.decide("archive"), "A", "Unsupported: archive"
        )
        self.skip_button = self.add_button("Skip", lambda: self.decide("skip"), "S", "Decide later")
        self.buttons.addStretch(1)
        self.status.setText("Memories their own source does not support, and flagged ones. Keys: V E A S.")

    def load(self) -> None:
        self.find_asking_model(
            "Building the review queue",
            "Scoring memories against their sources",
            " (asking {model} about the weak ones)",
            lambda llm, ctx: review_queue(self.service, judge=llm.supports if llm else None),
            self._found,
        )

    def _found(self, result: tuple[list[Suspect], str | None]) -> None:
        queue, problem = result
        self.reviewed, self.total = 0, len(queue)
        labels = []
        for s in queue:
            score = f"{s.support.score:.2f}" if s.support else "—"
            labels.append(f"{s.origin} · {score} · {' '.join(s.record.text.split())[:70]}")
        self.set_items(queue, labels)
        self._update_progress()
        found = f"{len(queue)} memories to review: flags first, then the least supported."
        self.status.setText(f"{problem} {found}" if problem else found)

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
        can = self.current() is not None and self.editing is None
        for b in (self.verify_button, self.edit_button, self.archive_button, self.skip_button):
            b.setEnabled(can)

    def _take_reason(self) -> str | None:
        reason = self.reason.text().strip() or None
        self.reason.clear()
        return reason

    def decide(self, decision: str) -> None:
        suspect = self.current()
        if suspect is None or self.editing is not None:
            return
        reason = self._take_reason()
        mid = suspect.record.id
        self._done(suspect)
        self.write(f"Review: {decision}", lambda: decide(self.service, mid, decision, reason))

    # -- editing ---------------------------------------------------------------
    def editable(self, item: Suspect) -> list[tuple[str, str]]:
        return [("", item.record.id)]

    def save_texts(self, suspect: Suspect, texts: dict[str, str]) -> None:
        ((mid, text),) = texts.items()
        reason = self._take_reason()
        # Reviewed once the correction is written; a failed save leaves it in the queue.
        self.write(
            "Review: edit",
            lambda: decide(self.service, mid, "edit", reason, text=text),
            lambda: self._done(suspect),
        )

    def _done(self, suspect: Suspect) -> None:
        """One more reviewed; the suspect leaves the list, wherever the user has moved to."""
        self.reviewed += 1
        self._update_progress()
        if suspect not in self.items:
            return
        row = self.items.index(suspect)
        if row == self.list.currentRow():
            self.remove_current()
        else:
            del self.items[row]
            self.list.takeItem(row)
            self.update_buttons()
