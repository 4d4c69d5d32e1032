"""Colours for categories, made once and reused (pyqtgraph draws faster with shared brushes)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtGui import QBrush, QColor, QPen

from memlens.core.record import Status

# Tableau-like qualitative colours: distinct on white, readable as small dots.
QUALITATIVE = (
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#86bcb6", "#8cd17d", "#d37295", "#a0cbe8", "#ffbe7d", "#499894", "#b6992d",
)  # fmt: skip
OTHER = "#bab0ac"
STATUS = {
    Status.ACTIVE.value: "#4e79a7",
    Status.FLAGGED.value: "#f28e2b",
    Status.VERIFIED.value: "#59a14f",
    Status.ARCHIVED.value: "#9ca3af",
    Status.DELETED.value: "#e15759",
}
EDGE_COLOURS = {
    "link": "#374151",
    "merge": "#b07aa1",
    "session": "#76b7b2",
    "entity": "#edc948",
    "tag": "#9c755f",
    "semantic": "#a0aec0",
}
FADED_ALPHA = 40


class CategoryColours:
    """Maps category values to brushes: the most common get their own colour, the rest 'other'."""

    def __init__(
        self, values: Sequence[str], fixed: dict[str, str] | None = None, limit: int = len(QUALITATIVE)
    ) -> None:
        counts: dict[str, int] = {}
        for v in values:
            counts[v] = counts.get(v, 0) + 1
        ranked = sorted(counts, key=lambda v: (-counts[v], v))
        if fixed:
            self.colours = {v: QColor(fixed.get(v, OTHER)) for v in ranked}
        else:
            self.colours = {
                v: QColor(QUALITATIVE[n]) for n, v in enumerate(ranked[: min(limit, len(QUALITATIVE))])
            }
        self.other = QColor(OTHER)
        self.counts = counts
        self._brushes: dict[tuple[str, int], QBrush] = {}

    def colour(self, value: str) -> QColor:
        return self.colours.get(value, self.other)

    def brush(self, value: str, alpha: int = 255) -> QBrush:
        key = (value if value in self.colours else "\0other", alpha)
        brush = self._brushes.get(key)
        if brush is None:
            colour = QColor(self.colour(value))
            colour.setAlpha(alpha)
            brush = self._brushes[key] = QBrush(colour)
        return brush

    def legend(self) -> list[tuple[str, QColor, int]]:
        """(label, colour, count) for each coloured value, then 'other' if any."""
        rows = [(v, c, self.counts[v]) for v, c in self.colours.items()]
        rest = sum(n for v, n in self.counts.items() if v not in self.colours)
        if rest:
            rows.append(("other", self.other, rest))
        return rows


def pen(colour: str, width: float = 1.0, alpha: int = 255) -> QPen:
    c = QColor(colour)
    c.setAlpha(alpha)
    p = QPen(c)
    p.setWidthF(width)
    p.setCosmetic(True)
    return p
