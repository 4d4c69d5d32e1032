"""A QUndoStack that mirrors the journal: the journal decides, the stack shows and steers.

Each command stands for one journal group and carries its id. Pushing a command does not
re-apply it (the service already has); undoing or redoing it asks the service to undo or
redo that group, on the write lane. The service refuses when the journal's next step is
another group (another window, process or plugin wrote to it), and the window then
rebuilds the stack from the journal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtGui import QUndoCommand, QUndoStack

from memlens.core.journal import Group


class JournalCommand(QUndoCommand):
    def __init__(self, label: str, group_id: str | None, stack: JournalUndoStack) -> None:
        super().__init__(label)
        self.group_id = group_id
        self._stack = stack
        self._pushed = False

    def redo(self) -> None:
        if not self._pushed:  # the service applied it before it was pushed
            self._pushed = True
            return
        if not self._stack.replaying:
            self._stack.request("redo", self.group_id)

    def undo(self) -> None:
        if not self._stack.replaying:
            self._stack.request("undo", self.group_id)


class JournalUndoStack(QUndoStack):
    def __init__(self, request: Callable[[str, str | None], None], parent=None) -> None:
        super().__init__(parent)
        self._request = request
        self.replaying = False

    def request(self, what: str, group_id: str | None) -> None:
        self._request(what, group_id)

    def record(self, label: str, group_id: str | None) -> None:
        """A change was applied through the service: show it as the newest undo step."""
        top = self.command(self.index() - 1) if self.index() else None
        if group_id is not None and top is not None and top.group_id == group_id:
            return  # already there: the stack was rebuilt from the journal after the write
        self.push(JournalCommand(label, group_id, self))

    def group_ids(self) -> list[str | None]:
        """The groups the stack stands for, oldest first (undone ones last)."""
        return [self.command(i).group_id for i in range(self.count())]

    def rebuild(self, applied: Sequence[Group], undone: Sequence[Group]) -> None:
        """Mirror the journal (on open, and when it moved under the stack): past actions can
        be undone across restarts."""
        self.replaying = True
        try:
            self.clear()
            for group in [*applied, *undone]:  # undone in redo order, oldest first
                self.push(JournalCommand(group.label, group.id, self))
            for _ in undone:
                self.undo()
        finally:
            self.replaying = False
