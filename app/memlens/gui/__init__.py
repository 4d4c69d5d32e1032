"""PySide6 + pyqtgraph front end. Views take their model in __init__ and own no data."""
