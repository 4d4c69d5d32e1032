"""A live `mem0.Memory` that reports everything it does to MemLens.

    from mem0 import Memory
    from memlens.client.mem0 import MemLensMemory   # AsyncMemLensMemory for mem0.AsyncMemory

    memory = MemLensMemory(Memory.from_config(config), agent="support-bot")
    memory.add("Alice moved to Lyon", user_id="alice")      # Mem0 as before, reported
    memory.search("where does alice live", filters={"user_id": "alice"})

A proxy, not a patch: Mem0's code and objects are untouched, every call goes to the
wrapped Memory and its result comes back unchanged. `add`, `search`, `update`,
`delete` and `delete_all` are reported with their results, scores and latency;
anything else (`get`, `get_all`, `history`, ...) passes straight through. Reporting
never raises into the agent: a Mem0 error is reported and then raised as before.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from memlens.client import Client, Session, connect

log = logging.getLogger("memlens.client")

#: How many memories `delete_all` lists first, to report each one it deletes.
DELETE_ALL_LIMIT = 10_000


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0


def _results(result: Any) -> list[dict]:
    """Mem0 answers {"results": [...]} (older versions: a bare list)."""
    items = result.get("results") if isinstance(result, dict) else result
    return [r for r in items or [] if isinstance(r, dict)]


def _record(item: dict, ids: dict[str, Any]) -> dict[str, Any]:
    """A Mem0 result as a MemLens record dict (only fields MemLens' record has)."""
    record: dict[str, Any] = {"id": str(item["id"]), "text": str(item.get("memory", ""))}
    owners = {"user_id": ids.get("user_id"), "agent_id": ids.get("agent_id"), "session_id": ids.get("run_id")}
    record.update((k, str(v)) for k, v in owners.items() if v)
    metadata = ids.get("metadata")
    if isinstance(metadata, dict) and metadata:
        record["extra"] = metadata
    return record


class _Proxy:
    """What the sync and async wrappers share: the session, pass-through, and turning
    Mem0's results into reports (which never raise into the agent)."""

    def __init__(
        self,
        memory: Any,
        session: Session | None = None,
        *,
        client: Client | None = None,
        agent: str = "mem0 agent",
        title: str | None = None,
    ) -> None:
        self._memory = memory
        self._own_client = session is None and client is None
        self._client = client or (session.client if session is not None else connect())
        self.session = session or self._client.session(agent, title)

    @property
    def wrapped(self) -> Any:
        """The Mem0 Memory itself."""
        return self._memory

    def __getattr__(self, name: str) -> Any:
        return getattr(self._memory, name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._memory!r}, session={self.session.id!r})"

    def _report(self, what: str, report: Callable[[], None]) -> None:
        try:
            report()
        except Exception:  # an unexpected result shape must not cost the agent its call
            log.exception("MemLens client: could not report Mem0 %s", what)

    def _failed(self, what: str, exc: Exception) -> None:
        self.session.message("error", f"Mem0 {what} failed: {type(exc).__name__}: {exc}")

    def _added(self, result: Any, kwargs: dict[str, Any], ms: float) -> None:
        for item in _results(result):
            memory_id, text, event = item.get("id"), item.get("memory", ""), item.get("event", "ADD")
            if memory_id is None:
                continue
            if event == "ADD":
                self.session.memory_added(memory_id, text, _record(item, kwargs), latency_ms=ms)
            elif event == "UPDATE":
                before = item.get("previous_memory") or item.get("old_memory")
                self.session.memory_updated(memory_id, text, before=before, latency_ms=ms)
            elif event == "DELETE":
                self.session.memory_deleted(memory_id, text or None, latency_ms=ms)

    def _searched(self, query: str, result: Any, kwargs: dict[str, Any], ms: float) -> None:
        k = kwargs.get("top_k", kwargs.get("limit", 20))
        self.session.retrieval(query, _results(result), k=k, latency_ms=ms)

    def _deleted_all(self, doomed: list[dict], ms: float) -> None:
        for item in doomed:
            self.session.memory_deleted(str(item["id"]), item.get("memory"), latency_ms=ms)

    def close(self) -> None:
        """End the session (and close the client this wrapper made)."""
        self.session.end()
        if self._own_client:
            self._client.close()


def _text_of(found: Any) -> str | None:
    return found.get("memory") if isinstance(found, dict) else None


def _owners(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if k in ("user_id", "agent_id", "run_id") and v}


