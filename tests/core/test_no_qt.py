"""The core and the command line must run where Qt cannot (servers, CI, plugins)."""

import subprocess
import sys

BLOCKER = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6'):
            raise ImportError('Qt is blocked in this test: ' + name)
sys.meta_path.insert(0, Block())
import pkgutil, importlib, memlens.core
for m in pkgutil.walk_packages(memlens.core.__path__, 'memlens.core.'):
    importlib.import_module(m.name)
import memlens.cli
print('ok', sorted(k for k in sys.modules if k.startswith('memlens.core.')).__len__())
"""


def test_core_imports_with_qt_blocked():
    out = subprocess.run([sys.executable, "-c", BLOCKER], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ok")
    assert int(out.stdout.split()[1]) >= 10  # every core module was really imported


def test_chromadb_imported_by_one_module_only():
    from tests_support import source_files_importing

    assert source_files_importing("chromadb") == ["app/memlens/core/chroma_store.py"]
