"""Can a window open here? Asked before the QApplication is made, by a child process.

Qt does not fail softly without a usable display: with DISPLAY naming an X server that is
not there, or an xcb plugin that lacks a system library (libxcb-cursor0 since Qt 6.5), it
prints a line and aborts the process, core dump and all. A child that only starts a
QGuiApplication takes that fall instead (in about half a second), and `memlens` says how
to go on. Importing this module imports no Qt.
"""

from __future__ import annotations

import os
import subprocess
import sys

PROBE_ENV = "MEMLENS_DISPLAY_PROBE"  # set in the child: start Qt, exit 0 if it could
HEADLESS_PLATFORMS = frozenset({"offscreen", "minimal"})
PROBE_TIMEOUT_S = 20
HOW = (
    "Run it on a desktop, use a headless command (memlens --help), "
    "or render off screen with QT_QPA_PLATFORM=offscreen."
)
XCB_HINT = (
    "If a desktop is running, Qt's xcb plugin may be missing a system library: "
    "install libxcb-cursor0 (e.g. sudo apt install libxcb-cursor0)."
)


def _platform() -> str:
    # QT_QPA_PLATFORM may carry options: "offscreen:fontengine=freetype".
    return os.environ.get("QT_QPA_PLATFORM", "").split(":", 1)[0].strip().lower()


def no_display_message() -> str | None:
    """Why the window cannot open here (one paragraph for the user), or None when it can."""
    platform = _platform()
    if platform in HEADLESS_PLATFORMS or sys.platform in ("win32", "darwin"):
        return None  # drawn off screen; Windows and macOS sessions always have their display
    if not platform and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        return f"no display found (neither DISPLAY nor WAYLAND_DISPLAY is set). {HOW}"
    return _probe_failure()


def _where() -> str:
    for name in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY", "DISPLAY"):
        if os.environ.get(name):
            return f"{name}={os.environ[name]}"
    return "this display"


def _no_core_dump() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _probe_failure() -> str | None:
    frozen = getattr(sys, "frozen", False)  # a bundle's executable is memlens itself
    command = [sys.executable] if frozen else [sys.executable, "-m", "memlens.display_check"]
    try:
        out = subprocess.run(
            command,
            env={**os.environ, PROBE_ENV: "1"},
            capture_output=True,
            text=True,
            errors="replace",
            timeout=PROBE_TIMEOUT_S,
            preexec_fn=_no_core_dump,
        )
    except subprocess.TimeoutExpired:
        return f"the display ({_where()}) did not answer within {PROBE_TIMEOUT_S} s. {HOW}"
    except OSError:
        return None  # no child to ask: let Qt itself try
    if out.returncode == 0:
        return None
    lines = [line.strip() for line in out.stderr.splitlines() if line.strip()]
    # Qt's first line says why ("qt.qpa.xcb: could not connect to display :99").
    reason = lines[0].split(": ", 1)[-1] if lines else f"exit status {out.returncode}"
    return f"cannot open a window on {_where()}: Qt could not start ({reason[:200]}). {HOW} {XCB_HINT}"


def probe() -> int:
    """In the child: start Qt's GUI layer the way the window will."""
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication(sys.argv[:1])
    return 0 if app.platformName() else 1


if __name__ == "__main__":
    sys.exit(probe())
