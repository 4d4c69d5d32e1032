"""Running plugins: discovery through entry points (disabled plugins are never imported),
enable/disable remembered, every call isolated under a deadline, session events carried
from any thread to the window and to subscribed plugins."""

from memlens.plugin_host.discovery import PluginEntry, discover
from memlens.plugin_host.host import (
    ACTIVE,
    DISABLED,
    FAILED,
    HUNG,
    LOADING,
    NOT_LOADED,
    AgentInfo,
    Notice,
    PluginError,
    PluginHost,
    PluginInfo,
    SessionBusy,
    SessionError,
)
from memlens.plugin_host.runner import PluginTimeout
from memlens.plugin_host.sessions import Partial, SessionRegistry

__all__ = [
    "ACTIVE",
    "DISABLED",
    "FAILED",
    "HUNG",
    "LOADING",
    "NOT_LOADED",
    "AgentInfo",
    "Notice",
    "Partial",
    "PluginEntry",
    "PluginError",
    "PluginHost",
    "PluginInfo",
    "PluginTimeout",
    "SessionBusy",
    "SessionError",
    "SessionRegistry",
    "discover",
]
