"""Everything the graph and map views draw, computed off the GUI thread (no Qt here).

`compute_scene` builds a scene from scratch (reusing cached positions); `update_scene`
makes the next scene from the one shown after memories were edited, added or deleted:
the index is asked only about what changed, and positions stay where they were.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from memlens.core.edge_density import EdgeDensity, densities
from memlens.core.gcpause import FREEZE_FROM, no_gc_pauses
from memlens.core.graph import (
    GraphOptions,
    MemoryGraph,
    build_graph,
    centrality,
    community_labels,
    update_graph,
)
from memlens.core.layout import (
    LayoutCache,
    MapProjection,
    force_positions,
    place_new,
    semantic_positions,
)
from memlens.core.record import MemoryRecord
from memlens.core.service import MemoryService

Progress = Callable[[int, int], None]
_BATCH = 2000
# Above this share of unplaced memories the layout is recomputed rather than patched; a
# map is refitted when the collection grew by more than this share since its fit.
REFIT_SHARE = 0.3


@dataclass
class GraphScene:
    graph: MemoryGraph
    records: list[MemoryRecord]
    map_pos: np.ndarray  # (nodes, 2): the semantic map
    graph_pos: np.ndarray  # (nodes, 2): the graph layout
    recomputed: bool  # False when positions came from the cache (possibly patched)
    projection: MapProjection | None = None  # places new vectors (a query) on the map
    # Community names, read from every memory's text: worked out off the GUI thread (at
    # 100,000 memories it took seconds, and each view did it again).
    labels: dict[int, str] | None = None
    # Edge types with many edges, as density rasters for zoomed-out views (edge_density.py).
    map_density: dict[str, EdgeDensity] = field(default_factory=dict)
    graph_density: dict[str, EdgeDensity] = field(default_factory=dict)
    # Worked out here rather than on the GUI thread (60 ms at 100,000 memories): each
    # node's index, and each memory's community as the views name it.
    node_index: dict[str, int] | None = None
    community_values: list[str] | None = None
    # Per node, for sizing and for choosing which nodes get labels (a Python loop over
    # 100,000 nodes, or PageRank, on each redraw or zoom held the GUI thread).
    degree: np.ndarray | None = None
    centrality: np.ndarray | None = None
    options: GraphOptions = field(default_factory=GraphOptions)
    method: str = "pca"
    view_key: str = ""  # which view (filter) the scene is of: "" for the unfiltered one


def _fingerprint(r: MemoryRecord) -> str:
    return f"{r.id}\0{r.content_hash}"


def _embeddings(service: MemoryService, ids: Sequence[str], progress: Progress | None) -> np.ndarray:
    """The vectors of `ids`, read in batches into one array (batches kept and joined
    held every vector twice: 300 MB at 100,000 memories)."""
    if not ids:
        return np.zeros((0, 2), np.float32)
    out: np.ndarray | None = None
    for start in range(0, len(ids), _BATCH):
        batch = service.store.embeddings(ids[start : start + _BATCH])
        if out is None:
            out = np.empty((len(ids), batch.shape[1]), np.float32)
        out[start : start + len(batch)] = batch
        if progress:
            progress(min(start + _BATCH, len(ids)), len(ids))
    return out


def _extra_node_positions(mg: MemoryGraph, memory_pos: np.ndarray) -> np.ndarray:
    """Entity/tag/session/agent nodes sit at the centre of their members."""
    pos = np.zeros((len(mg.nodes), 2), dtype=np.float32)
    pos[: mg.memory_count] = memory_pos
    for etype, pairs in mg.edges.items():
        if etype.endswith("-member") and len(pairs):
            total = np.zeros((len(mg.nodes), 2))
            np.add.at(total, pairs[:, 1], memory_pos[pairs[:, 0]])
            count = np.bincount(pairs[:, 1], minlength=len(mg.nodes))
            has = count > 0
            pos[has] = total[has] / count[has, None]
    return pos


def _map_kind(method: str) -> str:
    return f"map-{method}"


def _graph_kind(options: GraphOptions, view_key: str) -> str:
    kind = "graph-" + "-".join(sorted(options.edge_types))
    return f"{kind}-{view_key}" if view_key else kind


def _fit_collection(
    service: MemoryService, method: str, progress: Progress | None
) -> tuple[dict[str, np.ndarray], MapProjection, int]:
    """Map positions of every memory of the collection (trash included), so that a filter
    shows its memories where the whole map has them."""
    everyone = service.records(service.select_all())
    vectors = _embeddings(service, [r.id for r in everyone], progress)
    # A foreign store's trash has no vector (summed in place: norm() squares a copy).
    stored = np.einsum("ij,ij->i", vectors, vectors) > 0
    if stored.all() or not stored.any():  # the usual case: no masked copy of every vector
        pos, projection = semantic_positions(vectors, method)
    else:
        pos = np.zeros((len(vectors), 2), np.float32)
        pos[stored], projection = semantic_positions(vectors[stored], method)
        pos[~stored] = projection.apply(vectors[~stored])
    return {_fingerprint(r): p for r, p in zip(everyone, pos, strict=True)}, projection, len(everyone)


def _map_positions(
    service: MemoryService,
    records: list[MemoryRecord],
    cache: LayoutCache | None,
    method: str,
    progress: Progress | None,
) -> tuple[np.ndarray, bool, MapProjection]:
    keys = [_fingerprint(r) for r in records]
    kind = _map_kind(method)
    cached = cache.load(kind) if cache else None
    grown = cached is not None and len(service) > cached.fitted * (1 + REFIT_SHARE)
    if cached is not None and cached.projection is not None and not grown:
        missing = [n for n, k in enumerate(keys) if k not in cached.positions]
        pos = np.zeros((len(keys), 2), np.float32)
        for n, k in enumerate(keys):
            if k in cached.positions:
                pos[n] = cached.positions[k]
        if missing:
            pos[missing] = cached.projection.apply(
                _embeddings(service, [records[n].id for n in missing], None)
            )
            cache.save(kind, {keys[n]: pos[n] for n in missing})
        return pos, False, cached.projection
    placed, projection, fitted = _fit_collection(service, method, progress)
    if cache:
        cache.save(kind, placed, projection, fitted, merge=False)  # a new fit: old positions no longer hold
    return np.array([placed[k] for k in keys], dtype=np.float32).reshape(-1, 2), True, projection


def _graph_positions(
    mg: MemoryGraph, records: list[MemoryRecord], map_pos: np.ndarray, cache: LayoutCache | None, kind: str
) -> tuple[np.ndarray, bool]:
    keys = [_fingerprint(r) for r in records]
    known = cache.load(kind).positions if cache else {}
    missing = [n for n, k in enumerate(keys) if k not in known]
    if known and len(missing) <= REFIT_SHARE * max(len(keys), 1):
        placed = {records[n].id: known[k] for n, k in enumerate(keys) if k in known}
        pos = np.array([placed.get(r.id, np.zeros(2)) for r in records], dtype=np.float32).reshape(-1, 2)
        if missing:
            new_ids = [records[n].id for n in missing]
            pos[missing] = place_new(mg.graph, placed, new_ids, map_pos[missing])
            cache.save(kind, {keys[n]: pos[n] for n in missing})
        return pos, False
    pos = force_positions(mg.graph, [r.id for r in records], map_pos)
    if cache:
        cache.save(kind, dict(zip(keys, pos, strict=True)))
    return pos, True


def compute_scene(
    service: MemoryService,
    ids: Sequence[str],
    options: GraphOptions = GraphOptions(),
    cache_root: Path | None = None,
    method: str = "pca",
    progress: Progress | None = None,
    view_key: str = "",
) -> GraphScene:
    """Build the graph of `ids` and lay it out, reusing cached positions where valid.

    `view_key` names a filtered view: its graph layout is kept apart from the unfiltered
    one's, so clearing the filter brings back the picture as it was.
    """
    # Hundreds of thousands of edges: collector pauses over them froze the window (up to
    # 330 ms each at 100,000 memories). The build leaves few cycles (see graph._Graph).
    with no_gc_pauses(freeze=len(ids) >= FREEZE_FROM, collect_young=True):
        records = service.records(ids)
        cache = _cache(service, cache_root)
        mg = build_graph(records, service.store, options, progress)
        map_pos, fresh_map, projection = _map_positions(service, records, cache, method, progress)
        kind = _graph_kind(options, view_key)
        graph_pos, fresh_graph = _graph_positions(mg, records, map_pos, cache, kind)
        if cache and view_key:
            cache.prune("graph-")
        labels = community_labels(records, mg.communities)
        return _scene(mg, records, map_pos, graph_pos, fresh_map or fresh_graph, projection, labels,
                      options, method, view_key)  # fmt: skip


def update_scene(
    service: MemoryService,
    previous: GraphScene,
    ids: Sequence[str],
    changed: Collection[str],
    options: GraphOptions | None = None,
    cache_root: Path | None = None,
    progress: Progress | None = None,
) -> GraphScene:
    """The scene of `ids` after the memories `changed` were edited, added or deleted (or
    after new `options`), made from `previous` without a full rebuild.

    Unchanged memories keep their positions and community; a memory whose text changed,
    or that is new, is placed by the map's projection and among its graph neighbours.
    When much changed, the scene is rebuilt.
    """
    options = options or previous.options
    with no_gc_pauses(freeze=len(ids) >= FREEZE_FROM, collect_young=True):
        records = service.records(ids)
        before = previous.node_index if previous.node_index is not None else previous.graph.index()
        old_records = previous.records
        moved = {
            r.id
            for r in records
            if r.id not in before
            or (r.id in changed and old_records[before[r.id]].content_hash != r.content_hash)
        }
        if len(moved) > REFIT_SHARE * max(len(records), 1) or previous.projection is None:
            return compute_scene(
                service, ids, options, cache_root, previous.method, progress, previous.view_key
            )
        mg = update_graph(previous.graph, records, service.store, options, moved, progress)
        rows = [n for n, r in enumerate(records) if r.id in moved]
        keep = np.array([n for n, r in enumerate(records) if r.id not in moved], dtype=np.int64)
        source = np.array([before[records[n].id] for n in keep], dtype=np.int64)
        map_pos = np.zeros((len(records), 2), np.float32)
        graph_pos = np.zeros((len(records), 2), np.float32)
        map_pos[keep] = previous.map_pos[source]
        graph_pos[keep] = previous.graph_pos[source]
        if rows:
            new_ids = [records[n].id for n in rows]
            map_pos[rows] = previous.projection.apply(service.store.embeddings(new_ids))
            placed = {records[n].id: graph_pos[n] for n in keep.tolist()}
            graph_pos[rows] = place_new(mg.graph, placed, new_ids, map_pos[rows])
            cache = _cache(service, cache_root)
            if cache:
                keys = [_fingerprint(records[n]) for n in rows]
                cache.save(_map_kind(previous.method), dict(zip(keys, map_pos[rows], strict=True)))
                kind = _graph_kind(options, previous.view_key)
                cache.save(kind, dict(zip(keys, graph_pos[rows], strict=True)))
        labels = dict(previous.labels or {})
        for c in set(mg.communities.values()) - set(labels):
            labels[c] = "misc"  # a memory connected to no community: named when next rebuilt
        return _scene(mg, records, map_pos, graph_pos, False, previous.projection, labels,
                      options, previous.method, previous.view_key)  # fmt: skip


def _cache(service: MemoryService, cache_root: Path | None) -> LayoutCache | None:
    if cache_root is None:
        return None
    return LayoutCache(cache_root, service.store.location, service.store.collection)


def _scene(
    mg: MemoryGraph,
    records: list[MemoryRecord],
    map_pos: np.ndarray,
    graph_pos: np.ndarray,
    recomputed: bool,
    projection: MapProjection | None,
    labels: dict[int, str],
    options: GraphOptions,
    method: str,
    view_key: str,
) -> GraphScene:
    all_map_pos = _extra_node_positions(mg, map_pos)
    all_graph_pos = _extra_node_positions(mg, graph_pos)
    names = {c: f"{c + 1} · {name}" for c, name in labels.items()}
    return GraphScene(
        mg,
        records,
        all_map_pos,
        all_graph_pos,
        recomputed,
        projection,
        labels,
        densities(all_map_pos, mg.edges),
        densities(all_graph_pos, mg.edges),
        mg.index(),
        [names[mg.communities.get(r.id, 0)] for r in records],
        mg.degree(),
        centrality(mg),
        options,
        method,
        view_key,
    )
