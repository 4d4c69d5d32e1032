"""A strip for the Sessions panel: let agents in other processes report, see where to.

"Listen for agents" starts the ingest plugin's endpoint (off the GUI thread); while it
listens the strip shows its address and the token (hidden until asked), with buttons
that copy the token or the two environment variables an agent needs.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

INGEST_PLUGIN = "ingest"


class IngestBar(QWidget):
    sig_done = Signal(str, str)  # (url or "", error or ""): a start or stop finished (any thread)

    def __init__(self, bridge, plugin: str = INGEST_PLUGIN, parent=None) -> None:
        super().__init__(parent)
        self.host = bridge.host
        self.plugin_name = plugin
        self._busy = False
        self.state = QLabel()
        self.state.setWordWrap(True)
        self.token_field = QLineEdit(readOnly=True)
        self.token_field.setEchoMode(QLineEdit.EchoMode.Password)
        self.token_field.setToolTip(
            "The token agents must send; kept in the system keyring, or owner-only in MemLens' data folder"
        )
        self.show_token = QToolButton(text="Show", checkable=True)
        self.show_token.setToolTip("Show the token agents must send")
        self.show_token.toggled.connect(
            lambda on: self.token_field.setEchoMode(
                QLineEdit.EchoMode.Normal if on else QLineEdit.EchoMode.Password
            )
        )
        self.copy_token = QPushButton("Copy token")
        self.copy_token.clicked.connect(lambda: self._copy(self._plugin().token))
        self.copy_setup = QPushButton("Copy agent setup")
        self.copy_setup.setToolTip("MEMLENS_URL and MEMLENS_TOKEN, for an agent's environment")
        self.copy_setup.clicked.connect(lambda: self._copy(self.setup_text()))
        self.toggle = QPushButton()
        self.toggle.clicked.connect(self._toggle)

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.state, 1)
        top.addWidget(self.toggle)
        token = QHBoxLayout()
        token.setContentsMargins(0, 0, 0, 0)
        token.addWidget(QLabel("Token:"))
        token.addWidget(self.token_field, 1)
        token.addWidget(self.show_token)
        token.addWidget(self.copy_token)
        token.addWidget(self.copy_setup)
        self.token_row = QWidget()
        self.token_row.setLayout(token)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.token_row)

        self.sig_done.connect(self._done)
        bridge.sig_plugins.connect(self.refresh)
        self.refresh()

    def _plugin(self):
        """The ingest plugin object, None while it is not loaded (or not installed)."""
        try:
            return self.host.plugin(self.plugin_name)
        except KeyError:
            return None

    def setup_text(self) -> str:
        plugin = self._plugin()
        return f"MEMLENS_URL={plugin.url}\nMEMLENS_TOKEN={plugin.token}\n"

    def refresh(self) -> None:
        plugin = self._plugin()
        running = plugin is not None and plugin.running
        self.toggle.setText("Stop" if running else "Listen for agents")
        self.toggle.setEnabled(plugin is not None and not self._busy)
        self.toggle.setToolTip(
            "Enable the ingest plugin under Plugins ▸ Plugins…"
            if plugin is None
            else "Let agents in other processes (memlens.client, OpenTelemetry exporters) report here"
        )
        self.token_row.setVisible(running)
        if plugin is None:
            self.state.setText("Agents in other processes: the ingest plugin is not active.")
        elif running:
            self.state.setText(f"Listening for agents on {plugin.url}")
            self.token_field.setText(plugin.token)
        elif not self._busy:
            self.state.setText("Agents in other processes: not listening.")

    def _toggle(self) -> None:
        plugin = self._plugin()
        if plugin is None or self._busy:
            return
        self._busy = True
        stopping = plugin.running
        self.state.setText("Stopping…" if stopping else "Starting…")
        self.toggle.setEnabled(False)

        def work() -> None:  # binding a port or joining threads: never on the GUI thread
            try:
                if stopping:
                    plugin.stop()
                    self.sig_done.emit("", "")
                else:
                    self.sig_done.emit(plugin.start(), "")
            except Exception as exc:
                self.sig_done.emit("", getattr(exc, "strerror", None) or str(exc))

        threading.Thread(target=work, name="ingest start/stop", daemon=True).start()

    def _done(self, _url: str, error: str) -> None:
        self._busy = False
        self.refresh()
        if error:
            self.state.setText(f"Could not listen: {error}")

    def _copy(self, text: str) -> None:
        QGuiApplication.clipboard().setText(text)
