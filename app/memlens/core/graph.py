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

import math
import re
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import pairwise

import networkx as nx
import numpy as np

from memlens.core.entities import extract_entities, strip_possessive
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


@dataclass(frozen=True)
class Neighbours:
    """Each memory's nearest neighbours in the view, best first, as asked of the index.

    Rows align with the memories of a MemoryGraph; -1 pads a row with fewer than k. Kept
    with the graph so that an edit asks the index again only about what it changed, and a
    new threshold (or a smaller k) needs no query at all.
    """

    index: np.ndarray  # (memories, k) int64
    similarity: np.ndarray  # (memories, k) float32

    @property
    def k(self) -> int:
        return self.index.shape[1]


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
    neighbours: Neighbours | None = None
    weights: dict[str, np.ndarray] = field(default_factory=dict)  # per type; absent: all 1.0
    # Per memory, the entities its text names (1 s to find at 100,000 memories): reused
    # for the memories an update leaves unchanged.
    entities: list[tuple[str, ...]] = field(default_factory=list)

    def index(self) -> dict[str, int]:
        return {n: i for i, n in enumerate(self.nodes)}

    def degree(self) -> np.ndarray:
        """Distinct neighbours per node, aligned with `nodes` (an edge of several types
        counts once), from the edge arrays rather than networkx: numpy, not a Python loop."""
        keys = _pair_keys(self.edges, len(self.nodes))
        n = max(len(self.nodes), 1)
        return np.bincount(np.concatenate([keys // n, keys % n]), minlength=len(self.nodes)).astype(
            np.float32
        )

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


def _unique(pairs: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) with a < b, each once, sorted; and for each, the row of `pairs` it came from."""
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    lo, hi = pairs.min(axis=1), pairs.max(axis=1)
    rows = np.flatnonzero(lo != hi)
    keys, first = np.unique(lo[rows] * n + hi[rows], return_index=True)
    return np.stack([keys // n, keys % n], axis=1), rows[first]


def _unique_pairs(plist: list[tuple[int, int]], n: int) -> np.ndarray:
    """By numpy: sorting 660,000 Python tuples (the semantic edges of 100,000 memories) held
    the GIL for half a second."""
    flat = np.fromiter((x for pair in plist for x in pair), dtype=np.int64, count=2 * len(plist))
    return _unique(flat, n)[0]


def _pair_keys(edges: dict[str, np.ndarray], n: int) -> np.ndarray:
    """Each distinct node pair of any type, as one integer."""
    parts = [p[:, 0] * n + p[:, 1] for p in edges.values() if len(p)]
    return np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)


# -- semantic neighbours ------------------------------------------------------------------
# The index knows the whole collection; a view (a filter, the Current view without the
# trash) holds part of it, so a memory's nearest hits may be hidden and dropped. The index
# is asked for more hits in proportion to the hidden share; a view too small for that is
# searched exactly, by blocks of vectors (Chroma's own id filter took 2-12 s per batch of
# 256 queries at 100,000 memories).
OVERFETCH = 1.5  # margin over (k + 1) / visible share: hidden hits are not spread evenly
MAX_FETCH = 120  # hits per query: 2x the time of 6 at 100,000 memories
EXACT_LIMIT = 5000  # views up to this size, when over-fetching cannot reach, are searched exactly


def _fetch(k: int, shown: int, total: int) -> int:
    if shown >= total:
        return k + 1
    return min(total, max(k + 1, math.ceil((k + 1) * total / max(shown, 1) * OVERFETCH)))


def nearest_neighbours(
    store: MemoryStore,
    ids: Sequence[str],
    k: int,
    rows: Sequence[int] | None = None,
    progress: Progress | None = None,
) -> Neighbours:
    """The k nearest memories of `ids` to each of ids[rows] (default: all), best first.

    Asked of the vector index in batches of _BATCH queries, never an n-by-n matrix.
    """
    rows = np.arange(len(ids)) if rows is None else np.asarray(rows, dtype=np.int64)
    out_index = np.full((len(rows), k), -1, dtype=np.int64)
    out_sim = np.zeros((len(rows), k), dtype=np.float32)
    if not len(rows) or k <= 0:
        return Neighbours(out_index, out_sim)
    total = max(store.count(), len(ids))
    fetch = _fetch(k, len(ids), total)
    if fetch > MAX_FETCH and len(ids) <= EXACT_LIMIT:
        _exact(store, ids, rows, out_index, out_sim, progress)
    else:
        _from_index(store, ids, rows, min(fetch, MAX_FETCH), out_index, out_sim, progress)
    return Neighbours(out_index, out_sim)


def _from_index(
    store: MemoryStore,
    ids: Sequence[str],
    rows: np.ndarray,
    fetch: int,
    out_index: np.ndarray,
    out_sim: np.ndarray,
    progress: Progress | None,
) -> None:
    index = {m: i for i, m in enumerate(ids)}
    k = out_index.shape[1]
    # A cosine index reports 1 - similarity itself: the neighbours' vectors need not be
    # fetched (at 100,000 memories that fetch took 30 s of the build).
    cosine = getattr(store, "distance", None) == "cosine"

    def ask(start: int) -> tuple[int, np.ndarray, list[list[VectorHit]]]:
        batch = [ids[i] for i in rows[start : start + _BATCH]]
        vectors = store.embeddings(batch)
        return start, vectors, store.query_many(vectors, fetch)

    # Chroma answers without holding the GIL: two batches at a time take 2/3 of the time
    # of one after the other (100,000 memories: 37 s of index queries, on two cores).
    pool = ThreadPoolExecutor(max_workers=_QUERY_THREADS, thread_name_prefix="memlens-knn")
    done = 0
    try:
        for start, vectors, hits in pool.map(ask, range(0, len(rows), _BATCH)):
            neighbour_ids = [] if cosine else sorted({h.id for row in hits for h in row if h.id in index})
            neighbour_vecs = dict(zip(neighbour_ids, store.embeddings(neighbour_ids), strict=True))
            for n, (vec, row) in enumerate(zip(vectors, hits, strict=True)):
                i = int(rows[start + n])
                norm = float(np.linalg.norm(vec)) or 1.0
                col = 0
                for hit in row:
                    j = index.get(hit.id)
                    if j is None or j == i:
                        continue
                    if cosine:
                        sim = 1.0 - hit.distance
                    else:
                        other = neighbour_vecs[hit.id]
                        sim = float(vec @ other) / (norm * (float(np.linalg.norm(other)) or 1.0))
                    out_index[start + n, col], out_sim[start + n, col] = j, sim
                    col += 1
                    if col == k:
                        break
            done += len(vectors)
            if progress:
                progress(done, len(rows))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # a cancelled build stops asking


def _exact(
    store: MemoryStore,
    ids: Sequence[str],
    rows: np.ndarray,
    out_index: np.ndarray,
    out_sim: np.ndarray,
    progress: Progress | None,
) -> None:
    """Cosine neighbours among `ids` by blocks of _BATCH rows (at most _BATCH x EXACT_LIMIT)."""
    vectors = np.concatenate([store.embeddings(list(ids[s : s + 2000])) for s in range(0, len(ids), 2000)])
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    k = min(out_index.shape[1], len(ids) - 1)
    for start in range(0, len(rows), _BATCH):
        block = rows[start : start + _BATCH]
        sims = unit[block] @ unit.T
        sims[np.arange(len(block)), block] = -np.inf  # not its own neighbour
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k] if k > 0 else np.zeros((len(block), 0), int)
        order = np.argsort(-np.take_along_axis(sims, top, axis=1), axis=1, kind="stable")
        best = np.take_along_axis(top, order, axis=1)
        out_index[start : start + len(block), :k] = best
        out_sim[start : start + len(block), :k] = np.take_along_axis(sims, best, axis=1)
        if progress:
            progress(start + len(block), len(rows))


def _semantic_edges(nb: Neighbours, k: int, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Edges to each memory's first k neighbours at `threshold` or above, and their similarity."""
    index, sim = nb.index[:, :k], nb.similarity[:, :k]
    source = np.repeat(np.arange(len(index)), index.shape[1]).reshape(index.shape)
    keep = (index >= 0) & (sim >= threshold)
    pairs, first = _unique(np.stack([source[keep], index[keep]], axis=1), max(len(index), 1))
    return pairs, sim[keep][first]


def semantic_pairs(
    store: MemoryStore,
    ids: Sequence[str],
    k: int,
    threshold: float,
    progress: Progress | None = None,
) -> list[tuple[int, int, float]]:
    """(i, j, cosine similarity) for each memory's k nearest neighbours above `threshold`."""
    pairs, sims = _semantic_edges(nearest_neighbours(store, ids, k, None, progress), k, threshold)
    return [(int(a), int(b), float(s)) for (a, b), s in zip(pairs.tolist(), sims.tolist(), strict=True)]


# -- building -----------------------------------------------------------------------------
def _groups(
    records: Sequence[MemoryRecord], entities: Sequence[tuple[str, ...]]
) -> dict[str, dict[str, list[int]]]:
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
    return groups


def _assemble(
    records: Sequence[MemoryRecord],
    options: GraphOptions,
    entities: list[tuple[str, ...]],
    neighbours: Neighbours | None,
) -> MemoryGraph:
    """Every edge but the semantic ones worked out from the records (a pass over them, no
    index query); the semantic ones from `neighbours`. Communities are left to the caller."""
    ids = [r.id for r in records]
    index = {m: i for i, m in enumerate(ids)}
    order = np.array([r.created_at.timestamp() if r.created_at else 0.0 for r in records])
    pairs: dict[str, list[tuple[int, int]]] = {t: [] for t in EDGE_TYPES}
    if "link" in options.edge_types:
        for i, r in enumerate(records):
            pairs["link"].extend((i, index[t]) for t in r.links if t in index and index[t] != i)
    if "merge" in options.edge_types:
        for i, r in enumerate(records):
            pairs["merge"].extend((i, index[s]) for s in merged_from(r) if s in index)
    groups = _groups(records, entities)
    for kind in ("session", "entity", "tag"):
        if kind in options.edge_types:
            pairs[kind] = _chain(groups[kind], order)

    nodes = list(ids)
    for kind in NODE_KINDS:
        if kind in options.node_kinds:
            for name, members in sorted(groups[kind].items()):
                nodes.append(f"{kind}:{name}")
                pairs.setdefault(f"{kind}-member", []).extend((m, len(nodes) - 1) for m in members)

    edges = {etype: _unique_pairs(plist, len(nodes)) for etype, plist in pairs.items()}
    weights: dict[str, np.ndarray] = {}
    if neighbours is not None and "semantic" in options.edge_types and len(ids) > 1:
        edges["semantic"], similarity = _semantic_edges(neighbours, options.knn_k, options.knn_threshold)
        weights["semantic"] = np.round(similarity.astype(np.float64), 2)

    graph = _Graph()
    graph.add_nodes_from(ids, node="memory")
    for n in nodes[len(ids) :]:
        kind, name = n.split(":", 1)
        graph.add_node(n, node=kind, label=name)
    for etype, arr in edges.items():
        w = weights[etype].tolist() if etype in weights else [1.0] * len(arr)
        graph.add_typed_edges(
            etype, [(nodes[a], nodes[b], s) for (a, b), s in zip(arr.tolist(), w, strict=True)]
        )
    return MemoryGraph(
        graph, nodes, len(ids), edges, neighbours=neighbours, entities=entities, weights=weights
    )


def _wants_neighbours(
    records: Sequence[MemoryRecord], store: MemoryStore | None, options: GraphOptions
) -> bool:
    return "semantic" in options.edge_types and store is not None and len(records) > 1


def build_graph(
    records: Sequence[MemoryRecord],
    store: MemoryStore | None = None,
    options: GraphOptions = GraphOptions(),
    progress: Progress | None = None,
) -> MemoryGraph:
    entities = [tuple(sorted(extract_entities(r.text))) for r in records]
    neighbours = None
    if _wants_neighbours(records, store, options):
        neighbours = nearest_neighbours(store, [r.id for r in records], options.knn_k, None, progress)
    mg = _assemble(records, options, entities, neighbours)
    mg.communities = communities(mg.graph, mg.nodes[: mg.memory_count])
    return mg


def update_graph(
    previous: MemoryGraph,
    records: Sequence[MemoryRecord],
    store: MemoryStore | None,
    options: GraphOptions,
    moved: Collection[str],
    progress: Progress | None = None,
) -> MemoryGraph:
    """The graph of `records` made from `previous` after an edit, an add or a delete.

    `moved` are the memories whose text (so vector) changed; memories new to the graph
    count as moved too. Only they, and the memories whose neighbours they were or have
    become, are asked of the index again; links, sessions, tags and entities are re-read
    from the records (a pass without queries, reusing each unchanged memory's entities).
    Communities are kept: a moved memory joins the one most of its neighbours are in.
    """
    old = {m: i for i, m in enumerate(previous.nodes[: previous.memory_count])}
    ids = [r.id for r in records]
    dirty = np.array([m in moved or m not in old for m in ids], dtype=bool)
    entities = [
        tuple(sorted(extract_entities(r.text)))
        if dirty[i] or not previous.entities
        else previous.entities[old[r.id]]
        for i, r in enumerate(records)
    ]
    neighbours = None
    if _wants_neighbours(records, store, options):
        neighbours = _update_neighbours(previous, old, ids, dirty, store, options.knn_k, progress)
    mg = _assemble(records, options, entities, neighbours)
    mg.communities = _inherit_communities(mg, previous.communities, dirty)
    return mg


def _update_neighbours(
    previous: MemoryGraph,
    old: dict[str, int],
    ids: list[str],
    dirty: np.ndarray,
    store: MemoryStore,
    k: int,
    progress: Progress | None,
) -> Neighbours:
    nb = previous.neighbours
    if nb is None or nb.k < k:
        return nearest_neighbours(store, ids, k, None, progress)
    width = nb.k  # a smaller k or another threshold reads the rows already there
    # Old rows in the new order, their entries renumbered; gone memories become -1.
    renumber = np.full(len(old) + 1, -1, dtype=np.int64)  # the extra slot maps -1 to -1
    kept = np.flatnonzero(~dirty)
    source = np.array([old[ids[i]] for i in kept], dtype=np.int64)
    renumber[source] = kept
    index = np.full((len(ids), width), -1, dtype=np.int64)
    sim = np.zeros((len(ids), width), dtype=np.float32)
    index[kept] = renumber[nb.index[source]]
    sim[kept] = nb.similarity[source]
    # A row is asked again when it is new or moved, or lost a neighbour that left or moved.
    lost = (nb.index[source] >= 0) & (index[kept] < 0)
    ask = np.union1d(np.flatnonzero(dirty), kept[lost.any(axis=1)])
    fresh = nearest_neighbours(store, ids, width, ask, progress)
    index[ask], sim[ask] = fresh.index, fresh.similarity
    # A moved memory may now belong among its new neighbours' own nearest: ask them too.
    near = fresh.index[dirty[ask]]
    again = np.setdiff1d(np.unique(near[near >= 0]), ask)
    if len(again):
        more = nearest_neighbours(store, ids, width, again, None)
        index[again], sim[again] = more.index, more.similarity
    return Neighbours(index, sim)


def _inherit_communities(mg: MemoryGraph, before: dict[str, int], dirty: np.ndarray) -> dict[str, int]:
    ids = mg.nodes[: mg.memory_count]
    out = {m: before[m] for i, m in enumerate(ids) if not dirty[i] and m in before}
    fresh = max(before.values(), default=-1) + 1  # a memory connected to none: its own
    for i in np.flatnonzero(dirty):
        votes: dict[int, float] = defaultdict(float)
        for other, data in mg.graph.adj[ids[i]].items():
            c = out.get(other)
            if c is not None:
                votes[c] += data["weight"]
        if votes:
            out[ids[i]] = max(votes, key=lambda c: (votes[c], -c))
        else:
            out[ids[i]], fresh = fresh, fresh + 1
    return out


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


_WORDS = re.compile(r"[a-z][a-z'’-]{3,}")
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
        seen = {w for w in map(strip_possessive, _WORDS.findall(r.text[:2000].casefold())) if len(w) > 3}
        seen -= _STOP
        seen -= owner_words
        seen |= {f"#{t}" for t in r.tags}
        for w in seen:
            total[w] += 1
            per[c][w] += 1
    n = max(len(records), 1)
    labels = {}
    for c, counts in per.items():
        ranked = sorted(counts, key=lambda w: (-(counts[w] / sizes[c] - total[w] / n) * counts[w] ** 0.5, w))
        labels[c] = ", ".join(_distinct(ranked, words)) or "misc"
    for c in sizes:
        labels.setdefault(c, "misc")
    return labels


_SUFFIX = re.compile(r"(?:ing|ed|es|s)$")


def _stems(word: str) -> set[str]:
    """ "code-review" -> {"code", "review"}; "logged" and "logging" share "logg"."""
    return {_SUFFIX.sub("", part) if len(part) > 4 else part for part in re.split(r"[-'’#]", word) if part}


def _distinct(ranked: list[str], limit: int) -> list[str]:
    """The first `limit` words of `ranked` that repeat no stem of one chosen before
    ("code-review, review" says one thing twice; a tag and a word may also coincide)."""
    chosen: list[str] = []
    used: set[str] = set()
    for w in ranked:
        stems = _stems(w)
        if stems & used:
            continue
        chosen.append(w.lstrip("#"))
        used |= stems
        if len(chosen) == limit:
            break
    return chosen


def centrality(mg: MemoryGraph, alpha: float = 0.85, tol: float = 1e-6, max_iter: int = 100) -> np.ndarray:
    """PageRank per node, aligned with `mg.nodes`, as networkx computes it (weighted, the
    rank of nodes without edges spread evenly), by power iteration on the edge arrays:
    networkx first copies the graph into a matrix in Python, seconds at 100,000 memories."""
    import scipy.sparse as sp

    n = len(mg.nodes)
    parts = [(p, w) for p, w in _typed_weights(mg) if len(p)]
    if not parts:
        return np.full(n, 1.0 / max(n, 1), dtype=np.float32)
    pairs, weights = np.concatenate([p for p, _ in parts]), np.concatenate([w for _, w in parts])
    # One weight per node pair, that of its first type (as the networkx graph keeps it).
    _, first = np.unique(pairs[:, 0] * n + pairs[:, 1], return_index=True)
    pairs, weights = pairs[first], weights[first]
    a, b = pairs[:, 0], pairs[:, 1]
    matrix = sp.csr_matrix(
        (np.concatenate([weights, weights]), (np.concatenate([a, b]), np.concatenate([b, a]))), shape=(n, n)
    )
    out = np.asarray(matrix.sum(axis=1)).ravel()
    dangling = out == 0
    step = (sp.diags(np.where(dangling, 0.0, 1.0 / np.where(dangling, 1.0, out))) @ matrix).T.tocsr()
    rank = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        previous = rank
        rank = alpha * (step @ rank) + (alpha * rank[dangling].sum() + 1 - alpha) / n
        if np.abs(rank - previous).sum() < n * tol:
            break
    return rank.astype(np.float32)


def _typed_weights(mg: MemoryGraph) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each type's edges and their weights (semantic ones: similarity to 0.01, as the graph)."""
    return [(pairs, mg.weights.get(etype, np.ones(len(pairs)))) for etype, pairs in mg.edges.items()]


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
