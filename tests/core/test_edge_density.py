"""Edge densities: ink where the edges run, none elsewhere, more where more of them do."""

from __future__ import annotations

import numpy as np

from memlens.core.edge_density import densities, edge_density


def test_edges_leave_ink_along_their_length_and_nowhere_else():
    pos = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
    # Three edges along the bottom, one up the left side.
    pairs = np.array([[0, 1], [0, 1], [0, 1], [0, 2]])
    d = edge_density(pos, pairs, grid=10)
    assert d.alpha.shape == (10, 10) and (d.left, d.bottom, d.width, d.height) == (0.0, 0.0, 10.0, 10.0)
    assert (d.alpha[0, :] > 0).all() and (d.alpha[:, 0] > 0).all()  # row 0 is y = 0
    assert (d.alpha[1:, 1:] == 0).all()  # the diagonal and the top were never crossed
    assert d.alpha[0, 5] > d.alpha[5, 0]  # three edges are darker than one


def test_only_types_with_many_edges_get_a_density():
    pos = np.random.default_rng(1).normal(size=(50, 2))
    many = np.array([[i % 50, (i * 7 + 1) % 50] for i in range(25_000)])
    out = densities(pos, {"semantic": many, "link": many[:10], "merge": np.zeros((0, 2), dtype=np.int64)})
    assert set(out) == {"semantic"}
    assert edge_density(pos, np.zeros((0, 2), dtype=np.int64)) is None
