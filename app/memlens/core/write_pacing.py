"""Store writes sized by time, not by count.

Chroma's embedded client holds the interpreter lock for the whole of each call, so a
write on a worker thread freezes the window for as long as the call lasts. How long a
call of n memories takes depends on the index's size and on what else uses the CPU
(bench, 100,000 memories on two cores: ~20 ms a call plus 1-2 ms a memory when quiet,
two to three times that while the model embeds on the other core). A fixed batch that is
short on a quiet machine is long on a busy one, so the batch is sized from the calls
just made, to hold the lock for about `target_s` each. 70 ms, not less: Chroma's fixed
cost is 20-35 ms a call, and at 40 ms calls fell to 4 memories and an import of 3,000
into 100,000 ran at 93 memories/s instead of 121 (its rare index writes exceed 100 ms
at any size).
"""

from __future__ import annotations

from collections.abc import Iterator
from time import perf_counter


class WritePacer:
    def __init__(
        self, target_s: float = 0.07, first: int = 20, smallest: int = 4, largest: int = 200
    ) -> None:
        self.target_s = target_s
        self.smallest = smallest
        self.largest = largest
        self._size = first
        self._per_item_s: float | None = None  # smoothed: a call's time over its items

    @property
    def size(self) -> int:
        """Items to put in the next call."""
        return self._size

    def record(self, items: int, seconds: float) -> None:
        """A call of `items` took `seconds`; size the next one from it.

        The time per item includes the call's fixed part, so when that part alone nears
        the target the size falls to `smallest` rather than oscillating.
        """
        if items <= 0:
            return
        per_item = seconds / items
        # Grow slowly after one fast call, shrink at once after a slow one.
        weight = 0.3 if self._per_item_s is not None and per_item < self._per_item_s else 1.0
        self._per_item_s = (
            per_item if self._per_item_s is None else (weight * per_item + (1 - weight) * self._per_item_s)
        )
        ideal = int(self.target_s / self._per_item_s) if self._per_item_s > 0 else self.largest
        self._size = max(self.smallest, min(self.largest, ideal))

    def spans(self, total: int) -> Iterator[slice]:
        """Slices of `total` items, one per call; the time the caller spends between two
        of them (its write) sizes the next."""
        start = 0
        while start < total:
            stop = min(total, start + self._size)
            began = perf_counter()
            yield slice(start, stop)
            self.record(stop - start, perf_counter() - began)
            start = stop
