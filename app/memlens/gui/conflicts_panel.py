"""Conflict review: pairs that disagree, resolved by superseding one, editing, or keeping both."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QPushButton

from memlens.core.conflicts import Conflict, find_conflicts, supersede
from memlens.core.dismissals import Dismissals
from memlens.core.llm import LLM, LLMConfig
from memlens.core.record import utc_now
from memlens.gui.curation_panel import CurationPanel, memory_block


class ConflictsPanel(CurationPanel):
    sig_found = Signal(list)  # the open conflicts, for views that mark them (the timeline)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.dismissals = Dismissals(self.service.journal.path, self.service.store.collection)
        self.llm_config = LLMConfig.from_env()
        self.use_model = QCheckBox("Ask the language model to judge")
        self.use_model.setEnabled(self.llm_config.configured)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.load)
        self.top.addWidget(self.use_model)
        self.top.addStretch(1)
        self.top.addWidget(refresh)
        self.old_button = self.add_button(
            "Older is outdated",
            lambda: self.resolve(newer_wins=True),
            "O",
            "Keep both; the older stops being valid",
        )
        self.new_button = self.add_button(
            "Newer is wrong",
            lambda: self.resolve(newer_wins=False),
            "N",
            "Keep both; the newer stops being valid",
        )
        self.keep_button = self.add_button(
            "Keep both", self.keep, "K", "Not a conflict: never offer it again"
        )
        self.buttons.addStretch(1)
        self.status.setText("Similar memories that disagree. To edit one, change it in the inspector.")

    def load(self) -> None:
        self.loaded = True
        judge = None
        if self.use_model.isChecked() and self.llm_config.configured:
            llm = LLM(self.llm_config)
            judge = lambda a, b: llm.judge_conflict(a.text, b.text)  # noqa: E731
        dismissed = self.dismissals.pairs("conflict")
        self.status.setText("Looking for conflicts…")
        self.workers.read(
            "Finding conflicts",
            lambda ctx: find_conflicts(self.service, dismissed=dismissed, judge=judge, progress=ctx.progress),
            self._found,
        )

    def _found(self, conflicts: list[Conflict]) -> None:
        def short(mid: str) -> str:
            r = self.service.get(mid)
            text = " ".join(r.text.split()) if r else mid
            return text[:48] + ("…" if len(text) > 48 else "")

        labels = [
            f"{c.similarity:.2f} · {short(c.a)}  ↔  {short(c.b)}  ·  {'; '.join(c.reasons)}"
            for c in conflicts
        ]
        self.set_items(conflicts, labels)
        self.sig_found.emit(conflicts)
        self.status.setText(f"{len(conflicts)} possible conflicts, most similar first.")

    def item_ids(self, item: Conflict) -> list[str]:
        return [item.a, item.b]

    def describe(self, item: Conflict) -> str:
        return (
            f"Why: {'; '.join(item.reasons)}\n\nOLDER\n{memory_block(self.service, item.a)}\n\n"
            f"NEWER\n{memory_block(self.service, item.b)}"
        )

    def empty_text(self) -> str:
        return "No conflicts found."

    def update_buttons(self) -> None:
        for b in (self.old_button, self.new_button, self.keep_button):
            b.setEnabled(self.current() is not None)

    def resolve(self, newer_wins: bool) -> None:
        c = self.current()
        if c is None:
            return
        old, new = (c.a, c.b) if newer_wins else (c.b, c.a)
        when = None if newer_wins else utc_now()  # a wrong newer fact ends now, not before it began
        self.remove_current()
        self.write("Superseding", lambda: supersede(self.service, old, new, when=when))

    def keep(self) -> None:
        c = self.current()
        if c is not None:
            self.dismissals.dismiss("conflict", [c.a, c.b], reason="both true")
            self.remove_current()
