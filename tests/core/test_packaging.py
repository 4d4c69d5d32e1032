"""What a desktop bundle and a Linux desktop need from the checkout: a launcher that runs
the `memlens` command, the icon, and a .desktop entry and AppStream metainfo that agree."""

from __future__ import annotations

import configparser
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET

from memlens import __version__
from memlens.paths import APP_ICON
from tests_support import REPO

APP_ID = "io.github.memlens.MemLens"
LINUX = REPO / "resources" / "linux"


def test_the_bundle_launcher_runs_the_memlens_command():
    done = subprocess.run(
        [sys.executable, str(REPO / "packaging" / "launcher.py"), "--version"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"memlens {__version__}"


def test_the_desktop_entry_starts_the_console_script_with_the_app_icon():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # keys are case-sensitive in .desktop files
    entry.read(LINUX / f"{APP_ID}.desktop", encoding="utf-8")
    desktop = entry["Desktop Entry"]
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert desktop["Type"] == "Application"
    assert desktop["Exec"].split()[0] in scripts
    assert desktop["Icon"] == APP_ID
    assert desktop["Categories"].endswith(";")
    assert APP_ICON.is_file() and APP_ICON.read_text().lstrip().startswith("<svg")


def test_the_metainfo_names_the_desktop_entry_and_the_binary():
    root = ET.parse(LINUX / f"{APP_ID}.metainfo.xml").getroot()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    assert root.find("launchable").text == f"{APP_ID}.desktop"
    assert root.find("provides/binary").text == "memlens"
    assert root.findtext("summary")
