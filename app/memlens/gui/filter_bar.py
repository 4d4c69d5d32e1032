"""Filters and the search box above the table."""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import QDateTime, QTimer, QTimeZone, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from memlens.core.query import Facets, Filter
from memlens.core.record import Status

ANY = "Any"
SEMANTIC, KEYWORD = "semantic", "keyword"
DEBOUNCE_MS = 300
STATUS_CHOICES = {
    "Current": None,
    "Everything": frozenset(Status),
    "Flagged": frozenset({Status.FLAGGED}),
    "Verified": frozenset({Status.VERIFIED}),
    "Archived": frozenset({Status.ARCHIVED}),
    "Trash": frozenset({Status.DELETED}),
}


class FilterBar(QWidget):
    sig_filter_changed = Signal(object)  # Filter (without the search text)
    sig_search = Signal(str, str)  # text, mode

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._facet_values: dict[int, list[str]] = {}  # per combo: the values it lists
        self.search = QLineEdit(placeholderText="Search memories…  (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.mode = QToolButton(text="Semantic", checkable=True, checked=True)
        self.mode.setToolTip(
            "Semantic search by meaning; switch off for keyword search (every word must occur)"
        )
        self.mode.toggled.connect(self._mode_toggled)
        self._debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._debounce.timeout.connect(self._emit_search)
        self.search.textChanged.connect(lambda _t: self._debounce.start())
        self.search.returnPressed.connect(self._emit_search)

        self.user = self._combo("User")
        self.agent = self._combo("Agent")
        self.session = self._combo("Session")
        self.kind = self._combo("Kind")
        self.status = QComboBox()
        self.status.addItems(list(STATUS_CHOICES))
        self.status.setToolTip("Which memories to list: current ones hide archived and deleted")
        self.status.currentIndexChanged.connect(self._emit_filter)
        self.since_on = QCheckBox("From")
        self.until_on = QCheckBox("to")
        self.since = QDateTimeEdit(calendarPopup=True, displayFormat="yyyy-MM-dd HH:mm")
        self.until = QDateTimeEdit(calendarPopup=True, displayFormat="yyyy-MM-dd HH:mm")
        for box, edit in ((self.since_on, self.since), (self.until_on, self.until)):
            edit.setEnabled(False)
            box.toggled.connect(edit.setEnabled)
            box.toggled.connect(self._emit_filter)
            edit.dateTimeChanged.connect(self._emit_filter)
        self.count = QLabel()
        self.count.setObjectName("countLabel")

        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.mode)
        pickers = QHBoxLayout()
        for label, widget in (
            ("User", self.user),
            ("Agent", self.agent),
            ("Session", self.session),
            ("Kind", self.kind),
            ("Show", self.status),
        ):
            pickers.addWidget(QLabel(label))
            pickers.addWidget(widget, 1)
        times = QHBoxLayout()
        times.addWidget(self.since_on)
        times.addWidget(self.since)
        times.addWidget(self.until_on)
        times.addWidget(self.until)
        times.addStretch(1)
        times.addWidget(self.count)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 2)
        layout.addLayout(top)
        layout.addLayout(pickers)
        layout.addLayout(times)

    def _combo(self, name: str) -> QComboBox:
        combo = QComboBox()
        combo.setToolTip(f"Only memories with this {name.lower()}")
        # Sessions can number in the hundreds: size by a fixed length, not by the longest.
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(6)
        # Items of one height: Qt need not measure each (8,300 sessions cost 300 ms on show).
        combo.view().setUniformItemSizes(True)
        combo.addItem(ANY)
        combo.currentIndexChanged.connect(self._emit_filter)
        return combo

    def _mode_toggled(self, semantic: bool) -> None:
        self.mode.setText("Semantic" if semantic else "Keyword")
        self._emit_search()

    @property
    def search_mode(self) -> str:
        return SEMANTIC if self.mode.isChecked() else KEYWORD

    def set_facets(self, facets: Facets) -> None:
        for combo, values in (
            (self.user, facets.users),
            (self.agent, facets.agents),
            (self.session, facets.sessions),
            (self.kind, facets.kinds),
        ):
            # Every change to the collection comes here; refilling 8,300 styled session
            # items held the GUI thread ~100 ms at 100,000 memories. Unchanged: left be.
            if self._facet_values.get(id(combo)) == values:
                continue
            self._facet_values[id(combo)] = list(values)
            current = combo.currentText()
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(ANY)
            combo.addItems(values)
            combo.setCurrentText(current if current in values else ANY)
            combo.blockSignals(False)

    def set_time_bounds(self, first: datetime | None, last: datetime | None) -> None:
        for edit, value in ((self.since, first), (self.until, last)):
            if value is not None:
                edit.blockSignals(True)
                edit.setDateTime(QDateTime.fromSecsSinceEpoch(int(value.timestamp()), QTimeZone.utc()))
                edit.blockSignals(False)

    def current_filter(self) -> Filter:
        def chosen(combo: QComboBox) -> frozenset[str]:
            text = combo.currentText()
            return frozenset() if text in ("", ANY) else frozenset({text})

        def when(box: QCheckBox, edit: QDateTimeEdit) -> datetime | None:
            if not box.isChecked():
                return None
            return datetime.fromtimestamp(edit.dateTime().toSecsSinceEpoch(), UTC)

        return Filter(
            users=chosen(self.user),
            agents=chosen(self.agent),
            sessions=chosen(self.session),
            kinds=chosen(self.kind),
            statuses=STATUS_CHOICES[self.status.currentText()],
            since=when(self.since_on, self.since),
            until=when(self.until_on, self.until),
        )

    def _emit_filter(self, *_args) -> None:
        self.sig_filter_changed.emit(self.current_filter())

    def _emit_search(self) -> None:
        self._debounce.stop()
        self.sig_search.emit(self.search.text().strip(), self.search_mode)
