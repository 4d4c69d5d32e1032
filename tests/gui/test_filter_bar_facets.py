"""The filter bar's pickers follow the collection's facets, refilled only when they change."""

from __future__ import annotations

from PySide6.QtCore import Qt

from memlens.core.query import Facets
from memlens.gui.filter_bar import FilterBar


def test_pickers_are_refilled_only_when_their_values_change(qtbot):
    bar = FilterBar()
    qtbot.addWidget(bar)
    bar.set_facets(Facets(["ann", "bob"], ["a1"], ["s1", "s2"], ["episodic"], []))
    bar.user.setCurrentText("bob")
    bar.session.setItemData(1, "marker", Qt.ItemDataRole.UserRole)  # would be lost by a refill

    bar.set_facets(Facets(["ann", "bob", "cy"], ["a1"], ["s1", "s2"], ["episodic"], []))
    assert [bar.user.itemText(i) for i in range(bar.user.count())][1:] == ["ann", "bob", "cy"]
    assert bar.user.currentText() == "bob"  # the pick survives a refill
    assert bar.session.itemData(1, Qt.ItemDataRole.UserRole) == "marker"  # unchanged: not refilled
