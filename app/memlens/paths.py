"""Files that ship with MemLens (icons, theme, demo inputs)."""

import sys
from pathlib import Path


def _resources() -> Path:
    # A PyInstaller bundle unpacks its data beside the code (packaging/memlens.spec);
    # in a checkout, app/memlens/paths.py -> the root, where resources/ sits beside app/.
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


RESOURCES = _resources()
APP_ICON = RESOURCES / "icons" / "memlens.svg"
