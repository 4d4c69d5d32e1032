"""Everything the graph and map views draw, computed off the GUI thread (no Qt here)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from memlens.core.edge_density import EdgeDensity, densities
from memlens.core.gcpause import FREEZE_FROM, no_gc_pauses
from memlens.core.graph import GraphOptions, MemoryGraph, build_graph, community_labels
from memlens.core.layout import LayoutCache, Projection, force_positions, place_new, semantic_positions
from memlens.core.record import MemoryRecord
from memlens.core.service import MemoryService

Progress = Callable[[int, int], None]
_BATCH = 2000
# Above this share of unplaced memories the layout is recomputed rather than patched.
REFIT_SHARE = 0.3


@dataclass
class GraphScene:
    graph: MemoryGraph
    records: list[MemoryRecord]
    map_pos: np.ndarray  # (nodes, 2): the semantic map
    graph_pos: np.ndarray  # (nodes, 2): the graph layout
    recomputed: bool  # False when positions came from the cache (possibly patched)
    projection: Projection | None = None  # places new vectors (a query) on the map
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


def _fingerprint(r: MemoryRecord) -> str:
    return f"{r.id}\0{r.content_hash}"


def _embeddings(service: MemoryService, ids: Sequence[str], progress: Progress | None) -> np.ndarray:
    parts = []
    for start in range(0, len(ids), _BATCH):
        parts.append(service.store.embeddings(ids[start : start + _BATCH]))
        if progress:
            progress(min(start + _BATCH, len(ids)), len(ids))
    return np.concatenate(parts) if parts else np.zeros((0, 2), np.float32)


def _extra_node_positions(mg: MemoryGraph, memory_pos: np.ndarray) -> np.ndarray:
    """Entity/tag/session/agent nodes sit at the centre of their members."""
    pos = np.zeros((len(mg.nodes), 2), dtype=np.float32)
    pos[: mg.memory_count] = memory_pos
    members: dict[int, list[int]] = {}
    for etype, pairs in mg.edges.items():
        if etype.endswith("-member"):
            for m, node in pairs:
                members.setdefault(int(node), []).append(int(m))
    for node, ms in members.items():
        pos[node] = memory_pos[ms].mean(axis=0)
    return pos


def _map_positions(
    service: MemoryService, records: list[MemoryRecord], cache: LayoutCache | None, method: str, progress
) -> tuple[np.ndarray, bool, Projection | None]:
    keys = [_fingerprint(r) for r in records]
    known, projection = cache.load(f"map-{method}") if cache else ({}, None)
    missing = [n for n, k in enumerate(keys) if k not in known]
    if projection is not None and len(missing) <= REFIT_SHARE * max(len(keys), 1):
        pos = np.zeros((len(keys), 2), np.float32)
        for n, k in enumerate(keys):
            if k in known:
                pos[n] = known[k]
        if missing:
            pos[missing] = projection.apply(_embeddings(service, [records[n].id for n in missing], None))
        recomputed = False
    else:
        vectors = _embeddings(service, [r.id for r in records], progress)
        pos, projection = semantic_positions(vectors, method)
        recomputed = True
    if cache:
        cache.save(f"map-{method}", dict(zip(keys, pos, strict=True)), projection)
    return pos, recomputed, projection


def _graph_positions(
    mg: MemoryGraph, records: list[MemoryRecord], map_pos: np.ndarray, cache: LayoutCache | None, key: str
) -> tuple[np.ndarray, bool]:
    keys = [_fingerprint(r) for r in records]
    known, _ = cache.load(key) if cache else ({}, None)
    missing = [n for n, k in enumerate(keys) if k not in known]
    if known and len(missing) <= REFIT_SHARE * max(len(keys), 1):
        placed = {records[n].id: known[k] for n, k in enumerate(keys) if k in known}
        new_ids = [records[n].id for n in missing]
        patched = place_new(mg.graph, placed, new_ids, map_pos[missing] if missing else np.zeros((0, 2)))
        pos = np.array([placed.get(r.id, np.zeros(2)) for r in records], dtype=np.float32).reshape(-1, 2)
        if missing:
            pos[missing] = patched
        recomputed = False
    else:
        pos = force_positions(mg.graph, [r.id for r in records], map_pos)
        recomputed = True
    if cache:
        cache.save(key, dict(zip(keys, pos, strict=True)), None)
    return pos, recomputed


def compute_scene(
    service: MemoryService,
    ids: Sequence[str],
    options: GraphOptions = GraphOptions(),
    cache_root: Path | None = None,
    method: str = "pca",
    progress: Progress | None = None,
) -> GraphScene:
    """Build the graph of `ids` and lay it out, reusing cached positions where valid."""
    # Hundreds of thousands of edges: collector pauses over them froze the window (up to
    # 330 ms each at 100,000 memories). The build leaves few cycles (see graph._Graph).
    with no_gc_pauses(freeze=len(ids) >= FREEZE_FROM, collect_young=True):
        return _compute_scene(service, ids, options, cache_root, method, progress)


def _compute_scene(
    service: MemoryService,
    ids: Sequence[str],
    options: GraphOptions,
    cache_root: Path | None,
    method: str,
    progress: Progress | None,
) -> GraphScene:
    records = service.records(ids)
    cache = LayoutCache(cache_root, service.store.location, service.store.collection) if cache_root else None
    mg = build_graph(records, service.store, options, progress)
    map_pos, fresh_map, projection = _map_positions(service, records, cache, method, progress)
    key = "graph-" + "-".join(sorted(options.edge_types))
    graph_pos, fresh_graph = _graph_positions(mg, records, map_pos, cache, key)
    all_map_pos = _extra_node_positions(mg, map_pos)
    all_graph_pos = _extra_node_positions(mg, graph_pos)
    labels = community_labels(records, mg.communities)
    names = {c: f"{c + 1} · {name}" for c, name in labels.items()}
    return GraphScene(
        mg,
        records,
        all_map_pos,
        all_graph_pos,
        fresh_map or fresh_graph,
        projection,
        labels,
        densities(all_map_pos, mg.edges),
        densities(all_graph_pos, mg.edges),
        mg.index(),
        [names[mg.communities.get(r.id, 0)] for r in records],
    )
