"""Tiny layout helpers so views do not repeat box-building boilerplate."""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget


def stacked(*widgets: QWidget, stretch_last: bool = True, margins: int = 0) -> QWidget:
    """A widget holding `widgets` top to bottom (the last one takes the spare room)."""
    holder = QWidget()
    layout = QVBoxLayout(holder)
    layout.setContentsMargins(margins, margins, margins, margins)
    for n, w in enumerate(widgets):
        layout.addWidget(w, 1 if stretch_last and n == len(widgets) - 1 else 0)
    return holder
