"""Graph construction on known data: each edge type where the data says, nowhere else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import networkx as nx
import numpy as np
import pytest

from memlens.core.entities import extract_entities
from memlens.core.graph import GraphOptions, build_graph, to_graphml
from memlens.core.graph_scene import compute_scene
from memlens.core.layout import fit_pca
from memlens.core.record import MemoryRecord

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
