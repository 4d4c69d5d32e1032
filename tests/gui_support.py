"""Helpers for GUI tests: wait for background work, read what the table shows."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox


def wait_idle(qtbot, window, timeout: int = 60000) -> None:
    qtbot.waitUntil(lambda: not window.workers.busy, timeout=timeout)
    qtbot.wait(10)


def column_values(page, name: str) -> list[str]:
    """What the user reads in one column of the table, top to bottom (loaded rows)."""
    model = page.model
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    col = headers.index(name)
    return [model.index(r, col).data() for r in range(model.rowCount())]


def type_search(qtbot, window, text: str, semantic: bool = True) -> None:
    bar = window.page.filter_bar
    if bar.mode.isChecked() != semantic:
        bar.mode.click()
    bar.search.clear()
    qtbot.keyClicks(bar.search, text)
    qtbot.keyClick(bar.search, Qt.Key.Key_Return)
    wait_idle(qtbot, window)


def click_row(qtbot, window, row: int) -> None:
    view = window.page.table
    rect = view.visualRect(view.model().index(row, 1))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def answer_next_dialog(qtbot, button: QMessageBox.StandardButton) -> None:
    """Press `button` on the next message box that opens (modal dialogs block the test)."""

    def press() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            box.button(button).click()
        else:
            QTimer.singleShot(20, press)

    QTimer.singleShot(20, press)
