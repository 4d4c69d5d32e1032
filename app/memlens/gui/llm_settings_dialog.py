"""Language-model settings: base URL and model in the window's QSettings; the key in the
system keyring when there is a usable one, else for this session only. The key is never
written to a file (QSettings included)."""

from __future__ import annotations

import os

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)

from memlens.core import llm
from memlens.gui.workers import Workers

BASE_URL_KEY, MODEL_KEY = "llm/base_url", "llm/model"
# Whether a key was saved in the system keyring (never the key): the window then offers
# the model without asking the keyring until a model is used.
IN_KEYRING_KEY = "llm/key_in_keyring"


def apply_settings(settings: QSettings) -> None:
    """Make the saved base URL and model the ones every language-model feature uses."""
    llm.configure(
        str(settings.value(BASE_URL_KEY, "") or ""),
        str(settings.value(MODEL_KEY, "") or ""),
        keyring_key=str(settings.value(IN_KEYRING_KEY, "false")).lower() == "true",
    )


def key_note(backend: str | None) -> str:
    if backend:
        return f"The key is kept in the system keyring ({backend}), never in a file."
    return (
        "No system keyring is available here, so the key is kept for this session only: "
        "MemLens asks for it again next time. It is never written to a file. "
        "(MEMLENS_LLM_API_KEY in the environment also works.)"
    )


class LLMSettingsDialog(QDialog):
    def __init__(self, settings: QSettings, workers: Workers | None = None, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Language model")
        self.setMinimumWidth(560)
        self.settings = settings
        self.workers = workers
        self.kept_in: str | None = None  # after Save with a key: llm.KEYRING or llm.SESSION
        env = os.environ
        self.base_url = QLineEdit(str(settings.value(BASE_URL_KEY, "") or ""))
        self.base_url.setPlaceholderText(
            env.get("MEMLENS_LLM_BASE_URL") or env.get("OPENAI_BASE_URL") or "empty: the OpenAI API"
        )
        self.model = QLineEdit(str(settings.value(MODEL_KEY, "") or ""))
        self.model.setPlaceholderText(env.get("MEMLENS_LLM_MODEL") or llm.DEFAULT_MODEL)
        self.key = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        kept = llm.kept_key() is not None
        self.key.setPlaceholderText("a key is kept: leave empty to keep it" if kept else "sk-…")
        self.forget = QCheckBox("Forget the kept key")
        self.forget.setVisible(kept)
        self.note = QLabel(key_note(llm.keyring_backend()))
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.note.setWordWrap(True)
        self.result_label = QLabel()
        self.result_label.setTextFormat(Qt.TextFormat.PlainText)
        self.result_label.setWordWrap(True)
        self.test_button = QPushButton("Test")
        self.test_button.setToolTip("Ask the model a one-word question with these settings")
        self.test_button.clicked.connect(self.test)
        self.test_button.setVisible(workers is not None)

        form = QFormLayout()
        form.addRow("Base URL", self.base_url)
        form.addRow("Model", self.model)
        form.addRow("API key", self.key)
        form.addRow("", self.forget)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.addButton(self.test_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel("Any OpenAI-compatible endpoint (OpenAI, a local server). Used for merge suggestions "
                   "and to judge conflicts and review suspects; MemLens works without one.", wordWrap=True)
        )  # fmt: skip
        layout.addLayout(form)
        layout.addWidget(self.note)
        layout.addWidget(self.result_label)
        layout.addWidget(buttons)

    def config(self) -> llm.LLMConfig:
        """What these fields would make, over what is saved and the environment."""
        now = llm.LLMConfig.current()
        key = None if self.forget.isChecked() else self.key.text().strip() or now.api_key
        return llm.LLMConfig(
            base_url=self.base_url.text().strip() or now.base_url,
            model=self.model.text().strip() or now.model,
            api_key=key,
        )

    def accept(self) -> None:
        typed = self.key.text().strip()
        if typed or self.forget.isChecked():
            self.kept_in = llm.save_key(typed or None)
            self.settings.setValue(
                IN_KEYRING_KEY, "true" if typed and self.kept_in == llm.KEYRING else "false"
            )
        self.settings.setValue(BASE_URL_KEY, self.base_url.text().strip())
        self.settings.setValue(MODEL_KEY, self.model.text().strip())
        self.settings.sync()
        apply_settings(self.settings)
        super().accept()

    def test(self) -> None:
        config = self.config()
        self.test_button.setEnabled(False)
        self.result_label.setText(f"Asking {config.model} at {config.base_url or 'the OpenAI API'}…")

        def done(answer: str) -> None:
            self.result_label.setText(f"The model answered: {answer[:120]}")
            self.test_button.setEnabled(True)

        def failed(message: str) -> None:
            self.result_label.setText(message)
            self.test_button.setEnabled(True)

        self.workers.read("Asking the language model", lambda ctx: llm.LLM(config).ping(), done, failed)
