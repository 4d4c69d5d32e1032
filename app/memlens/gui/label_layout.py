"""Where the graph's labels go: beside their node, inside the plot, on no other label and
on no other node's marker. Plot pixels throughout (x right, y down); numpy only, so a
zoom at 100,000 nodes asks each box in constant time."""

from __future__ import annotations

import re

import numpy as np

LABEL_CHARS = 28
Box = tuple[float, float, float, float]  # left, top, right, bottom

_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
# "On Mon 14 Sep ", "On 8 May 2023, ", "May 8, 2023: ", "2023-05-08 ": what the label would
# spend its few characters on, while the time is in the tooltip.
_DATE_PREFIX = re.compile(
    rf"^(?:on\s+)?(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?"
    rf"(?:{_DAY}\s+{_MONTH}|{_MONTH}\s+{_DAY}|\d{{4}}-\d{{2}}-\d{{2}})(?:,?\s+\d{{4}})?\s*[,:]?\s+",
    re.IGNORECASE,
)


def label_text(text: str, limit: int = LABEL_CHARS) -> str:
    """A node's label: its text on one line, without a leading date, cut after the last
    whole word that fits in `limit` characters (mid-word only for one very long word)."""
    text = " ".join(text.split())
    rest = _DATE_PREFIX.sub("", text, count=1)
    if rest and rest != text:
        text = rest[0].upper() + rest[1:]
    if len(text) <= limit:
        return text
    head = text[: limit + 1]  # a space right after the limit still ends a whole word
    space = head.rfind(" ")
    cut = head[:space] if space >= limit // 2 else text[:limit]
    return cut.rstrip(" ,;:-–") + "…"


class MarkerGrid:
    """How many node markers cover each CELL_PX square of the plot, summed so that a
    box is asked in constant time. Cells are whole, so a box and a marker that share a
    cell count as touching: never the reverse."""

    CELL_PX = 4

    def __init__(self, x: np.ndarray, y: np.ndarray, radius: np.ndarray, width: float, height: float) -> None:
        self._cols, self._rows = int(width // self.CELL_PX) + 1, int(height // self.CELL_PX) + 1
        on_plot = (x + radius >= 0) & (x - radius <= width) & (y + radius >= 0) & (y - radius <= height)
        x, y, radius = x[on_plot], y[on_plot], radius[on_plot]
        c0, c1 = self._cell(x - radius, self._cols), self._cell(x + radius, self._cols)
        r0, r1 = self._cell(y - radius, self._rows), self._cell(y + radius, self._rows)
        # Each marker's cells as +1/-1 at the corners of its square, summed up twice: how
        # many markers cover each cell; summed twice more: any box's total in four reads.
        stride = self._cols + 1
        corners = np.concatenate([r0 * stride + c0, r0 * stride + c1 + 1, (r1 + 1) * stride + c0,
                                  (r1 + 1) * stride + c1 + 1])  # fmt: skip
        signs = np.repeat([1, -1, -1, 1], len(x))
        size = (self._rows + 1) * stride
        cover = np.bincount(corners, signs, size).reshape(self._rows + 1, stride).cumsum(0).cumsum(1)
        sums = np.zeros((self._rows + 1, stride), dtype=np.int64)
        sums[1:, 1:] = cover[: self._rows, : self._cols].cumsum(0).cumsum(1)
        self._sums = sums.tolist()  # read a few thousand times per placing: Python's lists are faster

    def _cell(self, pixels, n: int):
        """The cell (column or row, of `n`) each pixel falls in, kept on the plot."""
        return np.clip(np.floor_divide(pixels, self.CELL_PX), 0, n - 1).astype(np.int64)

    def _cells(self, left: float, top: float, right: float, bottom: float) -> tuple[int, int, int, int]:
        """The cells a pixel box falls in: first column, first row, last column, last row
        (plain Python: numpy's per-call cost is 20 times the sum's)."""

        def cell(pixel: float, n: int) -> int:
            return min(max(int(pixel // self.CELL_PX), 0), n - 1)

        c, r = self._cols, self._rows
        return cell(left, c), cell(top, r), cell(right, c), cell(bottom, r)

    def covers(self, box: Box, owner: tuple[float, float, float]) -> bool:
        """Does a marker other than the owner's (x, y, radius) touch `box`?"""
        c0, r0, c1, r1 = self._cells(*box)
        s = self._sums
        total = s[r1 + 1][c1 + 1] - s[r0][c1 + 1] - s[r1 + 1][c0] + s[r0][c0]
        x, y, radius = owner
        oc0, or0, oc1, or1 = self._cells(x - radius, y - radius, x + radius, y + radius)
        own = max(0, min(c1, oc1) - max(c0, oc0) + 1) * max(0, min(r1, or1) - max(r0, or0) + 1)
        return total > own


class LabelPlacer:
    """Places labels one at a time, first come first served: each beside its node, in the
    first of four corners (right and above first) that is clear; none if no corner is."""

    GAP_PX = 2  # kept between two labels

    def __init__(self, width: float, height: float, markers: MarkerGrid) -> None:
        self._width, self._height = width, height
        self._markers = markers
        self._placed: list[Box] = []

    def place(self, x: float, y: float, radius: float, size: tuple[float, float], inset: float) -> Box | None:
        """A box of `size` beside the marker at (x, y), or None. `inset` is the box's
        own clear margin, which may lie over the label's own marker."""
        width, height = size
        d = radius * 0.71 - inset  # the text's corner just off the marker's circle
        for dx, dy in ((1, -1), (1, 1), (-1, -1), (-1, 1)):
            left = x + d if dx > 0 else x - d - width
            top = y + d if dy > 0 else y - d - height
            box = (left, top, left + width, top + height)
            if self._clear(box, (x, y, radius)):
                self._placed.append(box)
                return box
        return None

    def _clear(self, box: Box, owner: tuple[float, float, float]) -> bool:
        left, top, right, bottom = box
        if left < 0 or top < 0 or right > self._width or bottom > self._height:
            return False
        g = self.GAP_PX
        for l2, t2, r2, b2 in self._placed:
            if left < r2 + g and l2 < right + g and top < b2 + g and t2 < bottom + g:
                return False
        return not self._markers.covers(box, owner)
