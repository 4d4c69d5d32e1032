#!/usr/bin/env bash
# Build the desktop bundle (dist/memlens/) with PyInstaller, then smoke-test it.
#   packaging/build.sh            # needs the checkout's .venv (make setup)
# The bundle holds the model, torch (CPU) and Qt: about 1.5 GB, several minutes to build.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
test -x "$BIN/python" || make setup
"$BIN/python" -m pip install --quiet "pyinstaller>=6.10"
# Hooks import Qt modules while collecting them; no screen is needed for that.
export QT_QPA_PLATFORM=offscreen
"$BIN/pyinstaller" --noconfirm --clean --distpath dist --workpath build/pyinstaller packaging/memlens.spec
"$BIN/python" packaging/smoke_test.py dist/memlens/memlens
