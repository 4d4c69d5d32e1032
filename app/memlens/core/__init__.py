"""Qt-free engine: records, stores, embeddings, journal and the curation service.

Nothing in this package may import PySide6 or pyqtgraph (tests/core/test_no_qt.py).
"""
