"""pytest fixtures for plugin authors: a real MemLens store and host in a temporary folder.

Installed with MemLens as a pytest plugin (entry point `pytest11`), so a plugin's tests
just ask for the fixture:

    def test_remembers(memlens_harness):
        memlens_harness.activate(MyPlugin(), settings={"model": "m"})
        session = memlens_harness.start_session("My agent")
        memlens_harness.send(session, "I moved to Lyon.")
        assert any("Lyon" in r.text for r in memlens_harness.store.list())

Nothing is mocked: the store is a Chroma folder, writes are journaled, searches are
traced, plugin calls run on worker threads under the host's deadlines exactly as in the
window. The embedding model is loaded once per test run (`memlens_embedder`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from memlens.plugin_api.events import Event, MessageExchanged
from memlens.plugin_api.session import SessionHandle
from memlens.plugin_api.store import MemoryStoreView

if TYPE_CHECKING:
    from memlens.core.service import MemoryService
    from memlens.plugin_host.host import Notice, PluginHost

COLLECTION = "memories"


class PluginHarness:
    """A host with one store; records every event and notice for assertions."""

    def __init__(self, host: PluginHost, service: MemoryService, timeout: float = 60.0) -> None:
        self.host = host
        self.service = service
        self.timeout = timeout
        self.events: list[Event] = []
        self.notices: list[Notice] = []
        self._changed = threading.Condition()
        host.add_listener(lambda event: self._record(self.events, event))
        host.add_notice_listener(lambda notice: self._record(self.notices, notice))

    def _record(self, into: list, item: Any) -> None:
        with self._changed:
            into.append(item)
            self._changed.notify_all()

    @property
    def store(self) -> MemoryStoreView:
        """The store as the user sees it (writes journaled as "user")."""
        return MemoryStoreView(lambda: self.service, "user")

    def activate(self, plugin: Any, name: str = "plugin-under-test", settings: dict | None = None) -> Any:
        """Run a plugin object; waits for `activate` and re-raises what it raised."""
        self.host.add_plugin(name, plugin, settings=settings).result(self.timeout)
        return self.host.plugin(name)

    def start_session(self, agent: str, title: str | None = None) -> SessionHandle:
        return self.host.start_session(agent, title)

    def send(self, session: SessionHandle | str, text: str) -> None:
        """Say something to the agent and wait until it has answered (its errors re-raised)."""
        session_id = session if isinstance(session, str) else session.id
        self.host.send(session_id, text).result(self.timeout)

    def wait_for(self, condition: Callable[[], bool], timeout: float | None = None) -> None:
        """Wait until `condition()` holds (checked at every event or notice); fails the test if not."""
        end = time.monotonic() + (timeout or self.timeout)
        with self._changed:
            while not condition():
                left = end - time.monotonic()
                if left <= 0:
                    pytest.fail("the condition did not come true before the harness timeout")
                self._changed.wait(min(left, 0.1))

    def of(self, kind: type[Event], session_id: str | None = None) -> list[Any]:
        """The events of one class (e.g. MemoryAdded), optionally of one session."""
        with self._changed:
            return [e for e in self.events if isinstance(e, kind) and session_id in (None, e.session_id)]

    def transcript(self, session_id: str) -> list[tuple[str, str]]:
        """(role, text) of the session's whole messages, in order."""
        return [(m.role, m.text) for m in self.of(MessageExchanged, session_id)]


@pytest.fixture(scope="session")
def memlens_embedder():
    """The packaged embedding model, loaded once per test run (override to share yours)."""
    from memlens.core.embedder import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder()
    embedder.load()
    return embedder


@pytest.fixture
def memlens_service(tmp_path: Path, memlens_embedder, monkeypatch) -> MemoryService:
    """A real, empty MemLens collection in a temporary folder, loaded."""
    from memlens.core.chroma_store import ChromaBackend
    from memlens.core.workspace import DATA_DIR_ENV, open_service

    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "memlens-data"))
    backend = ChromaBackend.open_path(tmp_path / "memlens-store")
    service = open_service(backend, memlens_embedder, COLLECTION)
    service.load()
    return service


@pytest.fixture
def memlens_host(memlens_service) -> Iterator[PluginHost]:
    """A plugin host on `memlens_service`, with no installed plugins loaded."""
    from memlens.plugin_host.host import PluginHost

    host = PluginHost(None, discover_entries=lambda: ([], []))
    host.set_service(memlens_service)
    yield host
    host.shutdown()


@pytest.fixture
def memlens_harness(memlens_host, memlens_service) -> PluginHarness:
    """Activate your plugin, talk to its agents, and read what it did (see PluginHarness)."""
    return PluginHarness(memlens_host, memlens_service)
