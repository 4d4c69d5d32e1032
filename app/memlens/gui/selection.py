"""The one selection every view shares: select anywhere, every view shows it."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class SelectionModel(QObject):
    #: (selected ids, current id or "", the object that made the change)
    sig_changed = Signal(list, str, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ids: list[str] = []
        self._current = ""

    @property
    def ids(self) -> list[str]:
        return list(self._ids)

    @property
    def current(self) -> str:
        return self._current

    def set(self, ids: list[str], current: str | None = None, source: object = None) -> None:
        ids = list(dict.fromkeys(ids))
        current = current if current is not None else (ids[0] if ids else "")
        if ids == self._ids and current == self._current:
            return
        self._ids, self._current = ids, current
        self.sig_changed.emit(list(ids), current, source)

    def clear(self, source: object = None) -> None:
        self.set([], "", source)
