"""Conflict review: pairs that disagree, resolved by superseding one, editing either or
both in place (the pair leaves once they no longer disagree), or keeping both (a
dismissal); each journaled and undoable in one step."""

from __future__ import annotations

from PySide6.QtCore import Signal

from memlens.core.conflicts import Conflict, correct, find_conflicts, recheck, supersede
from memlens.core.dismissals import CONFLICT, Dismissals
from memlens.core.record import utc_now
from memlens.gui.curation_panel import CurationPanel, memory_block


class ConflictsPanel(CurationPanel):
    sig_found = Signal(list)  # the open conflicts, for views that mark them (the timeline)
    BLANK_HINT = "to retire one, say which is outdated or wrong"
    UNCHANGED_HINT = "Keep both says both are true"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.dismissals = Dismissals(self.service)
        self.found: list[Conflict] = []  # every candidate, dismissed or resolved ones included
        self.add_model_controls("Ask the language model to judge", stretch=True)
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
        self.edit_button = self.enable_editing("Correct either memory (or both), then Save")
        self.keep_button = self.add_button(
            "Keep both", self.keep, "K", "Not a conflict: do not offer it again (undoable)"
        )
        self.buttons.addStretch(1)
        self.status.setText(
            "Similar memories that disagree: retire one (O, N), correct them (E) or keep both (K)."
        )

    def load(self) -> None:
        self.find_asking_model(
            "Finding conflicts",
            "Looking for conflicts",
            " and asking {model}",
            lambda llm, ctx: find_conflicts(
                self.service, judge=llm.contradicts if llm else None, progress=ctx.progress
            ),
            self._found,
        )

    def _found(self, result: tuple[list[Conflict], str | None]) -> None:
        self.found, problem = result
        self.set_items(*self.relisted())
        found = f"{len(self.items)} possible conflicts, most similar first."
        self.status.setText(f"{problem} {found}" if problem else found)

    def set_items(self, items: list, labels: list[str], current: object = None) -> None:
        super().set_items(items, labels, current)
        self.sig_found.emit(list(items))

    def relisted(self) -> tuple[list[Conflict], list[str]]:
        """The conflicts still open: not dismissed, and neither side superseded, trashed or
        edited until they agree since they were found."""
        dismissed = self.dismissals.pairs(CONFLICT)
        rechecked = (recheck(self.service, c) for c in self.found if frozenset((c.a, c.b)) not in dismissed)
        conflicts = [c for c in rechecked if c is not None]

        def short(mid: str) -> str:
            r = self.service.get(mid)
            text = " ".join(r.text.split()) if r else mid
            return text[:48] + ("…" if len(text) > 48 else "")

        labels = [
            f"{c.similarity:.2f} · {short(c.a)}  ↔  {short(c.b)}  ·  {'; '.join(c.reasons)}"
            for c in conflicts
        ]
        return conflicts, labels

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
        can = self.current() is not None and self.editing is None
        for b in (self.old_button, self.new_button, self.edit_button, self.keep_button):
            b.setEnabled(can)

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
            self.remove_current()
            self.write(
                "Keeping both", lambda: self.dismissals.dismiss(CONFLICT, [c.a, c.b], reason="both true")
            )

    # -- editing ---------------------------------------------------------------
    def editable(self, item: Conflict) -> list[tuple[str, str]]:
        return [(f"Older · {item.a}", item.a), (f"Newer · {item.b}", item.b)]

    def save_texts(self, c: Conflict, texts: dict[str, str]) -> None:
        row = self.list.currentRow()
        self.write("Correcting", lambda: correct(self.service, texts), lambda: self._after_edit(c, row))

    def _after_edit(self, c: Conflict, row: int) -> None:
        """The pair stays, its reasons told again, while it still disagrees; else it leaves
        and the next one is current."""
        items, labels = self.relisted()
        still = next((i for i in items if (i.a, i.b) == (c.a, c.b)), None)
        near = items[min(row, len(items) - 1)] if items else None
        self.set_items(items, labels, still or near)
        if still is not None:
            self.status.setText(f"Saved; they still disagree: {'; '.join(still.reasons)}.")
        else:
            self.status.setText("Saved; the two no longer disagree.")
