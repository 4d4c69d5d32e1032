"""The Plugins dialog: every installed plugin, enabled or not, its version, status and last
error, and the settings of the selected one."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from memlens.gui.memory_table import plain_tooltip
from memlens.plugin_api.plugin import Setting
from memlens.plugin_host.host import ACTIVE, FAILED, HUNG, PluginInfo

COLUMNS = ("Enabled", "Plugin", "Version", "Package", "Status", "Last error")
STATUS_COLOURS = {ACTIVE: "#15803d", FAILED: "#b91c1c", HUNG: "#b91c1c"}
NOTE = (
    "Plugins come from installed packages (entry point group memlens.plugins). A disabled plugin is "
    "listed from its package's metadata and never imported. Plugins from other packages start "
    "disabled: enable them only if you trust them."
)


class SettingsForm(QWidget):
    """Fields for one plugin's declared settings; Save writes them (secrets to the keyring)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.form = QFormLayout()
        self.fields: dict[str, QWidget] = {}
        self.plugin: str | None = None
        self.save_button = QPushButton("Save settings")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        buttons = QHBoxLayout()
        buttons.addWidget(self.message, 1)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.form)
        layout.addLayout(buttons)

    def show_settings(
        self, plugin: str, schema: tuple[Setting, ...], values: dict, secrets_persist: bool
    ) -> None:
        self.plugin = plugin
        while self.form.rowCount():
            self.form.removeRow(0)
        self.fields = {}
        for s in schema:
            field = self._field(s, values.get(s.key, s.default))
            field.setToolTip(plain_tooltip(s.help) if s.help else "")
            self.fields[s.key] = field
            self.form.addRow(s.label, field)
        self.save_button.setVisible(bool(schema))
        secret = any(s.secret for s in schema)
        lost = secret and not secrets_persist
        self.message.setText("Secrets are kept for this run only (no keyring installed)." if lost else "")

    def show_text(self, text: str) -> None:
        self.plugin = None
        while self.form.rowCount():
            self.form.removeRow(0)
        self.fields = {}
        self.save_button.hide()
        self.message.setText(text)

    @staticmethod
    def _field(s: Setting, value) -> QWidget:
        if isinstance(s.default, bool):
            box = QCheckBox()
            box.setChecked(bool(value))
            return box
        if s.choices:
            combo = QComboBox()
            combo.addItems(list(s.choices))
            combo.setCurrentText(str(value))
            return combo
        line = QLineEdit("" if value is None else str(value))
        line.setPlaceholderText(s.help)
        if s.secret:
            line.setEchoMode(QLineEdit.EchoMode.Password)
        return line

    def values(self) -> dict:
        out = {}
        for key, field in self.fields.items():
            if isinstance(field, QCheckBox):
                out[key] = field.isChecked()
            elif isinstance(field, QComboBox):
                out[key] = field.currentText()
            else:
                out[key] = field.text().strip()
        return out


class PluginsDialog(QDialog):
    def __init__(self, bridge, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Plugins")
        self.resize(900, 600)
        self.bridge = bridge
        self.host = bridge.host
        self.infos: list[PluginInfo] = []
        self._filling = False

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        for col in range(5):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        # Five plugins stay in view above a long settings form (the chat agent has eight).
        rows = self.table.verticalHeader().defaultSectionSize()
        self.table.setMinimumHeight(header.sizeHint().height() + 5 * rows + 2 * self.table.frameWidth())
        self.table.itemChanged.connect(self._on_item_changed)
        self.table.itemSelectionChanged.connect(self._show_selected)

        self.description = QLabel()
        self.description.setWordWrap(True)
        self.description.setTextFormat(Qt.TextFormat.PlainText)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setStyleSheet("color: #b91c1c")
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.settings_form = SettingsForm()
        self.settings_form.save_button.clicked.connect(self._save_settings)
        note = QLabel(NOTE)
        note.setWordWrap(True)
        note.setStyleSheet("color: #4b5563")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.description)
        layout.addWidget(self.error)
        layout.addWidget(self.settings_form)
        layout.addWidget(note)
        layout.addWidget(buttons)

        bridge.sig_plugins.connect(self.refresh)
        self.refresh()
        if self.infos:
            self.table.selectRow(0)

    # -- the list -------------------------------------------------------------------------
    def refresh(self) -> None:
        selected = self.selected_name()
        self.infos = self.host.states()
        self._filling = True
        self.table.setRowCount(len(self.infos))
        for row, info in enumerate(self.infos):
            enabled = QTableWidgetItem()
            flags = Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
            enabled.setFlags(flags)
            enabled.setCheckState(Qt.CheckState.Checked if info.enabled else Qt.CheckState.Unchecked)
            enabled.setData(Qt.ItemDataRole.UserRole, info.name)
            cells = [enabled] + [
                QTableWidgetItem(text)
                for text in (info.name, info.version, info.distribution, info.status, info.last_error or "")
            ]
            if info.status in STATUS_COLOURS:
                cells[4].setForeground(QColor(STATUS_COLOURS[info.status]))
            # A plugin's error and entry point are its words: shown as text, never as HTML.
            cells[5].setToolTip(plain_tooltip(info.last_error) if info.last_error else "")
            cells[1].setToolTip(plain_tooltip(info.target))
            for col, cell in enumerate(cells):
                self.table.setItem(row, col, cell)
        self._filling = False
        if selected is not None:
            for row, info in enumerate(self.infos):
                if info.name == selected:
                    self.table.selectRow(row)
        self._show_selected()

    def selected_name(self) -> str | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows or rows[0].row() >= len(self.infos):
            return None
        return self.infos[rows[0].row()].name

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if self._filling or item.column() != 0:
            return
        name = item.data(Qt.ItemDataRole.UserRole)
        self.host.set_enabled(name, item.checkState() == Qt.CheckState.Checked)

    # -- the selected plugin ----------------------------------------------------------------
    def _show_selected(self) -> None:
        name = self.selected_name()
        info = next((i for i in self.infos if i.name == name), None)
        if info is None:
            self.description.setText("No plugin is installed." if not self.infos else "")
            self.error.setText("")
            self.settings_form.show_text("")
            return
        agents = f" Agents: {', '.join(info.agents)}." if info.agents else ""
        self.description.setText(f"{info.name} {info.version} ({info.target}). {info.description}{agents}")
        self.error.setText(f"Last error: {info.last_error}" if info.last_error else "")
        if info.settings_schema:
            settings = self.host.settings(info.name)
            self.settings_form.show_settings(
                info.name, info.settings_schema, settings.as_dict(), settings.secrets_persist
            )
        elif info.status == ACTIVE:
            self.settings_form.show_text("This plugin has no settings.")
        elif info.status == FAILED:
            self.settings_form.show_text("It did not start. Untick and tick Enabled to try again.")
        elif info.status == HUNG:
            self.settings_form.show_text("It has not finished starting; it may still do so.")
        else:
            self.settings_form.show_text("Enable the plugin to see its settings.")

    def _save_settings(self) -> None:
        form = self.settings_form
        if form.plugin is None:
            return
        settings = self.host.settings(form.plugin)
        try:
            settings.update(form.values())
            settings.save()
        except (ValueError, OSError) as exc:
            form.message.setText(f"Not saved: {exc}")
            return
        form.message.setText("Saved; the plugin uses them from its next call.")
