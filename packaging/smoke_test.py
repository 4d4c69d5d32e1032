"""Smoke test of a built MemLens: the commands a new user runs first, and the window.

    python packaging/smoke_test.py dist/memlens/memlens     # the PyInstaller bundle
    python packaging/smoke_test.py .venv/bin/memlens        # the installed console script

Everything happens in a throw-away data folder. Each step prints what it saw; the first
step that fails stops the run with exit code 1. The window step needs PySide6 in the
Python that runs this script, to read the picture back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

# The first run loads the model from disk; the window also opens the store and indexes it.
TIMEOUT_S = 300


class SmokeFailure(Exception):
    pass


def run(memlens: list[str], *args: str, env: dict[str, str], expect: int = 0) -> str:
    done = subprocess.run(
        [*memlens, *args], env=env, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
    )
    if done.returncode != expect:
        raise SmokeFailure(
            f"`memlens {' '.join(args)}` exited {done.returncode} (expected {expect}):\n"
            f"{done.stderr.strip() or done.stdout.strip()}"
        )
    return done.stdout + done.stderr


def picture_colours(path: Path) -> tuple[int, int, int]:
    """(width, height, distinct colours on a coarse grid) of a PNG."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QImage

    image = QImage(str(path))
    if image.isNull():
        raise SmokeFailure(f"{path} is not a readable picture")
    w, h = image.width(), image.height()
    colours = {image.pixel(x, y) for x in range(0, w, 7) for y in range(0, h, 7)}
    return w, h, len(colours)


def smoke(memlens: list[str], work: Path) -> list[str]:
    env = {**os.environ, "MEMLENS_DATA_DIR": str(work / "data"), "HF_HUB_OFFLINE": "1"}
    store = str(work / "store")
    seen = []

    out = run(memlens, "--version", env=env)
    seen.append(f"version: {out.strip()}")

    out = run(memlens, "demo", "--store", store, env=env)
    seen.append(f"demo: {out.strip()}")

    stats = json.loads(run(memlens, "stats", "--store", store, "--json", env=env))
    demo = next((c for c in stats["collections"] if c["name"] == "demo"), None)
    if demo is None or demo["count"] < 100 or demo["dimension"] != 384:
        raise SmokeFailure(f"stats does not list the demo collection as expected: {stats}")
    seen.append(f"stats: demo holds {demo['count']} memories, {demo['dimension']}-dimensional")

    out = run(
        memlens, "search", "Which foods is anyone allergic to?", "--store", store, "--collection", "demo",
        "--k", "3", "--json", env=env,
    )  # fmt: skip
    hits = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    if not hits or not any("allerg" in h["text"].lower() for h in hits):
        raise SmokeFailure(f"search found nothing about allergies: {hits}")
    seen.append(f"search: top hit {hits[0]['text']!r} ({hits[0]['score']:.2f})")

    out = run(memlens, "traces", "--store", store, env=env)
    if "allergic" not in out:
        raise SmokeFailure(f"the search was not recorded as a trace:\n{out}")
    seen.append("traces: the search is recorded")

    out = run(memlens, "stats", "--store", str(work / "nowhere"), env=env, expect=1)
    seen.append(f"bad store: {out.strip()}")

    picture = work / "window.png"
    gui_env = {**env, "QT_QPA_PLATFORM": env.get("QT_QPA_PLATFORM", "offscreen")}
    run(memlens, "--store", store, "--collection", "demo", "--screenshot", str(picture), env=gui_env)
    w, h, colours = picture_colours(picture)
    if w < 800 or h < 500 or colours < 20:
        raise SmokeFailure(f"the window picture looks empty: {w}×{h}, {colours} colours ({picture})")
    seen.append(f"window: {w}×{h} picture with {colours} colours")
    return seen


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    memlens = argv[1:]
    keep = Path(tempfile.mkdtemp(prefix="memlens-smoke-"))
    try:
        for line in smoke(memlens, keep):
            print(f"ok  {line}")
    except (SmokeFailure, subprocess.TimeoutExpired, OSError, json.JSONDecodeError) as exc:
        print(f"FAILED  {exc}\n(files kept in {keep})", file=sys.stderr)
        return 1
    print(f"smoke test passed ({keep})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
