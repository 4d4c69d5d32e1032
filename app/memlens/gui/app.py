"""Starting the window: the QApplication, the style, and the first store to open."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from memlens import __version__
from memlens.core.server_spec import ServerSpec
from memlens.gui.main_window import MainWindow, start_window
from memlens.paths import RESOURCES

STYLE = RESOURCES / "themes" / "light.qss"


def make_app(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv or sys.argv[:1])
    app.setApplicationName("MemLens")
    app.setOrganizationName("MemLens")
    app.setApplicationVersion(__version__)
    if STYLE.is_file():
        app.setStyleSheet(STYLE.read_text(encoding="utf-8"))
    return app


def install_error_hook(window: MainWindow) -> None:
    """An exception in a Qt slot would otherwise only reach the terminal: show it."""
    previous = sys.excepthook

    def hook(kind, value, tb) -> None:
        previous(kind, value, tb)
        window.show_error(f"Something went wrong: {kind.__name__}: {value}")

    sys.excepthook = hook


def run(
    store: str | None = None,
    collection: str | None = None,
    model: str | None = None,
    demo: bool = False,
    server: ServerSpec | None = None,
    mem0_history: Path | None = None,
) -> int:
    app = make_app()
    window = MainWindow(model=model)
    install_error_hook(window)
    window.show()
    start_window(window, store, collection, demo, server, mem0_history)
    return app.exec()
