"""Files that ship with MemLens in the checkout (icons, demo inputs)."""

from pathlib import Path

# app/memlens/paths.py -> the checkout root, where resources/ sits beside app/.
RESOURCES = Path(__file__).resolve().parents[2] / "resources"
