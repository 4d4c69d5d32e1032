"""A QUndoStack that mirrors the journal: the journal decides, the stack shows and steers.

Each command stands for one journal group. Pushing a command does not re-apply it (the
service already has); undoing or redoing it asks the service to undo or redo, on the
write lane, so the store changes off the GUI thread and in order.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QUndoCommand, QUndoStack


class JournalCommand(QUndoCommand):
    def __init__(self, label: str, stack: JournalUndoStack) -> None:
        super().__init__(label)
        self._stack = stack
        self._pushed = False

    def redo(self) -> None:
        if not self._pushed:  # the service applied it before it was pushed
            self._pushed = True
            return
        if not self._stack.replaying:
            self._stack.request("redo")

    def undo(self) -> None:
        if not self._stack.replaying:
            self._stack.request("undo")


class JournalUndoStack(QUndoStack):
    def __init__(self, request: Callable[[str], None], parent=None) -> None:
        super().__init__(parent)
        self._request = request
        self.replaying = False

    def request(self, what: str) -> None:
        self._request(what)

    def record(self, label: str) -> None:
        """A change was applied through the service: show it as the newest undo step."""
        self.push(JournalCommand(label, self))

    def rebuild(self, applied: list[str], undone: list[str]) -> None:
        """Mirror the journal on open: past actions can be undone across restarts."""
        self.replaying = True
        try:
            self.clear()
            for label in applied + undone:  # undone in redo order, oldest first
                self.push(JournalCommand(label, self))
            for _ in undone:
                self.undo()
        finally:
            self.replaying = False
