"""The memory graph (networkx): memories as nodes, typed edges, communities, centrality.

Edge types:
  link      the memory's explicit `links`
  merge     merge lineage: a merged memory to each memory it was made from
  session   consecutive memories (by time) of one session
  entity    consecutive memories (by time) that name the same entity
  tag       consecutive memories (by time) that carry the same tag
  semantic  each memory to its k nearest neighbours above a similarity threshold,
            asked of the vector index in batches (never an n-by-n matrix)

Shared entities and tags are chained in time order rather than joined all-to-all: a tag on
5,000 memories gives 4,999 edges, not 12 million, and the chain still connects them.
Optional extra nodes (entity, tag, session, agent) join each memory to a node of its own.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import pairwise

import networkx as nx
import numpy as np

from memlens.core.entities import extract_entities
from memlens.core.record import MemoryRecord
from memlens.core.store import MemoryStore, VectorHit

EDGE_TYPES = ("link", "merge", "session", "entity", "tag", "semantic")
NODE_KINDS = ("entity", "tag", "session", "agent")
_BATCH = 256
_QUERY_THREADS = 2

Progress = Callable[[int, int], None]


class _Graph(nx.Graph):
    """A graph whose edge and degree views are made on each use.

    networkx caches them on the graph, and each holds the graph: a reference cycle in
    every graph, and in each louvain makes along the way, so a built graph's garbage
    (100,000 objects at 100,000 memories) waited for the cyclic collector, which held the
    GIL for 400 ms. Without the cycles, reference counting frees it at once.
    """

    @property
    def edges(self):
        return nx.classes.reportviews.EdgeView(self)

    @property
    def degree(self):
        return nx.classes.reportviews.DegreeView(self)

    def add_typed_edges(self, etype: str, edges: list[tuple[str, str, float]]) -> None:
        """Add (u, v, weight) edges of `etype`; an edge already there gains the type.

        Edges with the same types and weight (to 0.01) share one attribute dict: one per
        edge took 140 MB at 100,000 memories (660,000 edges). They are never changed in
        place: an edge that gains a type is given the shared dict of its new types.
        """
        shared = self._shared_data = getattr(self, "_shared_data", {})
        adj = self._adj
        for u, v, weight in edges:
            old = adj[u].get(v)
            types, weight = (
                (etype, round(weight, 2)) if old is None else (f"{old['types']},{etype}", old["weight"])
            )
            data = shared.get((types, weight))
            if data is None:
                data = shared[types, weight] = {"types": types, "weight": weight}
            adj[u][v] = adj[v][u] = data
        nx._clear_cache(self)  # as add_edge does: cached results no longer hold


@dataclass(frozen=True)
class GraphOptions:
    edge_types: frozenset[str] = frozenset(EDGE_TYPES)
    node_kinds: frozenset[str] = frozenset()
    knn_k: int = 5
    knn_threshold: float = 0.5  # cosine similarity a semantic edge needs


@dataclass
class MemoryGraph:
    """A networkx graph plus flat arrays the views draw from.

    `nodes` lists memory ids first (in `records` order), then extra nodes ("entity:Maya").
    `edges[type]` is an (m, 2) array of indices into `nodes`.
    """

    graph: nx.Graph
    nodes: list[str]
    memory_count: int
    edges: dict[str, np.ndarray]
    communities: dict[str, int] = field(default_factory=dict)

    def index(self) -> dict[str, int]:
        return {n: i for i, n in enumerate(self.nodes)}

    def degree(self) -> np.ndarray:
        return np.array([self.graph.degree(n) for n in self.nodes], dtype=np.float32)

    def neighbourhood(self, node: str, hops: int) -> set[str]:
        if node not in self.graph:
            return set()
        return set(nx.single_source_shortest_path_length(self.graph, node, cutoff=hops))


def merged_from(record: MemoryRecord) -> list[str]:
    """Ids a memory was merged from (kept in `source`, or by other tools in `extra`)."""
    value = record.source.get("merged_from") or record.extra.get("merged_from") or []
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value]


def _chain(groups: dict[str, list[int]], order: np.ndarray) -> list[tuple[int, int]]:
    pairs = []
    for members in groups.values():
        if len(members) > 1:
            ranked = sorted(members, key=lambda i: order[i])
            pairs.extend(pairwise(ranked))
    return pairs


def _unique_pairs(plist: list[tuple[int, int]], n: int) -> np.ndarray:
    """(a, b) with a < b, each once, sorted. By numpy: sorting 660,000 Python tuples (the
    semantic edges of 100,000 memories) held the GIL for half a second."""
    flat = np.fromiter((x for pair in plist for x in pair), dtype=np.int64, count=2 * len(plist))
    pairs = flat.reshape(-1, 2)
    lo, hi = pairs.min(axis=1), pairs.max(axis=1)
    keys = np.unique(lo[lo != hi] * n + hi[lo != hi])
    return np.stack([keys // n, keys % n], axis=1) if len(keys) else np.zeros((0, 2), dtype=np.int64)


def semantic_pairs(
    store: MemoryStore,
    ids: Sequence[str],
    k: int,
    threshold: float,
    progress: Progress | None = None,
) -> list[tuple[int, int, float]]:
    """(i, j, cosine similarity) for each memory's k nearest neighbours above `threshold`."""
    index = {m: i for i, m in enumerate(ids)}
    seen: dict[tuple[int, int], float] = {}
    # A cosine index reports 1 - similarity itself: the neighbours' vectors need not be
    # fetched (at 100,000 memories that fetch took 30 s of the build).
    cosine = getattr(store, "distance", None) == "cosine"

    def ask(start: int) -> tuple[list[str], np.ndarray, list[list[VectorHit]]]:
        batch = list(ids[start : start + _BATCH])
        vectors = store.embeddings(batch)
        return batch, vectors, store.query_many(vectors, k + 1)

    # Chroma answers without holding the GIL: two batches at a time take 2/3 of the time
    # of one after the other (100,000 memories: 37 s of index queries, on two cores).
    pool = ThreadPoolExecutor(max_workers=_QUERY_THREADS, thread_name_prefix="memlens-knn")
    done = 0
    try:
        for batch, vectors, hits in pool.map(ask, range(0, len(ids), _BATCH)):
            neighbour_ids = [] if cosine else sorted({h.id for row in hits for h in row if h.id in index})
            neighbour_vecs = dict(zip(neighbour_ids, store.embeddings(neighbour_ids), strict=True))
            for row_id, vec, row in zip(batch, vectors, hits, strict=True):
                i = index[row_id]
                norm = float(np.linalg.norm(vec)) or 1.0
                for hit in row:
                    j = index.get(hit.id)
                    if j is None or j == i:
                        continue
                    if cosine:
                        sim = 1.0 - hit.distance
                    else:
                        other = neighbour_vecs[hit.id]
                        sim = float(vec @ other) / (norm * (float(np.linalg.norm(other)) or 1.0))
                    if sim >= threshold:
                        seen[(min(i, j), max(i, j))] = sim
            done += len(batch)
            if progress:
                progress(done, len(ids))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # a cancelled build stops asking
    return [(i, j, s) for (i, j), s in seen.items()]


