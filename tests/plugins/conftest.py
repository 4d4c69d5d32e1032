"""Plugin tests share the session's embedding model with the rest of the suite, and talk
to a local OpenAI-compatible server playing a model."""

from __future__ import annotations

import pytest

from fake_openai import FakeOpenAI
from plugin_support import FakeModel


@pytest.fixture(scope="session")
def memlens_embedder(embedder):
    return embedder


@pytest.fixture
def model():
    fake = FakeModel()
    with FakeOpenAI(fake) as server:
        fake.server = server
        yield fake
