"""Node positions for the graph and the semantic map, cached per store and collection.

The semantic map projects embeddings to 2-D (PCA by default, UMAP when the package is
installed and asked for). The graph uses a force-directed layout for small graphs, seeded
from the map so related memories start near each other; above FORCE_LIMIT nodes the map
positions are used as they are (spring layouts are quadratic per step).

New or edited memories are placed without recomputing everything: on the map by the saved
projection, in the graph at the mean position of their already placed neighbours. The map's
projection is fitted on the whole collection, and each save merges into what is saved, so
a filter shows its memories where the whole picture has them.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np

FORCE_LIMIT = 2500
CACHE_VERSION = 2
ANCHORS = 2000  # memories a UMAP map keeps to place new vectors by
KEEP_VIEWS = 12  # graph layouts kept per collection for filtered views, newest first
_APPLY_ROWS = 8192  # vectors projected at a time: no copy of them all


@dataclass
class Projection:
    """A fitted linear projection (PCA) that can place new vectors later."""

    mean: np.ndarray
    components: np.ndarray  # (2, dim)
    scale: float

    def apply(self, vectors: np.ndarray) -> np.ndarray:
        if not len(vectors):
            return np.zeros((0, 2), dtype=np.float32)
        # (v - mean)·C = v·C - mean·C, in slices: no centred copy of every vector, nor the
        # copy a product with the whole array made (150 and 90 MB at 100,000 memories).
        offset = self.mean @ self.components.T
        out = np.empty((len(vectors), 2), dtype=np.float32)
        for start in range(0, len(vectors), _APPLY_ROWS):
            part = np.asarray(vectors[start : start + _APPLY_ROWS], dtype=np.float32)
            out[start : start + len(part)] = (part @ self.components.T - offset) / self.scale
        return out


def fit_pca(vectors: np.ndarray, sample: int = 20000, seed: int = 7) -> Projection:
    """PCA via SVD on a sample (enough to fix two axes; 100k rows need not all be used)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if len(vectors) == 0:
        return Projection(np.zeros(0, np.float32), np.zeros((2, 0), np.float32), 1.0)
    rng = np.random.default_rng(seed)
    rows = vectors if len(vectors) <= sample else vectors[rng.choice(len(vectors), sample, replace=False)]
    mean = rows.mean(axis=0)
    if len(rows) < 3:
        components = np.eye(2, vectors.shape[1], dtype=np.float32)
    else:
        # The top two eigenvectors of the covariance are the SVD's first two right singular
        # vectors; an SVD of the 20,000-row sample took 300 MB of workspace, this 1 MB.
        centred = rows - mean
        covariance = (centred.T @ centred).astype(np.float64)
        _, eigenvectors = np.linalg.eigh(covariance)  # ascending eigenvalues
        components = np.ascontiguousarray(eigenvectors[:, ::-1][:, :2].T, dtype=np.float32)
        # Fix the sign so the same data always gives the same picture.
        for c in components:
            if c[np.argmax(np.abs(c))] < 0:
                c *= -1
    projected = (rows - mean) @ components.T
    scale = float(np.abs(projected).max()) or 1.0
    return Projection(mean.astype(np.float32), components, scale)


@dataclass
class AnchorProjection:
    """Places a vector at the similarity-weighted mean of its nearest anchors' positions:
    how a non-linear map (UMAP) places new memories and a query, saved without pickling."""

    vectors: np.ndarray  # (anchors, dim), unit length
    positions: np.ndarray  # (anchors, 2)
    k: int = 8

    @classmethod
    def fit(cls, vectors: np.ndarray, positions: np.ndarray, sample: int = ANCHORS) -> AnchorProjection:
        rows = np.arange(len(vectors))
        if len(rows) > sample:
            rows = np.sort(np.random.default_rng(7).choice(len(rows), sample, replace=False))
        return cls(_unit(vectors[rows]), np.asarray(positions, np.float32)[rows])

    def apply(self, vectors: np.ndarray) -> np.ndarray:
        if not len(vectors) or not len(self.vectors):
            return np.zeros((len(vectors), 2), dtype=np.float32)
        sims = _unit(vectors) @ self.vectors.T
        k = min(self.k, sims.shape[1])
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        weight = np.maximum(np.take_along_axis(sims, top, axis=1), 0.0) ** 4 + 1e-9
        return ((weight[:, :, None] * self.positions[top]).sum(axis=1) / weight.sum(axis=1)[:, None]).astype(
            np.float32
        )


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


MapProjection = Projection | AnchorProjection


def umap_available() -> bool:
    return importlib.util.find_spec("umap") is not None


def semantic_positions(vectors: np.ndarray, method: str = "pca") -> tuple[np.ndarray, MapProjection]:
    """2-D positions for `vectors` and the projection that places new ones the same way.
    UMAP when asked for and installed, else PCA."""
    if method == "umap" and umap_available():
        import umap  # optional: heavy, so not a dependency

        pos = _normalise(umap.UMAP(n_components=2, random_state=7).fit_transform(vectors))
        return pos, AnchorProjection.fit(vectors, pos)
    projection = fit_pca(vectors)
    return projection.apply(vectors), projection


def _normalise(pos: np.ndarray) -> np.ndarray:
    pos = np.asarray(pos, dtype=np.float32)
    if not len(pos):
        return pos
    pos = pos - pos.mean(axis=0)
    return pos / (float(np.abs(pos).max()) or 1.0)


