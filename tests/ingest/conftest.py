"""The ingest endpoint running in a real plugin host over a real store, and agents that
talk to it from processes of their own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ingest_support import LineAgent


@pytest.fixture(scope="session")
def memlens_embedder(embedder):
    return embedder


@pytest.fixture
def ingest(memlens_harness):
    """(harness, plugin): the ingest plugin active and listening on a free port."""
    from memlens_ingest import IngestPlugin

    plugin = memlens_harness.activate(IngestPlugin(), "ingest", settings={"port": 0, "autostart": True})
    assert plugin.running
    yield memlens_harness, plugin
    plugin.stop()


@pytest.fixture
def start_agent(tmp_path) -> Iterator:
    started: list[LineAgent] = []

    def start(script: str, *args: str, env: dict[str, str]) -> LineAgent:
        agent = LineAgent(script, *args, env=env, cwd=tmp_path)
        started.append(agent)
        return agent

    yield start
    for agent in started:
        agent.kill()
