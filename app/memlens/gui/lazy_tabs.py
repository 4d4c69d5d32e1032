"""Tabs whose widget is made the first time it is shown or asked for.

The graph, map, timeline and traces tabs are pyqtgraph plots: making them took 0.36 s of
the 0.5 s a store has to show its first page. Until then each tab holds an empty
placeholder; asking for the widget (or opening the tab) makes it and puts it in its place.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QTabWidget, QWidget


class LazyTabs:
    def __init__(self, tabs: QTabWidget) -> None:
        self.tabs = tabs
        self._made: dict[str, QWidget] = {}
        self._makers: dict[str, tuple[QWidget, Callable[[], QWidget]]] = {}
        # Connected before anyone else's slot: the tab's real widget is in place by the
        # time they ask which widget is showing.
        tabs.currentChanged.connect(self._on_current)

    def add(self, title: str, make: Callable[[], QWidget]) -> None:
        placeholder = QWidget()
        self.tabs.addTab(placeholder, title)
        self._makers[title] = (placeholder, make)

    def widget(self, title: str) -> QWidget:
        """The tab's widget, made now if it was not yet."""
        made = self._made.get(title)
        if made is not None:
            return made
        placeholder, make = self._makers.pop(title)
        widget = make()
        self._made[title] = widget
        index, current = self.tabs.indexOf(placeholder), self.tabs.currentIndex()
        self.tabs.blockSignals(True)  # the same tab stays current: no change to report
        self.tabs.removeTab(index)
        self.tabs.insertTab(index, widget, title)
        self.tabs.setCurrentIndex(current)
        self.tabs.blockSignals(False)
        placeholder.deleteLater()
        return widget

    def made(self, title: str) -> QWidget | None:
        """The tab's widget if it was made, without making it."""
        return self._made.get(title)

    def current_title(self) -> str:
        return self.tabs.tabText(self.tabs.currentIndex())

    def _on_current(self, index: int) -> None:
        title = self.tabs.tabText(index)
        if title in self._makers:
            self.widget(title)