def force_positions(
    graph: nx.Graph, nodes: Sequence[str], seed_pos: np.ndarray, iterations: int = 60
) -> np.ndarray:
    """Fruchterman-Reingold started from `seed_pos`, vectorised with numpy.

    Dense n-by-n forces per step on flat float32 arrays: fine up to FORCE_LIMIT nodes
    (networkx's own version loops in Python above 500 nodes). Above the limit the seed
    positions (the semantic map) are used as they are.
    """
    n = len(nodes)
    if n > FORCE_LIMIT or n < 2:
        # As they are: the map's scale is the whole collection's, the same for any filter.
        return np.array(seed_pos, dtype=np.float32).reshape(-1, 2)
    index = {node: i for i, node in enumerate(nodes)}
    sub = graph.subgraph(nodes)
    src = np.array([index[u] for u, _ in sub.edges()], dtype=np.int64)
    dst = np.array([index[v] for _, v in sub.edges()], dtype=np.int64)
    wts = np.array([float(d.get("weight", 1.0)) for _, _, d in sub.edges(data=True)], dtype=np.float32)
    pos = _normalise(seed_pos).astype(np.float32)
    pos += np.random.default_rng(7).normal(scale=1e-3, size=pos.shape).astype(np.float32)
    k2 = np.float32(1.0 / n)  # k = 1/sqrt(n) for a unit-sized picture
    temperature, cool = 0.1, 0.1 / (iterations + 1)
    for _ in range(iterations):
        dx = pos[:, 0, None] - pos[None, :, 0]
        dy = pos[:, 1, None] - pos[None, :, 1]
        force = k2 / np.maximum(dx * dx + dy * dy, np.float32(1e-6))  # repulsion k²/d, along d̂
        np.fill_diagonal(force, 0.0)
        disp = np.stack([(dx * force).sum(axis=1), (dy * force).sum(axis=1)], axis=1)
        if len(src):
            d = pos[src] - pos[dst]
            pull = d * (np.linalg.norm(d, axis=1) * wts / np.sqrt(k2))[:, None]  # attraction d²/k
            np.add.at(disp, src, -pull)
            np.add.at(disp, dst, pull)
        length = np.maximum(np.linalg.norm(disp, axis=1), 1e-9)
        pos += disp * (np.minimum(length, temperature) / length)[:, None]
        temperature -= cool
    return _normalise(pos)


def place_new(
    graph: nx.Graph, known: dict[str, np.ndarray], new_ids: Sequence[str], fallback: np.ndarray
) -> np.ndarray:
    """Positions for new nodes: the mean of their placed neighbours, else `fallback` rows."""
    out = np.array(fallback, dtype=np.float32, copy=True)
    for n, node in enumerate(new_ids):
        around = [known[m] for m in (graph.neighbors(node) if node in graph else []) if m in known]
        if around:
            jitter = (hash(node) % 1000) / 1000 * 0.02
            out[n] = np.mean(around, axis=0) + jitter
    return out


@dataclass
class Cached:
    positions: dict[str, np.ndarray]  # fingerprint (id and content hash) -> (x, y)
    projection: MapProjection | None = None
    fitted: int = 0  # memories the collection held when the projection was fitted


class LayoutCache:
    """Positions saved per (store, collection, layout kind) in the user data folder."""

    def __init__(self, root: Path, location: str, collection: str) -> None:
        digest = hashlib.sha1(f"{location}\0{collection}".encode()).hexdigest()[:16]
        self.dir = root / "layouts" / digest

    def _path(self, kind: str) -> Path:
        return self.dir / f"{kind}.npz"

    def load(self, kind: str) -> Cached:
        path = self._path(kind)
        if not path.is_file():
            return Cached({})
        try:
            data = np.load(path, allow_pickle=False)
            if int(data["version"]) != CACHE_VERSION:
                return Cached({})
            positions = dict(zip(data["ids"].tolist(), data["pos"], strict=True))
            projection: MapProjection | None = None
            if "mean" in data:
                projection = Projection(data["mean"], data["components"], float(data["scale"]))
            elif "anchor_vectors" in data:
                projection = AnchorProjection(data["anchor_vectors"], data["anchor_pos"])
            return Cached(positions, projection, int(data["fitted"]))
        except (OSError, ValueError, KeyError):
            return Cached({})  # a damaged cache is recomputed, never fatal

    def save(
        self,
        kind: str,
        positions: dict[str, np.ndarray],
        projection: MapProjection | None = None,
        fitted: int = 0,
        merge: bool = True,
    ) -> None:
        """Save `positions`; with `merge`, into those saved (a memory saved again under a
        new text replaces its old entry), keeping the saved projection unless given one."""
        if merge:
            before = self.load(kind)
            replaced = {key.split("\0", 1)[0] for key in positions}
            kept = {k: v for k, v in before.positions.items() if k.split("\0", 1)[0] not in replaced}
            positions = {**kept, **positions}
            if projection is None:
                projection, fitted = before.projection, before.fitted
        self.dir.mkdir(parents=True, exist_ok=True)
        ids = np.array(list(positions), dtype=str)
        pos = np.array(list(positions.values()), dtype=np.float32).reshape(-1, 2)
        extra: dict[str, np.ndarray | float] = {}
        if isinstance(projection, Projection):
            extra = {"mean": projection.mean, "components": projection.components, "scale": projection.scale}
        elif isinstance(projection, AnchorProjection):
            extra = {"anchor_vectors": projection.vectors, "anchor_pos": projection.positions}
        tmp = self._path(kind).with_suffix(".tmp.npz")
        np.savez(tmp, version=CACHE_VERSION, ids=ids, pos=pos, fitted=fitted, **extra)
        tmp.replace(self._path(kind))

    def prune(self, prefix: str, keep: int = KEEP_VIEWS) -> None:
        """Forget all but the `keep` newest layouts whose kind starts with `prefix`."""
        found = sorted(self.dir.glob(f"{prefix}*.npz"), key=lambda p: p.stat().st_mtime, reverse=True)
        for path in found[keep:]:
            path.unlink(missing_ok=True)
