"""No cyclic garbage collection during large reads and builds, from any thread.

A full collection walks every tracked object while holding the GIL. Reading 100,000
records, building the graph of 100,000 memories, or importing 10,000 set off several,
up to half a second each, and the window froze for each one (bench/bench_window.py).
Reference counting still frees what such work discards. With `freeze`, what exists when
the work ends is moved out of the collector's sight: it is mostly the work's result
(an index, a graph) and lives as long as the collection is open, so later collections
do not walk it again; it is still freed when no longer referenced.

The collector is process-wide: pauses from several threads nest, and it is re-enabled
when the last one ends, unless a window collects by hand (`collect_by_hand`): then
automatic collection stays off and the window's GUI thread runs it.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

FREEZE_FROM = 20_000  # memories from which a large result is kept out of collections

_lock = threading.Lock()
_depth = 0
_by_hand = 0  # windows collecting on their own thread (see memlens.gui.gui_gc)
_was_enabled = True


def paused() -> bool:
    """True while large work runs without collections (a hand collector waits too)."""
    return _depth > 0


def _hold(pauses: int = 0, hands: int = 0) -> None:
    """Count a pause or a hand collector in (+1) or out (-1), the caller holding the lock:
    automatic collection is off while any is counted, and the state found before the
    first comes back after the last."""
    global _depth, _by_hand, _was_enabled
    if _depth == 0 and _by_hand == 0:
        _was_enabled = gc.isenabled()
    _depth += pauses
    _by_hand += hands
    if _depth or _by_hand:
        gc.disable()
    elif _was_enabled:
        gc.enable()


def collect_by_hand(on: bool) -> None:
    """Turn automatic collection off (on=True) for a caller that collects itself; calls
    nest, and the collector's earlier state comes back when the last caller is done."""
    with _lock:
        if on or _by_hand:
            _hold(hands=1 if on else -1)


@contextmanager
def no_gc_pauses(freeze: bool = False, collect_young: bool = False) -> Iterator[None]:
    """With `collect_young`, the work's own garbage cycles are collected before the freeze
    (everything the work made is still in the youngest generation): one short pause
    instead of keeping them for good."""
    with _lock:
        _hold(pauses=1)
    try:
        yield
    finally:
        with _lock:
            if freeze:
                # Not on this thread while a window collects by hand: the young generation
                # may hold the GUI's Qt objects, which must die on the GUI thread. Its
                # cycles are frozen with the rest instead (kept, not torn down here).
                if collect_young and _by_hand == 0:
                    gc.collect(0)
                gc.freeze()
            _hold(pauses=-1)
