"""A real main window, offscreen, on a store prepared for the test."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from gui_support import wait_idle


@pytest.fixture
def open_window(qtbot, tmp_path, embedder):
    """Make a window (sharing the session's loaded model) and open a store in it."""
    windows = []

    def make(store=None, collection=None, demo=False):
        from memlens.gui.main_window import MainWindow

        window = MainWindow(settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
        window.embedder = embedder
        qtbot.addWidget(window)
        window.show()
        if demo:
            window.open_demo(store)
        elif store is not None:
            window.open_store(store, collection)
        windows.append(window)
        if demo or store is not None:
            qtbot.waitUntil(lambda: window.page is not None or window.banner.isVisible(), timeout=60000)
            wait_idle(qtbot, window)
        return window

    yield make
    for w in windows:
        w.workers.wait()


@pytest.fixture
def demo_window(open_window, tmp_path):
    return open_window(tmp_path / "store", demo=True)
