"""Plugin tests share the session's embedding model with the rest of the suite."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def memlens_embedder(embedder):
    return embedder
