"""File ▸ Connect to Server…: a Chroma server's address, tenant, database and token.

The token is kept only in memory for this connection (or read from
$MEMLENS_CHROMA_TOKEN); it is never written to the settings file.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
)

from memlens.core.server_spec import (
    DEFAULT_DATABASE,
    DEFAULT_TENANT,
    TOKEN_ENV,
    TOKEN_HEADERS,
    ServerSpec,
)


class ServerDialog(QDialog):
    def __init__(self, initial: str = "http://localhost:8000", collection: str = "", parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Connect to a Chroma server")
        self.spec: ServerSpec | None = None
        try:
            start = ServerSpec.parse(initial)
        except ValueError:
            start = ServerSpec.parse("http://localhost:8000")
        self.url = QLineEdit(start.base_url)
        self.url.setPlaceholderText("http://host:8000 or https://host")
        self.tenant = QLineEdit("" if start.tenant == DEFAULT_TENANT else start.tenant)
        self.tenant.setPlaceholderText(DEFAULT_TENANT)
        self.database = QLineEdit("" if start.database == DEFAULT_DATABASE else start.database)
        self.database.setPlaceholderText(DEFAULT_DATABASE)
        self.collection = QLineEdit(collection)
        self.collection.setPlaceholderText("the first one, or 'memories'")
        self.token = QLineEdit(start.token or "")
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText(f"none (or set ${TOKEN_ENV})")
        self.header = QComboBox()
        self.header.addItems([f"{TOKEN_HEADERS[0]}: Bearer <token>", f"{TOKEN_HEADERS[1]}: <token>"])
        self.error = QLabel()
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setStyleSheet("color: #b91c1c")
        self.error.setWordWrap(True)
        self.error.hide()

        form = QFormLayout()
        form.addRow("Server", self.url)
        form.addRow("Tenant", self.tenant)
        form.addRow("Database", self.database)
        form.addRow("Collection", self.collection)
        form.addRow("Token", self.token)
        form.addRow("Send token as", self.header)
        note = QLabel("The token is used for this connection only and is never saved.")
        note.setTextFormat(Qt.TextFormat.PlainText)
        note.setStyleSheet("color: #6b7280")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.connect_button = buttons.addButton("Connect", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def _accept(self) -> None:
        try:
            self.spec = ServerSpec.parse(
                self.url.text(),
                self.tenant.text().strip() or None,
                self.database.text().strip() or None,
                self.token.text().strip() or None,
                TOKEN_HEADERS[self.header.currentIndex()],
            )
        except ValueError as exc:
            self.error.setText(str(exc))
            self.error.show()
            return
        self.accept()

    @property
    def collection_name(self) -> str | None:
        return self.collection.text().strip() or None