class MemLensMemory(_Proxy):
    """Wraps `memory` (a `mem0.Memory`); reports into `session`, or into a new session of
    `agent` on `client` (default: `connect()`, which finds the running MemLens)."""

    def _call(self, what: str, fn: Callable[[], Any]) -> tuple[Any, float]:
        start = time.perf_counter()
        try:
            result = fn()
        except Exception as exc:
            self._failed(what, exc)
            raise
        return result, _ms(start)

    def _text(self, memory_id: str) -> str | None:
        """A memory's text before a change (one local read; None when Mem0 cannot say)."""
        try:
            return _text_of(self._memory.get(memory_id))
        except Exception:
            return None

    def add(self, messages: Any, **kwargs: Any) -> Any:
        result, ms = self._call("add", lambda: self._memory.add(messages, **kwargs))
        self._report("add", lambda: self._added(result, kwargs, ms))
        return result

    def search(self, query: str, **kwargs: Any) -> Any:
        result, ms = self._call("search", lambda: self._memory.search(query, **kwargs))
        self._report("search", lambda: self._searched(query, result, kwargs, ms))
        return result

    def update(self, memory_id: str, text: str | None = None, **kwargs: Any) -> Any:
        before = self._text(memory_id)
        result, ms = self._call("update", lambda: self._memory.update(memory_id, text, **kwargs))
        after = text if text is not None else kwargs.get("data")
        if after is None:  # a metadata-only update: the text is what Mem0 keeps now
            after = self._text(memory_id) or before or ""
        self._report(
            "update", lambda: self.session.memory_updated(memory_id, after, before=before, latency_ms=ms)
        )
        return result

    def delete(self, memory_id: str) -> Any:
        before = self._text(memory_id)
        result, ms = self._call("delete", lambda: self._memory.delete(memory_id))
        self._report("delete", lambda: self.session.memory_deleted(memory_id, before, latency_ms=ms))
        return result

    def delete_all(self, **kwargs: Any) -> Any:
        """Mem0's delete_all; each deleted memory is reported (they are listed first)."""
        try:
            doomed = _results(self._memory.get_all(filters=_owners(kwargs), top_k=DELETE_ALL_LIMIT))
        except Exception:
            doomed = []
        result, ms = self._call("delete_all", lambda: self._memory.delete_all(**kwargs))
        self._report("delete_all", lambda: self._deleted_all(doomed, ms))
        return result

    def __enter__(self) -> MemLensMemory:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class AsyncMemLensMemory(_Proxy):
    """The same for a `mem0.AsyncMemory`: `await memory.add(...)` and so on."""

    async def _acall(self, what: str, make: Callable[[], Any]) -> tuple[Any, float]:
        start = time.perf_counter()
        try:
            result = await make()
        except Exception as exc:
            self._failed(what, exc)
            raise
        return result, _ms(start)

    async def _atext(self, memory_id: str) -> str | None:
        try:
            return _text_of(await self._memory.get(memory_id))
        except Exception:
            return None

    async def add(self, messages: Any, **kwargs: Any) -> Any:
        result, ms = await self._acall("add", lambda: self._memory.add(messages, **kwargs))
        self._report("add", lambda: self._added(result, kwargs, ms))
        return result

    async def search(self, query: str, **kwargs: Any) -> Any:
        result, ms = await self._acall("search", lambda: self._memory.search(query, **kwargs))
        self._report("search", lambda: self._searched(query, result, kwargs, ms))
        return result

    async def update(self, memory_id: str, text: str | None = None, **kwargs: Any) -> Any:
        before = await self._atext(memory_id)
        result, ms = await self._acall("update", lambda: self._memory.update(memory_id, text, **kwargs))
        after = text if text is not None else kwargs.get("data")
        if after is None:
            after = await self._atext(memory_id) or before or ""
        self._report(
            "update", lambda: self.session.memory_updated(memory_id, after, before=before, latency_ms=ms)
        )
        return result

    async def delete(self, memory_id: str) -> Any:
        before = await self._atext(memory_id)
        result, ms = await self._acall("delete", lambda: self._memory.delete(memory_id))
        self._report("delete", lambda: self.session.memory_deleted(memory_id, before, latency_ms=ms))
        return result

    async def delete_all(self, **kwargs: Any) -> Any:
        try:
            doomed = _results(await self._memory.get_all(filters=_owners(kwargs), top_k=DELETE_ALL_LIMIT))
        except Exception:
            doomed = []
        result, ms = await self._acall("delete_all", lambda: self._memory.delete_all(**kwargs))
        self._report("delete_all", lambda: self._deleted_all(doomed, ms))
        return result

    async def __aenter__(self) -> AsyncMemLensMemory:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.close()
