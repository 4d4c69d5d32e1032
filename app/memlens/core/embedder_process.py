"""The embedding model in a process of its own, so the window never waits for it.

Importing torch and transformers takes 4-5 s of module code that holds the interpreter
lock for up to a third of a second at a time, and the window's thread waits for that
lock: a 240-320 ms freeze on every open, at any store size (bench/, docs/PERFORMANCE.md).
Here a child process loads the model and answers encode requests over pipes; the
process that shows the window never imports torch.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
from multiprocessing.connection import Connection

import numpy as np

from memlens.core.embedder import (
    EmbedderError,
    SentenceTransformerEmbedder,
    configured_dimension,
    resolve_model,
)

# Requests of up to this many texts (a query, an edit) go down a lane of their own that
# the child answers on its own thread: a search is never queued behind an import's batch.
INTERACTIVE_TEXTS = 8
MODEL_NICENESS = 10  # added to the model process's nice value
_STOP_WAIT_S = 5.0


def _answer(embedder: SentenceTransformerEmbedder, conn: Connection) -> None:
    while True:
        try:
            texts = conn.recv()
        except (EOFError, OSError):  # the window's process went away
            return
        if texts is None:
            return
        try:
            reply = ("ok", embedder.encode(texts))
        except Exception as exc:  # reported to the caller, the process keeps serving
            reply = ("error", f"{type(exc).__name__}: {exc}")
        conn.send(reply)


def _yield_to_the_window() -> None:
    """Run below the window's priority. An import keeps both cores encoding; the window's
    store writes, which hold its interpreter lock, then ran two to three times slower for
    want of a core, and the window froze as long. Idle cores still go to the model.

    Linux keeps a nice value per thread: the threads already made (numpy's) are lowered
    one by one; torch's, made later, inherit it."""
    with contextlib.suppress(OSError):
        target = min(19, os.getpriority(os.PRIO_PROCESS, 0) + MODEL_NICENESS)
        tasks = os.listdir("/proc/self/task") if os.path.isdir("/proc/self/task") else []
        for tid in tasks:
            os.setpriority(os.PRIO_PROCESS, int(tid), target)
        if not tasks:
            os.nice(MODEL_NICENESS)


def _serve(lanes: list[Connection], path: str, batch_size: int) -> None:
    """The child: load the model, say so, then answer each lane on its own thread."""
    _yield_to_the_window()
    embedder = SentenceTransformerEmbedder(path, batch_size)
    try:
        embedder.load()
    except EmbedderError as exc:
        lanes[0].send(("error", str(exc)))
        return
    lanes[0].send(("ready", embedder.dimension))
    for conn in lanes[1:]:
        threading.Thread(target=_answer, args=(embedder, conn), daemon=True).start()
    _answer(embedder, lanes[0])


class _Lane:
    def __init__(self, conn: Connection, process: multiprocessing.process.BaseProcess) -> None:
        self.conn = conn
        self.process = process  # the child at its other end
        self.lock = threading.Lock()


class ProcessEmbedder:
    """The same model as SentenceTransformerEmbedder, loaded and run in a child process.

    Starts on first use (or `load`), from any thread, once; a child that dies is started
    again on the next request, and a model that cannot load says why every time without
    trying again.
    """

    def __init__(self, name_or_path: str | None = None, batch_size: int = 64) -> None:
        self._path = resolve_model(name_or_path)
        self._batch_size = batch_size
        self._dimension = configured_dimension(self._path)
        self._lock = threading.Lock()
        self._process: multiprocessing.process.BaseProcess | None = None
        self._lanes: list[_Lane] = []
        self._failure: str | None = None
        self.starts = 0  # model processes started so far (a restart counts)

    @property
    def name(self) -> str:
        return self._path

    @property
    def loaded(self) -> bool:
        return self._process is not None and self._process.is_alive()

    @property
    def pid(self) -> int | None:
        """The model process's id while it runs (benchmarks add its memory)."""
        return self._process.pid if self.loaded else None

    @property
    def dimension(self) -> int:
        if self._dimension is None:
            self.load()
        return int(self._dimension)

    def load(self) -> None:
        self._running_lanes()

    def _running_lanes(self) -> list[_Lane]:
        with self._lock:
            if self._failure is not None:
                raise EmbedderError(self._failure)
            if not self.loaded:
                self._start()
            return self._lanes

    def _start(self) -> None:
        # Spawned, not forked: a fork of a process running Qt and Chroma threads may
        # inherit a lock some other thread held, and hang.
        ctx = multiprocessing.get_context("spawn")
        pairs = [ctx.Pipe(), ctx.Pipe()]
        process = ctx.Process(
            target=_serve,
            args=([child for _, child in pairs], self._path, self._batch_size),
            name="memlens-embedder",
            daemon=True,  # ends with the window's process
        )
        process.start()
        self.starts += 1
        for _, child in pairs:
            child.close()
        ours = [parent for parent, _ in pairs]
        try:
            kind, value = ours[0].recv()
        except (EOFError, OSError):
            process.join(_STOP_WAIT_S)
            raise EmbedderError(
                f"The embedding model process for {self._path!r} ended while loading "
                f"(exit code {process.exitcode})."
            ) from None
        if kind == "error":
            process.join(_STOP_WAIT_S)
            self._failure = value
            raise EmbedderError(value)
        self._dimension = self._dimension or int(value)
        self._process, self._lanes = process, [_Lane(conn, process) for conn in ours]

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        texts = list(texts)
        try:
            return self._request(texts)
        except _Gone:
            pass  # the child died (killed, out of memory): start it again, once
        try:
            return self._request(texts)
        except _Gone as gone:
            raise EmbedderError(f"The embedding model process stopped while embedding ({gone}).") from None

    def _request(self, texts: list[str]) -> np.ndarray:
        lane = self._running_lanes()[0 if len(texts) <= INTERACTIVE_TEXTS else 1]
        with lane.lock:
            try:
                lane.conn.send(texts)
                kind, value = lane.conn.recv()
            except (EOFError, OSError):
                raise _Gone(self._forget(lane.process)) from None
        if kind == "error":
            raise EmbedderError(f"Embedding failed: {value}")
        return value

    def _forget(self, process: multiprocessing.process.BaseProcess) -> str:
        with self._lock:
            if self._process is process:  # not one another thread has started since
                self._process = None
        process.join(_STOP_WAIT_S)
        if process.is_alive():  # its pipe broke but it lives on: it is of no more use
            process.kill()
            process.join(_STOP_WAIT_S)
        return f"exit code {process.exitcode}"

    def close(self) -> None:
        """Stop the model process (the window does this when it closes)."""
        with self._lock:
            process, lanes = self._process, self._lanes
            self._process, self._lanes = None, []
        if process is None:
            return
        for lane in lanes:
            with contextlib.suppress(OSError):  # already gone
                lane.conn.send(None)
        process.join(_STOP_WAIT_S)
        if process.is_alive():
            process.kill()
            process.join(_STOP_WAIT_S)


class _Gone(Exception):
    """The model process ended under a request."""
