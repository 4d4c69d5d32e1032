"""The Chroma adapter: the only module in MemLens that imports chromadb."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path

import chromadb
import numpy as np
from chromadb.config import Settings

from memlens.core.profiles import (
    HOUSEKEEPING_COLLECTIONS,
    MEM0,
    SCHEMA_KEY,
    SCHEMA_VERSION,
    StoreProfile,
    detect_profile,
)
from memlens.core.record import MemoryRecord
from memlens.core.server_spec import ServerSpec
from memlens.core.store import CollectionInfo, StoredMemory, StoreError, VectorHit

# Mem0 opens Chroma with these settings; a second client in one process with other
# settings fails, so MemLens uses the same ones.
_SETTINGS = Settings(anonymized_telemetry=False)
_SAMPLE = 20
_MEM0_ENTITIES = "_entities"


def _check_directory(path: Path, create: bool) -> None:
    """Refuse, with a message a person can act on, anything that is not a Chroma store."""
    try:
        _check_directory_entries(path, create)
    except PermissionError:
        raise StoreError(f"Cannot read {path}: permission denied.") from None
    except OSError as exc:
        raise StoreError(f"Cannot read {path}: {exc.strerror or exc}.") from None


def _check_directory_entries(path: Path, create: bool) -> None:
    if path.exists() and not path.is_dir():
        raise StoreError(
            f"{path} is a file, not a store folder. Choose the folder that holds chroma.sqlite3."
        )
    if not path.exists():
        if not create:
            raise StoreError(f"{path} does not exist.")
        return
    if not os.access(path, os.R_OK | os.X_OK):
        raise StoreError(f"Cannot read {path}: permission denied.")
    db = path / "chroma.sqlite3"
    if db.exists():
        if not os.access(db, os.R_OK):
            raise StoreError(f"Cannot read {db}: permission denied.")
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
                conn.execute("SELECT count(*) FROM collections").fetchone()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path} is not a readable Chroma store ({db.name}: {exc}).") from None
        return
    if any(path.iterdir()):
        raise StoreError(
            f"{path} is not a Chroma store: it has files but no chroma.sqlite3. "
            "Choose a store folder, or an empty folder to create a new store."
        )


def _server_error(where: str, spec: ServerSpec, exc: Exception) -> str:
    """One line a person can act on, for each way connecting to a server fails."""
    status = getattr(getattr(exc, "response", None), "status_code", None)
    name = type(exc).__name__
    if status in (401, 403) or name in ("AuthorizationError", "ChromaAuthError"):
        given = f"the token in {spec.token_header}" if spec.token else "no token"
        return (
            f"The Chroma server at {where} refused access ({status or name}): {given} was sent. "
            "Give the right token with --token or MEMLENS_CHROMA_TOKEN (and --token-header if the "
            "server expects X-Chroma-Token)."
        )
    if name == "NotFoundError":
        return (
            f"The Chroma server at {spec.base_url} has no tenant {spec.tenant!r} with database "
            f"{spec.database!r} ({exc})."
        )
    chain = [exc, exc.__cause__, exc.__context__]
    names = " ".join(type(e).__name__ for e in chain if e is not None)
    if (
        any(isinstance(e, ConnectionError | OSError) for e in chain)
        or "Connect" in names
        or "Timeout" in names
    ):
        return (
            f"Cannot reach the Chroma server at {spec.base_url}. "
            "Is it running (`chroma run --path DIR --port N`) and is the address right?"
        )
    return f"Cannot use the Chroma server at {where}: {name}: {exc}"


class ChromaBackend:
    """A Chroma client, embedded (a folder) or a server (host and port)."""

    def __init__(self, client: chromadb.api.ClientAPI, location: str) -> None:
        self._client = client
        self.location = location

    @classmethod
    def open_path(cls, path: str | os.PathLike[str], create: bool = True) -> ChromaBackend:
        p = Path(path).expanduser().absolute()
        _check_directory(p, create)
        try:
            p.mkdir(parents=True, exist_ok=True)
            client = chromadb.PersistentClient(path=str(p), settings=_SETTINGS)
            client.list_collections()
        except StoreError:
            raise
        except Exception as exc:  # chromadb raises many types for a broken store
            raise StoreError(f"Cannot open the Chroma store at {p}: {exc}") from None
        return cls(client, str(p))

    @classmethod
    def connect(cls, spec: ServerSpec) -> ChromaBackend:
        """A Chroma server (`chroma run`, or hosted): same features as a folder, over HTTP."""
        where = spec.location
        try:
            # A fresh Settings each time: HttpClient writes host and port into the object
            # it is given, so a shared one would tie every later client to this server.
            client = chromadb.HttpClient(
                host=spec.host,
                port=spec.port,
                ssl=spec.ssl,
                headers=spec.headers(),
                tenant=spec.tenant,
                database=spec.database,
                settings=Settings(anonymized_telemetry=False),
            )
            client.heartbeat()
            client.list_collections(limit=1)
        except Exception as exc:
            raise StoreError(_server_error(where, spec, exc)) from None
        return cls(client, where)

    @property
    def is_local(self) -> bool:
        return not self.location.startswith("http")

    def collections(self) -> list[CollectionInfo]:
        """Memory collections with their counts; housekeeping collections left out."""
        infos = []
        for col in self._client.list_collections():
            if col.name in HOUSEKEEPING_COLLECTIONS:
                continue
            store = ChromaMemoryStore(self, col)
            infos.append(
                CollectionInfo(col.name, col.count(), store.profile, store.dimension, store.distance)
            )
        # Mem0 (with spaCy) keeps extracted entities in "<collection>_entities" beside its
        # memories: Mem0's bookkeeping, not memories.
        mem0 = {i.name for i in infos if i.profile == MEM0}
        infos = [
            i
            for i in infos
            if not (i.name.endswith(_MEM0_ENTITIES) and i.name[: -len(_MEM0_ENTITIES)] in mem0)
        ]
        return sorted(infos, key=lambda i: i.name)

    def open(self, name: str, create: bool = False) -> ChromaMemoryStore:
        try:
            col = self._client.get_collection(name, embedding_function=None)
        except Exception:
            if not create:
                raise StoreError(f"No collection named {name!r} in {self.location}.") from None
            try:
                col = self._client.create_collection(
                    name,
                    metadata={SCHEMA_KEY: SCHEMA_VERSION},
                    configuration={"hnsw": {"space": "cosine"}},
                    embedding_function=None,
                )
            except Exception as exc:
                raise StoreError(f"Cannot create collection {name!r}: {exc}") from None
        return ChromaMemoryStore(self, col)


class ChromaMemoryStore:
    """One Chroma collection, read and written through its detected profile."""

    def __init__(self, backend: ChromaBackend, collection: chromadb.Collection) -> None:
        self._backend = backend
        self._col = collection
        sample = collection.get(limit=_SAMPLE, include=["documents", "metadatas"])
        config = collection.configuration_json or {}
        ef = config.get("embedding_function")
        has_ef = bool(ef) and ef.get("type") != "legacy"
        self._profile: StoreProfile = detect_profile(
            collection.name, collection.metadata, sample["documents"] or [], sample["metadatas"] or [], has_ef
        )
        self.distance = (config.get("hnsw") or {}).get("space", "l2")
        self._dimension: int | None = None

    @property
    def location(self) -> str:
        return self._backend.location

    @property
    def collection(self) -> str:
        return self._col.name

    @property
    def profile(self) -> str:
        return self._profile.name

    @property
    def profile_label(self) -> str:
        return self._profile.label

    @property
    def soft_delete_in_place(self) -> bool:
        return self._profile.soft_delete_in_place

    @property
    def dimension(self) -> int | None:
        if self._dimension is None:
            got = self._col.get(limit=1, include=["embeddings"])
            emb = got.get("embeddings")
            if emb is not None and len(emb):
                self._dimension = len(emb[0])
        return self._dimension

    def count(self) -> int:
        return self._col.count()

    def _records(self, got: dict) -> list[MemoryRecord]:
        docs = got.get("documents") or [None] * len(got["ids"])
        metas = got.get("metadatas") or [None] * len(got["ids"])
        return [self._profile.to_record(i, d, m) for i, d, m in zip(got["ids"], docs, metas, strict=True)]

    def scan(self, batch_size: int = 2000, start: int = 0) -> Iterator[list[MemoryRecord]]:
        offset = start
        while True:
            got = self._col.get(limit=batch_size, offset=offset, include=["documents", "metadatas"])
            if not got["ids"]:
                return
            yield self._records(got)
            offset += len(got["ids"])

    def raw_rows(self, batch_size: int = 5000) -> Iterator[list[tuple[str, str | None, dict]]]:
        """(id, document, metadata) as the owner wrote them, in pages, without vectors:
        what the change watcher compares between polls."""
        offset = 0
        while True:
            got = self._col.get(limit=batch_size, offset=offset, include=["documents", "metadatas"])
            ids = got["ids"]
            if not ids:
                return
            docs = got.get("documents") or [None] * len(ids)
            metas = got.get("metadatas") or [None] * len(ids)
            yield [(i, d, m or {}) for i, d, m in zip(ids, docs, metas, strict=True)]
            if len(ids) < batch_size:
                return
            offset += len(ids)

    def raw_ids(self, batch_size: int = 50000) -> Iterator[list[str]]:
        """Every id, in pages: the cheapest look at what was added or deleted."""
        offset = 0
        while True:
            ids = self._col.get(limit=batch_size, offset=offset, include=[])["ids"]
            if ids:
                yield ids
            if len(ids) < batch_size:
                return
            offset += len(ids)

    def get(self, ids: Sequence[str], with_embeddings: bool = False) -> list[StoredMemory]:
        if not ids:
            return []
        include = ["documents", "metadatas"] + (["embeddings"] if with_embeddings else [])
        got = self._col.get(ids=list(ids), include=include)
        records = self._records(got)
        embs = got.get("embeddings") if with_embeddings else None
        by_id = {
            r.id: StoredMemory(r, None if embs is None else np.asarray(embs[n], dtype=np.float32))
            for n, r in enumerate(records)
        }
        return [by_id[i] for i in ids if i in by_id]

    def query(self, embedding: np.ndarray, k: int, ids: Sequence[str] | None = None) -> list[VectorHit]:
        if k <= 0 or (ids is not None and not ids):
            return []
        got = self._col.query(
            query_embeddings=[np.asarray(embedding, dtype=np.float32)],
            n_results=k,
            ids=list(ids) if ids is not None else None,
            include=["distances"],
        )
        return [VectorHit(i, float(d)) for i, d in zip(got["ids"][0], got["distances"][0], strict=True)]

    def query_many(self, embeddings: np.ndarray, k: int) -> list[list[VectorHit]]:
        """Nearest neighbours of many vectors in one call to the index."""
        if k <= 0 or not len(embeddings):
            return []
        got = self._col.query(
            query_embeddings=np.asarray(embeddings, dtype=np.float32), n_results=k, include=["distances"]
        )
        return [
            [VectorHit(i, float(d)) for i, d in zip(ids, dists, strict=True)]
            for ids, dists in zip(got["ids"], got["distances"], strict=True)
        ]

    def embeddings(self, ids: Sequence[str]) -> np.ndarray:
        """Vectors for `ids`, in that order (rows of zeros for ids the store lacks)."""
        if not ids:
            return np.zeros((0, self.dimension or 0), dtype=np.float32)
        got = self._col.get(ids=list(ids), include=["embeddings"])
        by_id = dict(zip(got["ids"], got["embeddings"], strict=True))
        dim = self.dimension or 0
        return np.stack(
            [np.asarray(by_id[i], dtype=np.float32) if i in by_id else np.zeros(dim, np.float32) for i in ids]
        )

    def upsert(self, items: Sequence[StoredMemory]) -> None:
        """Write whole records: keys a record no longer has are removed, not merged."""
        if not items:
            return
        ids = [it.record.id for it in items]
        old, old_keys = self._stored_now(ids)
        docs, metas = [], []
        for it in items:
            doc, meta = self._profile.to_chroma(it.record, old.get(it.record.id))
            docs.append(doc)
            metas.append(meta)
        embeddings = [np.asarray(it.embedding, dtype=np.float32) for it in items]
        self._col.upsert(
            ids=ids,
            embeddings=embeddings,
            metadatas=metas,
            documents=None if self._profile.text_key else docs,
        )
        self._drop_keys(ids, metas, old_keys)

    def update_metadata(self, records: Sequence[MemoryRecord]) -> None:
        """Write record fields that do not change the text (status, tags, owner...)."""
        if not records:
            return
        ids = [r.id for r in records]
        old, old_keys = self._stored_now(ids)
        metas = [self._profile.to_chroma(r, old.get(r.id))[1] for r in records]
        self._col.update(ids=ids, metadatas=metas)
        self._drop_keys(ids, metas, old_keys)

    def _stored_now(self, ids: list[str]) -> tuple[dict[str, MemoryRecord], dict[str, set[str]]]:
        """The records `ids` hold now and their raw metadata keys, from one read: every
        call into Chroma holds the interpreter lock (and so the window) for its length."""
        got = self._col.get(ids=ids, include=["documents", "metadatas"])
        records = {r.id: r for r in self._records(got)}
        return records, {i: set(m or {}) for i, m in zip(got["ids"], got["metadatas"], strict=True)}

    def _drop_keys(self, ids: list[str], metas: list[dict], old_keys: dict[str, set[str]]) -> None:
        # Chroma merges metadata on upsert/update; a key set to None is removed.
        drops = [
            (i, {k: None for k in old_keys.get(i, set()) - set(m)}) for i, m in zip(ids, metas, strict=True)
        ]
        drops = [(i, d) for i, d in drops if d]
        if drops:
            self._col.update(ids=[i for i, _ in drops], metadatas=[d for _, d in drops])

    def delete(self, ids: Sequence[str]) -> None:
        if ids:
            self._col.delete(ids=list(ids))