def build_graph(
    records: Sequence[MemoryRecord],
    store: MemoryStore | None = None,
    options: GraphOptions = GraphOptions(),
    progress: Progress | None = None,
) -> MemoryGraph:
    ids = [r.id for r in records]
    index = {m: i for i, m in enumerate(ids)}
    order = np.array([r.created_at.timestamp() if r.created_at else 0.0 for r in records])
    pairs: dict[str, list[tuple[int, int]]] = {t: [] for t in EDGE_TYPES}
    weights: dict[tuple[int, int], float] = {}

    if "link" in options.edge_types:
        for i, r in enumerate(records):
            pairs["link"].extend((i, index[t]) for t in r.links if t in index and index[t] != i)
    if "merge" in options.edge_types:
        for i, r in enumerate(records):
            pairs["merge"].extend((i, index[s]) for s in merged_from(r) if s in index)
    entities = [extract_entities(r.text) for r in records]
    groups: dict[str, dict[str, list[int]]] = {k: defaultdict(list) for k in NODE_KINDS}
    for i, r in enumerate(records):
        if r.session_id:
            groups["session"][r.session_id].append(i)
        if r.agent_id:
            groups["agent"][r.agent_id].append(i)
        for t in r.tags:
            groups["tag"][t].append(i)
        for e in entities[i]:
            groups["entity"][e].append(i)
    for kind in ("session", "entity", "tag"):
        if kind in options.edge_types:
            pairs[kind] = _chain(groups[kind], order)
    if "semantic" in options.edge_types and store is not None and len(ids) > 1:
        for i, j, sim in semantic_pairs(store, ids, options.knn_k, options.knn_threshold, progress):
            pairs["semantic"].append((i, j))
            weights[(i, j)] = sim

    nodes = list(ids)
    for kind in NODE_KINDS:
        if kind in options.node_kinds:
            for name, members in sorted(groups[kind].items()):
                nodes.append(f"{kind}:{name}")
                pairs.setdefault(f"{kind}-member", []).extend((m, len(nodes) - 1) for m in members)

    graph = _Graph()
    graph.add_nodes_from(ids, node="memory")
    for n in nodes[len(ids) :]:
        kind, name = n.split(":", 1)
        graph.add_node(n, node=kind, label=name)
    edges: dict[str, np.ndarray] = {}
    for etype, plist in pairs.items():
        edges[etype] = _unique_pairs(plist, len(nodes))
        graph.add_typed_edges(
            etype, [(nodes[a], nodes[b], weights.get((a, b), 1.0)) for a, b in edges[etype].tolist()]
        )
    return MemoryGraph(graph, nodes, len(ids), edges, communities(graph, ids))


