"""What a plugin is: a class with `activate(context)`, the settings it declares, and the
chat agents it may offer. MemLens finds it through the entry-point group `memlens.plugins`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Protocol, runtime_checkable

if TYPE_CHECKING:
    from memlens.plugin_api.context import PluginContext
    from memlens.plugin_api.session import SessionHandle

#: The plugin API's version. A plugin built for "1.x" runs on any 1.y with y >= x.
#: 1.1 added the store's curation calls (merge, archive, verify, restore, supersede, correct,
#: keep_one, dismissals, bulk): additive, so plugins written for 1.0 run unchanged.
API_VERSION = "1.1"
ENTRY_POINT_GROUP = "memlens.plugins"

SettingValue = str | int | float | bool


@dataclass(frozen=True)
class Setting:
    """One setting a plugin declares; the Plugins dialog shows a field for it.

    A `secret` (an API key) is never written to MemLens' settings files: it lives in the
    system keyring when one is installed, else only for the running session.
    """

    key: str
    label: str
    default: SettingValue = ""
    help: str = ""
    secret: bool = False
    choices: tuple[str, ...] = ()


class Plugin:
    """Base class for plugins (subclassing is optional: MemLens only calls these methods).

    MemLens calls `activate` once, on a worker thread, with the plugin's context; keep it
    quick (register agents, subscribe to events) and do slow work later. `deactivate` is
    called when the user disables the plugin or MemLens closes.
    """

    #: The API version the plugin was written against.
    api_version: ClassVar[str] = API_VERSION
    #: Settings the Plugins dialog lets the user edit (read them from `context.settings`).
    settings_schema: ClassVar[Sequence[Setting]] = ()

    def activate(self, context: PluginContext) -> None:
        pass

    def deactivate(self) -> None:
        pass


@runtime_checkable
class ChatAgent(Protocol):
    """An agent the user can talk to in the Sessions panel.

    `respond` runs on a worker thread, one message at a time per session, and reports
    everything through the session handle: messages (streamed or whole), retrievals,
    memory writes. An exception it raises is shown in the transcript and as a notice.
    """

    name: str
    description: str

    def respond(self, session: SessionHandle, text: str) -> None: ...


def api_compatible(wanted: str, have: str = API_VERSION) -> bool:
    """True when a plugin written for API `wanted` runs on API `have` (same major, minor <=)."""
    try:
        want_major, want_minor = (int(p) for p in str(wanted).split(".")[:2])
        have_major, have_minor = (int(p) for p in have.split(".")[:2])
    except ValueError:
        return False
    return want_major == have_major and want_minor <= have_minor
