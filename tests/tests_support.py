"""Small helpers for tests (not fixtures)."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def source_files_importing(module: str) -> list[str]:
    """Files under app/ and plugins/ that import `module` (or a submodule of it)."""
    found = []
    for path in sorted([*REPO.glob("app/**/*.py"), *REPO.glob("plugins/**/*.py")]):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(n == module or n.startswith(module + ".") for n in names):
                found.append(str(path.relative_to(REPO)))
                break
    return found
