"""Graph construction on known data: each edge type where the data says, nowhere else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import networkx as nx
import numpy as np
import pytest

from memlens.core.entities import extract_entities
from memlens.core.graph import (
    GraphOptions,
    build_graph,
    centrality,
    community_labels,
    to_graphml,
    update_graph,
)
from memlens.core.graph_scene import compute_scene, update_scene
from memlens.core.layout import AnchorProjection, fit_pca
from memlens.core.query import Filter
from memlens.core.record import MemoryRecord, Status
from tests_support import QueryRecorder

T0 = datetime(2026, 5, 1, tzinfo=UTC)


def rec(i, text, **kw):
    return MemoryRecord(id=f"g{i}", text=text, created_at=T0 + timedelta(minutes=i), **kw)


RECORDS = [
    rec(1, "Maya started violin lessons on Tuesday.", session_id="s1", tags=("music",)),
    rec(2, "Maya practises the violin every evening.", session_id="s1", tags=("music",)),
    rec(3, "The quarterly tax return is due in April.", session_id="s2", links=("g1",)),
    rec(4, "Paris trip booked for Oliver and Grace.", session_id="s3", tags=("travel",)),
    rec(
        5, "Maya plays violin in the school orchestra.", session_id="s4", source={"merged_from": ["g1", "g2"]}
    ),
    rec(6, "Grace wants a window seat on the Paris flight.", session_id="s3", tags=("travel",)),
]


def pairs(mg, etype):
    return {tuple(sorted((mg.nodes[a], mg.nodes[b]))) for a, b in mg.edges[etype]}


@pytest.fixture
def stored(service):
    service.add(RECORDS)
    return service


def test_each_edge_type_appears_exactly_where_the_data_says(stored):
    mg = build_graph(
        stored.records([r.id for r in RECORDS]), stored.store, GraphOptions(knn_k=2, knn_threshold=0.5)
    )
    assert pairs(mg, "link") == {("g1", "g3")}
    assert pairs(mg, "merge") == {("g1", "g5"), ("g2", "g5")}
    assert pairs(mg, "session") == {("g1", "g2"), ("g4", "g6")}
    assert pairs(mg, "tag") == {("g1", "g2"), ("g4", "g6")}
    # Maya chains g1-g2-g5; Paris and Grace both chain g4-g6.
    assert pairs(mg, "entity") == {("g1", "g2"), ("g2", "g5"), ("g4", "g6")}
    semantic = pairs(mg, "semantic")
    assert ("g1", "g2") in semantic and ("g2", "g5") in semantic
    assert not any("g3" in p for p in semantic)  # the tax memory is like nothing else


def test_shared_tags_are_chained_not_all_to_all():
    many = [rec(i, f"note {i}", tags=("common",)) for i in range(200)]
    mg = build_graph(many, None, GraphOptions(edge_types=frozenset({"tag"})))
    assert len(mg.edges["tag"]) == 199
    assert nx.is_connected(mg.graph)


def test_extra_nodes_join_members():
    mg = build_graph(
        RECORDS, None, GraphOptions(edge_types=frozenset(), node_kinds=frozenset({"tag", "session"}))
    )
    assert "tag:travel" in mg.graph and "session:s1" in mg.graph
    assert set(mg.graph.neighbors("tag:travel")) == {"g4", "g6"}
    assert mg.memory_count == 6 and len(mg.nodes) == 6 + 2 + 4


def test_communities_separate_unrelated_topics(stored):
    mg = build_graph(stored.records([r.id for r in RECORDS]), stored.store)
    c = mg.communities
    assert c["g1"] == c["g2"] == c["g5"]
    assert c["g4"] == c["g6"] != c["g1"]


def test_entities_ignore_calendar_and_function_words():
    assert extract_entities("On Tuesday Maya met Dr Okafor in New York.") == {"Maya", "Dr Okafor", "New York"}


def test_pca_is_deterministic_and_places_new_points():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(50, 8)).astype(np.float32)
    p1, p2 = fit_pca(a), fit_pca(a.copy())
    assert np.allclose(p1.apply(a), p2.apply(a))
    assert np.abs(p1.apply(a)).max() == pytest.approx(1.0, rel=1e-5)


def test_scene_is_cached_and_patched_incrementally(stored, tmp_path):
    ids = [r.id for r in RECORDS]
    first = compute_scene(stored, ids, cache_root=tmp_path)
    assert first.recomputed
    again = compute_scene(stored, ids, cache_root=tmp_path)
    assert not again.recomputed
    assert np.allclose(first.map_pos, again.map_pos) and np.allclose(first.graph_pos, again.graph_pos)
    stored.add([rec(7, "Maya's violin teacher is called Mrs Lund.", session_id="s1")])
    patched = compute_scene(stored, [*ids, "g7"], cache_root=tmp_path)
    assert not patched.recomputed  # one new memory in seven: placed, not a full relayout
    assert np.allclose(patched.graph_pos[:6], first.graph_pos)
    near = np.linalg.norm(patched.map_pos[6] - patched.map_pos[0])
    far = np.linalg.norm(patched.map_pos[6] - patched.map_pos[2])
    assert near < far  # placed by meaning: near the violin memories, away from taxes


def test_graphml_opens_with_attributes(stored, tmp_path):
    mg = build_graph(stored.records([r.id for r in RECORDS]), stored.store)
    path = tmp_path / "g.graphml"
    records = {r.id: r for r in RECORDS}
    records["g3"] = records["g3"].replace(text="tax\x00return\x1b[31m <b>due</b>")
    to_graphml(mg, records, str(path))
    back = nx.read_graphml(path)
    assert back.nodes["g3"]["label"] == "tax\ufffdreturn\ufffd[31m <b>due</b>"
    assert back.number_of_nodes() == 6
    assert back.nodes["g4"]["label"].startswith("Paris trip")
    assert "types" in next(iter(back.edges(data=True)))[2]


# Six topics of four memories each: their nearest neighbours are known without a model.
TOPICS = {
    "garden": ["Tomatoes are ripening in the greenhouse.", "The roses need pruning before spring.",
               "Slugs ate the lettuce seedlings again.", "Compost the garden leaves in autumn."],
    "car": ["The car needs new winter tyres.", "Oil change for the car is due next week.",
            "The car battery died in the cold.", "Book the car in for its annual service."],
    "chess": ["Practised the Sicilian defence opening at chess.", "Lost a chess endgame with rook and pawn.",
              "Solved ten chess tactics puzzles today.", "Joined the local chess club tournament."],
    "baking": ["Baked sourdough bread with a new starter.", "The croissant dough needs more butter.",
               "Burnt the bottom of the banana bread.", "Bought rye flour for the next loaf."],
    "tax": ["Filed the quarterly VAT tax return.", "Tax deductions for the home office are allowed.",
            "The accountant asked for last year's tax receipts.", "Income tax bill came from the revenue."],
    "dentist": ["Dentist appointment to fill a cavity.", "The dentist recommended an electric toothbrush.",
                "Wisdom tooth pulled at the dental clinic.", "Teeth cleaning at the dentist twice a year."],
}  # fmt: skip


def topic_records():
    out = []
    for t, (topic, texts) in enumerate(TOPICS.items()):
        for n, text in enumerate(texts):
            # The newest memory of each topic is written in June, the rest in May.
            when = T0 + timedelta(days=40 if n == 0 else n, hours=t)
            out.append(MemoryRecord(id=f"{topic}{n}", text=text, created_at=when, tags=(topic,)))
    return out


@pytest.fixture
def topics(service):
    service.add(topic_records())
    return service


def topic_of(memory_id: str) -> str:
    return memory_id.rstrip("0123456789")


def test_semantic_edges_follow_k_and_threshold(topics):
    records = topics.records(topics.select())
    n = len(records)
    one = build_graph(records, topics.store, GraphOptions(edge_types=frozenset({"semantic"}), knn_k=1,
                                                          knn_threshold=0.0))  # fmt: skip
    assert 0 < len(one.edges["semantic"]) <= n  # one nearest neighbour each, shared ones counted once
    # Each memory's one nearest neighbour is on its own topic.
    assert all(topic_of(a) == topic_of(b) for a, b in pairs(one, "semantic"))
    none = build_graph(records, topics.store, GraphOptions(knn_k=3, knn_threshold=0.99))
    assert len(none.edges["semantic"]) == 0
    assert none.graph.number_of_edges() == len(none.edges["tag"])  # only what the tags join


def test_neighbours_are_asked_of_the_index_in_batches(topics, monkeypatch):
    from memlens.core import graph

    monkeypatch.setattr(graph, "_BATCH", 5)
    store = QueryRecorder(topics.store)
    records = topics.records(topics.select())
    build_graph(records, store, GraphOptions(knn_k=3))
    assert store.rows == len(records)  # every memory asked once
    assert max(n for n, _ in store.queries) == 5 and len(store.queries) == 5  # 24 in batches of 5
    assert all(k == 4 for _, k in store.queries)  # k + 1 hits (itself among them), not all n


def test_a_filter_keeps_semantic_edges_among_the_memories_it_shows(topics):
    """June shows one memory per topic: its nearest memories (same topic, May) are hidden,
    so the index must be asked for more than k + 1 hits, or none would be left."""
    june = topics.select(Filter(since=T0 + timedelta(days=30)))
    assert len(june) == 6
    mg = build_graph(topics.records(june), topics.store, GraphOptions(knn_k=2, knn_threshold=0.0))
    assert set(np.unique(mg.edges["semantic"])) == set(range(6))  # every shown memory has some


def test_a_small_view_is_searched_exactly(topics, monkeypatch):
    from memlens.core import graph

    monkeypatch.setattr(graph, "MAX_FETCH", 4)  # over-fetching cannot reach: searched exactly
    store = QueryRecorder(topics.store)
    ids = topics.select(Filter(since=T0 + timedelta(days=30)))
    nb = graph.nearest_neighbours(store, ids, 2)
    assert store.queries == []
    vectors = topics.store.embeddings(ids)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    sims = unit @ unit.T
    np.fill_diagonal(sims, -1)
    assert nb.index.tolist() == np.argsort(-sims, axis=1)[:, :2].tolist()
    assert np.allclose(nb.similarity, np.sort(sims, axis=1)[:, ::-1][:, :2], atol=1e-5)


def test_trashed_memories_do_not_take_neighbour_slots(topics):
    topics.set_status(["garden1", "garden2"], Status.DELETED)  # two of garden0's nearest
    current = topics.select()
    mg = build_graph(topics.records(current), topics.store, GraphOptions(knn_k=2, knn_threshold=0.0))
    row = mg.neighbours.index[current.index("garden0")]
    assert (row >= 0).all()  # still two neighbours, both shown
    assert {mg.nodes[j] for j in row} & {"garden3"}


def test_an_edit_asks_the_index_only_about_what_changed(topics):
    options = GraphOptions(knn_k=2, knn_threshold=0.3)
    store = QueryRecorder(topics.store)
    before = build_graph(topics.records(topics.select()), store, options)
    assert store.rows == 24
    assert not any(
        "garden" in (topic_of(a), topic_of(b)) for a, b in pairs(before, "semantic") if "chess1" in (a, b)
    )
    topics.edit("chess1", text="The garden hedge needs trimming and the lawn needs mowing.")
    store.queries.clear()
    records = topics.records(topics.select())
    after = update_graph(before, records, store, options, {"chess1"})
    assert 1 <= store.rows <= 1 + 2 * 2 + 2 * 2  # it, those it was near, those it is near now
    near = {b if a == "chess1" else a for a, b in pairs(after, "semantic") if "chess1" in (a, b)}
    assert near and all(topic_of(m) == "garden" for m in near)
    full = build_graph(records, topics.store, options)
    assert pairs(after, "semantic") == pairs(full, "semantic")  # the same as a rebuild
    assert pairs(after, "tag") == pairs(full, "tag") and after.nodes == full.nodes
    assert after.communities["chess0"] == before.communities["chess0"]  # kept, not recomputed


def test_a_new_threshold_or_smaller_k_needs_no_query(topics):
    store = QueryRecorder(topics.store)
    before = build_graph(topics.records(topics.select()), store, GraphOptions(knn_k=3, knn_threshold=0.3))
    store.queries.clear()
    records = topics.records(topics.select())
    stricter = update_graph(before, records, store, GraphOptions(knn_k=2, knn_threshold=0.6), set())
    assert store.queries == []
    assert pairs(stricter, "semantic") < pairs(before, "semantic")
    full = build_graph(records, topics.store, GraphOptions(knn_k=2, knn_threshold=0.6))
    assert pairs(stricter, "semantic") == pairs(full, "semantic")


def test_deleting_a_memory_refills_its_neighbours_slots(topics):
    options = GraphOptions(knn_k=2, knn_threshold=0.0)
    before = build_graph(topics.records(topics.select()), topics.store, options)
    topics.set_status(["tax1"], Status.DELETED)
    records = topics.records(topics.select())
    after = update_graph(before, records, topics.store, options, set())
    assert "tax1" not in after.nodes
    assert pairs(after, "semantic") == pairs(build_graph(records, topics.store, options), "semantic")


def test_degree_and_centrality_match_networkx(stored):
    mg = build_graph(stored.records([r.id for r in RECORDS]), stored.store, GraphOptions(knn_threshold=0.2))
    assert mg.degree().tolist() == [mg.graph.degree(n) for n in mg.nodes]
    rank = nx.pagerank(mg.graph, weight="weight")
    assert np.allclose(centrality(mg), [rank[n] for n in mg.nodes], atol=1e-4)


def test_community_names_drop_possessives_and_repeated_stems():
    records = [
        MemoryRecord(id=f"c{i}", text=f"Caroline's pottery class {i} went well.", user_id="Caroline")
        for i in range(4)
    ] + [
        MemoryRecord(id=f"r{i}", text="Asked for a review of the pull request.", tags=("code-review",))
        for i in range(4)
    ]
    labels = community_labels(records, {**{f"c{i}": 0 for i in range(4)}, **{f"r{i}": 1 for i in range(4)}})
    assert "caroline" not in labels[0] and "pottery" in labels[0]  # her own name says nothing here
    words = labels[1].split(", ")
    assert "code-review" in words and "review" not in words  # said once, not twice


def test_a_filter_shows_memories_where_the_whole_map_has_them(topics, tmp_path):
    everything = topics.select()
    whole = compute_scene(topics, everything, cache_root=tmp_path)
    june = topics.select(Filter(since=T0 + timedelta(days=30)))
    part = compute_scene(topics, june, cache_root=tmp_path, view_key="june")
    rows = [whole.node_index[m] for m in june]
    assert np.allclose(part.map_pos[: len(june)], whole.map_pos[rows])  # one projection, no jump
    again = compute_scene(topics, everything, cache_root=tmp_path)
    assert not again.recomputed  # the filter's layouts were merged in, not saved over the whole
    assert np.allclose(again.map_pos, whole.map_pos) and np.allclose(again.graph_pos, whole.graph_pos)


def test_an_updated_scene_keeps_positions_and_places_the_edited_memory(topics, tmp_path):
    scene = compute_scene(topics, topics.select(), cache_root=tmp_path)
    topics.edit("chess1", text="The garden hedge needs trimming and the lawn needs mowing.")
    after = update_scene(topics, scene, topics.select(), {"chess1"}, cache_root=tmp_path)
    assert not after.recomputed
    i = after.node_index["chess1"]
    others = [m for m in after.node_index if m != "chess1"]
    old_rows, new_rows = [scene.node_index[m] for m in others], [after.node_index[m] for m in others]
    assert np.allclose(after.map_pos[new_rows], scene.map_pos[old_rows])
    garden = np.mean([after.map_pos[after.node_index[f"garden{n}"]] for n in range(4)], axis=0)
    chess = np.mean([after.map_pos[after.node_index[f"chess{n}"]] for n in (0, 2, 3)], axis=0)
    assert np.linalg.norm(after.map_pos[i] - garden) < np.linalg.norm(after.map_pos[i] - chess)
    assert after.degree is not None and after.degree[i] == after.graph.graph.degree("chess1")


def test_anchor_projection_places_a_vector_among_its_nearest_anchors():
    rng = np.random.default_rng(2)
    centres = rng.normal(size=(3, 16))
    vectors = np.concatenate([c + 0.05 * rng.normal(size=(20, 16)) for c in centres])
    positions = np.repeat(np.array([[-1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]), 20, axis=0)
    projection = AnchorProjection.fit(vectors, positions, sample=30)
    placed = projection.apply(centres + 0.05 * rng.normal(size=(3, 16)))
    assert np.allclose(placed, [[-1, 0], [1, 0], [0, 1]], atol=0.05)


def test_umap_map_places_a_query_when_installed(topics, tmp_path):
    pytest.importorskip("umap")
    scene = compute_scene(topics, topics.select(), cache_root=tmp_path, method="umap")
    assert isinstance(scene.projection, AnchorProjection)
    garden = scene.map_pos[[scene.node_index[f"garden{n}"] for n in range(4)]].mean(axis=0)
    query = scene.projection.apply(topics.embedder.encode(["Weeding the vegetable garden beds."]))[0]
    assert np.linalg.norm(query - garden) < 0.5
    cached = compute_scene(topics, topics.select(), cache_root=tmp_path, method="umap")
    assert not cached.recomputed and isinstance(cached.projection, AnchorProjection)
