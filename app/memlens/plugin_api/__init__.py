"""The MemLens plugin API: the one module a plugin imports (typed, Qt-free, versioned).

A plugin is a class registered under the entry-point group `memlens.plugins`; MemLens
calls its `activate(context)` with a `PluginContext`: the open store (journaled writes,
traced searches), an event publisher, a logger and the plugin's settings. Agents report
what their sessions do through a `SessionHandle`: messages, retrievals, memory writes.
See docs/WRITING_PLUGINS.md.
"""

from memlens.core.bulk import BulkChange
from memlens.core.conflicts import Conflict
from memlens.core.duplicates import Cluster, KeepOneRefused
from memlens.core.merge import MergeRefused
from memlens.core.query import Filter, SearchHit
from memlens.core.ranking import Blend
from memlens.core.record import MemoryRecord, Status
from memlens.core.store import StoreError
from memlens.plugin_api.context import PluginContext, PluginServices
from memlens.plugin_api.events import (
    ASSISTANT,
    ERROR,
    EVENT_SCHEMA_VERSION,
    EVENT_TYPES,
    MEMORY_EVENTS,
    NOTICE,
    SYSTEM,
    TOOL,
    USER,
    Event,
    MemoryAdded,
    MemoryDeleted,
    MemoryUpdated,
    MessageDelta,
    MessageExchanged,
    RetrievalPerformed,
    RetrievedMemory,
    Session,
    SessionEnded,
    SessionStarted,
    SessionStatus,
    event_from_dict,
    new_session_id,
    session_actor,
)
from memlens.plugin_api.plugin import (
    API_VERSION,
    ENTRY_POINT_GROUP,
    ChatAgent,
    Plugin,
    Setting,
    api_compatible,
)
from memlens.plugin_api.session import EventPublisher, MessageStream, SessionHandle
from memlens.plugin_api.settings import PluginSettings
from memlens.plugin_api.store import MemoryStoreView, StoreUnavailable

__all__ = [
    "API_VERSION",
    "ASSISTANT",
    "ENTRY_POINT_GROUP",
    "ERROR",
    "EVENT_SCHEMA_VERSION",
    "EVENT_TYPES",
    "MEMORY_EVENTS",
    "NOTICE",
    "SYSTEM",
    "TOOL",
    "USER",
    "Blend",
    "BulkChange",
    "ChatAgent",
    "Cluster",
    "Conflict",
    "Event",
    "EventPublisher",
    "Filter",
    "KeepOneRefused",
    "MemoryAdded",
    "MemoryDeleted",
    "MemoryRecord",
    "MemoryStoreView",
    "MemoryUpdated",
    "MergeRefused",
    "MessageDelta",
    "MessageExchanged",
    "MessageStream",
    "Plugin",
    "PluginContext",
    "PluginServices",
    "PluginSettings",
    "RetrievalPerformed",
    "RetrievedMemory",
    "SearchHit",
    "Session",
    "SessionEnded",
    "SessionHandle",
    "SessionStarted",
    "SessionStatus",
    "Setting",
    "Status",
    "StoreError",
    "StoreUnavailable",
    "api_compatible",
    "event_from_dict",
    "new_session_id",
    "session_actor",
]
