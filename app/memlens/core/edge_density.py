"""Edges as a density raster: how a zoomed-out view draws hundreds of thousands of them.

At 100,000 memories the graph has 660,000 semantic edges; stroking them all took far
longer than a frame, and zoomed out they are a grey mass anyway. Here each edge is
sampled along its length into a grid over the layout's bounds; the view draws the grid
as one image until it is zoomed in far enough to draw the edges themselves. Numpy only,
computed with the scene off the GUI thread.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GRID = 1024  # cells along the longer side of the layout's bounds
_MAX_SAMPLES = 48  # per edge: longer edges are sampled more sparsely
# Edges rasterized at a time. 100,000 held ~4.8 million samples in int64 and float64
# arrays (+282 MB) and each numpy call the interpreter lock as long; 10,000 take +12 MB
# and, fitting the caches, less time in all (1.28 s, not 1.60, for 662,000 edges).
_CHUNK = 10_000


DENSITY_FROM = 5_000  # edges of one type from which a density is worked out
_FAINTEST, _STRONGEST = 40, 200  # opacity of a cell one edge crosses, and of the densest


@dataclass(frozen=True)
class EdgeDensity:
    alpha: np.ndarray  # (rows, cols) uint8 opacity; row = y upwards, column = x
    left: float
    bottom: float
    width: float
    height: float


def _opacity(counts: np.ndarray) -> np.ndarray:
    """Log-scaled, so that sparse regions stay visible beside dense ones."""
    top = float(counts.max())
    if top <= 0:
        return np.zeros(counts.shape, dtype=np.uint8)
    scaled = np.log1p(counts) / np.log1p(top)
    return np.where(counts > 0, _FAINTEST + scaled * (_STRONGEST - _FAINTEST), 0).astype(np.uint8)


def edge_density(pos: np.ndarray, pairs: np.ndarray, grid: int = GRID) -> EdgeDensity | None:
    """Rasterize the segments pos[a] to pos[b] for each (a, b) in `pairs`."""
    if not len(pairs) or not len(pos):
        return None
    pos = np.asarray(pos, dtype=np.float64)
    lo, hi = pos.min(axis=0), pos.max(axis=0)
    span = max(float((hi - lo).max()), 1e-9)
    cols = max(1, int(np.ceil(grid * (hi[0] - lo[0]) / span)))
    rows = max(1, int(np.ceil(grid * (hi[1] - lo[1]) / span)))
    cell = span / grid
    counts = np.zeros(rows * cols, dtype=np.float64)
    for start in range(0, len(pairs), _CHUNK):
        part = pairs[start : start + _CHUNK]
        a = (pos[part[:, 0]] - lo) / cell
        b = (pos[part[:, 1]] - lo) / cell
        d = b - a
        k = np.clip(np.ceil(np.hypot(d[:, 0], d[:, 1])), 1, _MAX_SAMPLES).astype(np.int64)
        which = np.repeat(np.arange(len(part)), k)
        first = np.repeat(np.cumsum(k) - k, k)
        # One sample per cell the edge crosses (the ink a drawn line leaves), at the middle
        # of each of its k pieces.
        t = (np.arange(len(which)) - first + 0.5) / k[which]
        x = np.clip((a[which, 0] + t * d[which, 0]).astype(np.int64), 0, cols - 1)
        y = np.clip((a[which, 1] + t * d[which, 1]).astype(np.int64), 0, rows - 1)
        counts += np.bincount(y * cols + x, minlength=rows * cols)
    alpha = _opacity(counts.reshape(rows, cols))
    return EdgeDensity(alpha, float(lo[0]), float(lo[1]), cols * cell, rows * cell)


def densities(pos: np.ndarray, edges: dict[str, np.ndarray]) -> dict[str, EdgeDensity]:
    """A density for each edge type with DENSITY_FROM edges or more."""
    out = {}
    for etype, pairs in edges.items():
        if len(pairs) >= DENSITY_FROM:
            density = edge_density(pos, pairs)
            if density is not None:
                out[etype] = density
    return out
