"""Store profiles: how each library lays a memory out in Chroma, mapped both ways.

A profile turns (id, document, metadata) into a `MemoryRecord` and back. Keys a profile
does not own land in `record.extra` and are written back untouched. Annotations the
owner's layout has no place for (a flag, tags) are written as `memlens_<field>` keys, only
when a user set them, so a store MemLens never annotated stays the owner's to the key.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from memlens.core.record import (
    MemoryRecord,
    Status,
    check_importance,
    check_version,
    content_hash,
    format_time,
    parse_time,
)

NATIVE = "native"
MEM0 = "mem0"
LANGCHAIN = "langchain"
LANGCHAIN_COMPATIBLE = "langchain-compatible"
GENERIC = "generic"

SCHEMA_KEY = "memlens_schema"
SCHEMA_VERSION = 1
PREFIX = "memlens_"
#: Lists the `extra` keys MemLens stored as JSON text, so reading gives their structure back.
JSON_KEYS = PREFIX + "json_keys"

#: Collections other libraries keep beside their memories; never shown as memory collections.
HOUSEKEEPING_COLLECTIONS = frozenset({"mem0migrations"})

_TIME_FIELDS = ("created_at", "updated_at", "valid_from", "valid_to")
# Bumped by MemLens on every change; where the owner has no key for them they are not
# written, or every edit would leak MemLens bookkeeping into the owner's metadata.
_AUTOMATIC = frozenset({"version", "created_at", "updated_at"})
_DEFAULTS: dict[str, Any] = {
    "kind": "semantic",
    "user_id": None,
    "agent_id": None,
    "session_id": None,
    "created_at": None,
    "updated_at": None,
    "source": {},
    "importance": None,
    "tags": (),
    "links": (),
    "status": Status.ACTIVE,
    "valid_from": None,
    "valid_to": None,
    "version": 1,
}


def _to_meta_value(name: str, value: Any) -> Any:
    if name in _TIME_FIELDS:
        return format_time(value)
    if name == "source":
        return json.dumps(value, ensure_ascii=False, sort_keys=True) if value else None
    if name in ("tags", "links"):
        return list(value) if value else None
    if name == "status":
        return str(value)
    return value


def _from_meta_value(name: str, value: Any) -> Any:
    if name in _TIME_FIELDS:
        return parse_time(value)
    if name == "source":
        if isinstance(value, str):
            try:
                loaded = json.loads(value)
            except ValueError:
                return {"text": value}
            return loaded if isinstance(loaded, dict) else {"value": loaded}
        return value if isinstance(value, dict) else {}
    if name in ("tags", "links"):
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                value = [v.strip() for v in value.split(",") if v.strip()]
        return tuple(str(v) for v in value) if isinstance(value, list | tuple) else ()
    if name == "status":
        try:
            return Status(value)
        except ValueError:
            return Status.ACTIVE
    # A store is shown whatever it holds: a value the record cannot take is left out
    # (importance) or read as the default (version) rather than refused.
    if name == "importance":
        try:
            return check_importance(float(value))
        except (TypeError, ValueError):
            return None
    if name == "version":
        try:
            return check_version(int(value))
        except (TypeError, ValueError):
            return 1
    return None if value is None else str(value)


def _chroma_can_hold(value: Any) -> bool:
    # Chroma keeps scalars and flat lists of one type only (it refuses [1, "a"], [] and None).
    if isinstance(value, str | int | float | bool):
        return True
    return (
        isinstance(value, list)
        and bool(value)
        and len({type(v) for v in value}) == 1
        and isinstance(value[0], str | int | float | bool)
    )


def encode_extra(extra: Mapping[str, Any]) -> dict[str, Any]:
    """`extra` as Chroma metadata. A value Chroma cannot hold is stored as JSON text and its
    key listed under JSON_KEYS, so `decode_extra` gives the structure back; a string that
    merely looks like JSON is not listed and stays a string."""
    meta: dict[str, Any] = {}
    encoded = []
    for key, value in extra.items():
        if _chroma_can_hold(value):
            meta[key] = value
        else:
            meta[key] = json.dumps(value, ensure_ascii=False, sort_keys=True)
            encoded.append(key)
    if encoded:
        meta[JSON_KEYS] = sorted(encoded)
    return meta


def decode_extra(meta: dict[str, Any]) -> dict[str, Any]:
    """Inverse of `encode_extra`, in place: the listed keys parsed, the list removed."""
    listed = meta.pop(JSON_KEYS, None)
    for key in listed if isinstance(listed, list) else ():
        # A value its owner rewrote since, no longer JSON, is kept as their text.
        if isinstance(meta.get(key), str):
            with contextlib.suppress(ValueError):
                meta[key] = json.loads(meta[key])
    return meta


@dataclass(frozen=True)
class StoreProfile:
    """`field_keys` maps a record field to the metadata key the owner uses for it."""

    name: str
    label: str
    field_keys: Mapping[str, str]
    text_key: str | None = None  # None: text lives in Chroma's documents
    writes_hash: str | None = None  # metadata key holding md5(text), kept consistent
    timestamps_on_write: bool = False  # owner stamps created_at/updated_at itself
    soft_delete_in_place: bool = False
    derived_text_keys: tuple[str, ...] = field(default=())  # follow the text when it changes

    def _key(self, name: str) -> str:
        return self.field_keys.get(name, PREFIX + name)

    def to_record(self, id: str, document: str | None, metadata: Mapping[str, Any] | None) -> MemoryRecord:
        meta = decode_extra(dict(metadata or {}))
        meta.pop(SCHEMA_KEY, None)
        text = meta.pop(self.text_key, None) if self.text_key else document
        if text is None:
            text = document if document is not None else ""
        if self.writes_hash:
            meta.pop(self.writes_hash, None)
        values: dict[str, Any] = {}
        for name in _DEFAULTS:
            key = self._key(name)
            if key in meta:
                parsed = _from_meta_value(name, meta.pop(key))
                if parsed is not None:
                    values[name] = parsed
        return MemoryRecord(id=id, text=str(text), extra=meta, **values)

    def to_chroma(
        self, record: MemoryRecord, previous: MemoryRecord | None = None
    ) -> tuple[str | None, dict[str, Any]]:
        """The (document, metadata) the owner expects for `record`."""
        meta = encode_extra(record.extra)
        if previous is not None and previous.text != record.text:
            for key in self.derived_text_keys:
                if key in meta:
                    meta[key] = record.text
        for name, default in _DEFAULTS.items():
            value = getattr(record, name)
            owned = name in self.field_keys
            if not owned and (value == default or name in _AUTOMATIC):
                continue
            meta_value = _to_meta_value(name, value)
            if meta_value is not None:
                meta[self._key(name)] = meta_value
        if self.text_key:
            meta[self.text_key] = record.text
        if self.writes_hash:
            meta[self.writes_hash] = content_hash(record.text)
        if self.name == NATIVE:
            meta[SCHEMA_KEY] = SCHEMA_VERSION
        meta = {k: v for k, v in meta.items() if v is not None}
        return (None if self.text_key else record.text), meta


PROFILES: dict[str, StoreProfile] = {
    NATIVE: StoreProfile(
        name=NATIVE,
        label="MemLens",
        field_keys={name: name for name in _DEFAULTS},
        soft_delete_in_place=True,
    ),
    MEM0: StoreProfile(
        name=MEM0,
        label="Mem0",
        field_keys={
            "user_id": "user_id",
            "agent_id": "agent_id",
            "session_id": "run_id",
            "created_at": "created_at",
            "updated_at": "updated_at",
        },
        text_key="data",
        writes_hash="hash",
        timestamps_on_write=True,
        derived_text_keys=("text_lemmatized",),
    ),
    LANGCHAIN: StoreProfile(name=LANGCHAIN, label="LangChain", field_keys={}),
    # LangChain's layout, without LangChain's name: written the same way.
    LANGCHAIN_COMPATIBLE: StoreProfile(
        name=LANGCHAIN_COMPATIBLE, label="Chroma (LangChain-compatible)", field_keys={}
    ),
    GENERIC: StoreProfile(
        name=GENERIC,
        label="Chroma",
        field_keys={
            "user_id": "user_id",
            "agent_id": "agent_id",
            "session_id": "session_id",
            "created_at": "created_at",
            "updated_at": "updated_at",
        },
    ),
}


def detect_profile(
    collection_name: str,
    collection_metadata: Mapping[str, Any] | None,
    sample_documents: list[str | None],
    sample_metadatas: list[Mapping[str, Any] | None],
    has_embedding_function: bool,
) -> StoreProfile:
    """Recognise who wrote a collection from its name, its metadata and a few records."""
    if (collection_metadata or {}).get(SCHEMA_KEY) or any(SCHEMA_KEY in (m or {}) for m in sample_metadatas):
        return PROFILES[NATIVE]
    metas = [m or {} for m in sample_metadatas]
    if metas and all("data" in m and "hash" in m for m in metas):
        return PROFILES[MEM0]
    if not metas and collection_name == "mem0":
        return PROFILES[MEM0]
    if collection_name.startswith("langchain"):
        return PROFILES[LANGCHAIN]
    if not has_embedding_function and _langchain_layout(sample_documents, metas):
        return PROFILES[LANGCHAIN_COMPATIBLE]
    return PROFILES[GENERIC]


def _langchain_layout(documents: list[str | None], metadatas: list[Mapping[str, Any]]) -> bool:
    """langchain-chroma stores no embedding function, the text in documents and the
    caller's metadata only (no timestamps). A chromadb collection made with
    embedding_function=None and documents is laid out exactly so: only LangChain's default
    collection name tells them apart, so without it the store is called compatible."""
    has_text = not documents or any(d is not None for d in documents)
    stamped = any(key in m for m in metadatas for key in ("created_at", "updated_at"))
    return has_text and not stamped


def profile_label(name: str) -> str:
    """How a profile is named to people ("Chroma (LangChain-compatible)", not its key)."""
    return PROFILES.get(name, PROFILES[NATIVE]).label
