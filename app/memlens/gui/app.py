"""Starting the window: the QApplication, the style, and the first store to open."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from memlens import __version__
from memlens.core.server_spec import ServerSpec
from memlens.gui.main_window import MainWindow, start_window
from memlens.paths import APP_ICON, RESOURCES

STYLE = RESOURCES / "themes" / "light.qss"
FONT_POINTS = 10


# How long a thread may keep the GIL while another waits for it (Python's default: 5 ms).
# The GUI thread enters Python for every table cell it paints and every slot; each time
# a busy worker held the GIL it waited up to 5 ms, and a repaint of the table beside a
# write at 100,000 memories stalled for 150 ms (bench/bench_window.py).
GIL_SWITCH_INTERVAL_S = 0.0005


def make_app(argv: list[str] | None = None) -> QApplication:
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    app = QApplication.instance() or QApplication(argv or sys.argv[:1])
    app.setApplicationName("MemLens")
    app.setOrganizationName("MemLens")
    app.setApplicationVersion(__version__)
    # Wayland and the task bar find the icon through the installed .desktop file's name.
    app.setDesktopFileName("io.github.memlens.MemLens")
    if APP_ICON.is_file():
        app.setWindowIcon(QIcon(str(APP_ICON)))
    font = app.font()
    font.setPointSize(FONT_POINTS)
    app.setFont(font)
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
    screenshot: Path | None = None,
) -> int:
    app = make_app()
    window = MainWindow(model=model)
    install_error_hook(window)
    window.show()
    start_window(window, store, collection, demo, server, mem0_history)
    if screenshot is not None:
        from memlens.gui.snapshot import Snapshot

        snapshot = Snapshot(window, screenshot, on_done=app.exit)
        code = app.exec()
        return code if snapshot.exit_code is None else snapshot.exit_code
    return app.exec()