def communities(graph: nx.Graph, memory_ids: Sequence[str], seed: int = 7) -> dict[str, int]:
    """Louvain communities over memory nodes, largest first (0 is the biggest)."""
    # Without extra nodes the graph is the memories' own: a subgraph view would filter
    # every node and edge louvain looks at (at 100,000 memories, 10 s of the build).
    sub = graph if graph.number_of_nodes() == len(memory_ids) else graph.subgraph(memory_ids)
    if sub.number_of_edges() == 0:
        return {m: 0 for m in memory_ids}
    groups = nx.community.louvain_communities(sub, weight="weight", seed=seed)
    groups = sorted(groups, key=len, reverse=True)
    return {m: n for n, members in enumerate(groups) for m in members}


_WORDS = re.compile(r"[a-z][a-z'-]{3,}")
_STOP_TEXT = (
    "about after again also always been before being could does doing during each from have having "
    "here into just like likes made make many more most much must need only other over really same "
    "said says should some such than that their them then there these they this those through very "
    "want wants were what when where which while will with would your asked told said shared "
    "mentioned talked enjoys loves feels felt thinks thought recently currently"
)
_STOP = frozenset(_STOP_TEXT.split())


def community_labels(
    records: Sequence[MemoryRecord], communities: dict[str, int], words: int = 2
) -> dict[int, str]:
    """Name each community by the words (and tags) that set it apart from the rest.

    A word scores by how much more often it occurs in the community than overall, so
    a name everyone shares ("Caroline" in her own conversation) does not win.
    """
    owners = {w for r in records for w in (r.user_id, r.agent_id) if w}
    owner_words = {o.casefold() for o in owners}
    total: dict[str, int] = defaultdict(int)
    per: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    sizes: dict[int, int] = defaultdict(int)
    for r in records:
        c = communities.get(r.id, 0)
        sizes[c] += 1
        seen = {
            w for w in _WORDS.findall(r.text[:2000].casefold()) if w not in _STOP and w not in owner_words
        }
        seen |= {f"#{t}" for t in r.tags}
        for w in seen:
            total[w] += 1
            per[c][w] += 1
    n = max(len(records), 1)
    labels = {}
    for c, counts in per.items():
        ranked = sorted(counts, key=lambda w: (-(counts[w] / sizes[c] - total[w] / n) * counts[w] ** 0.5, w))
        names = list(dict.fromkeys(w.lstrip("#") for w in ranked))  # a tag and a word may coincide
        labels[c] = ", ".join(names[:words]) or "misc"
    for c in sizes:
        labels.setdefault(c, "misc")
    return labels


def centrality(mg: MemoryGraph) -> np.ndarray:
    """PageRank per node (fast on large sparse graphs), aligned with `mg.nodes`."""
    if mg.graph.number_of_edges() == 0:
        return np.full(len(mg.nodes), 1.0 / max(len(mg.nodes), 1), dtype=np.float32)
    rank = nx.pagerank(mg.graph, weight="weight")
    return np.array([rank[n] for n in mg.nodes], dtype=np.float32)


_XML_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_safe(text: str) -> str:
    return _XML_UNSAFE.sub("\ufffd", text)


def to_graphml(mg: MemoryGraph, records: dict[str, MemoryRecord], path: str) -> None:
    """Write a GraphML file Gephi opens: node text, owner, kind, status, community."""
    out = nx.Graph()
    for n in mg.nodes:
        r = records.get(n)
        if r is None:
            attrs = dict(mg.graph.nodes[n])
            out.add_node(n, label=_xml_safe(str(attrs.get("label", n))), node=str(attrs.get("node", "")))
            continue
        out.add_node(
            n,
            label=_xml_safe(r.text[:120]),
            node="memory",
            kind=r.kind,
            user=r.user_id or "",
            agent=r.agent_id or "",
            session=r.session_id or "",
            status=r.status.value,
            created=r.created_at.isoformat() if r.created_at else "",
            community=int(mg.communities.get(n, -1)),
        )
    for u, v, data in mg.graph.edges(data=True):
        out.add_edge(u, v, types=data["types"], weight=float(data["weight"]))
    nx.write_graphml(out, path)
