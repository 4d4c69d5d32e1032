"""An example plugin: flags memories that agents write with an e-mail address or a phone
number in them, so a person looks at them in the Review tab before they spread.

It shows the smallest useful plugin: declare a setting, subscribe to session events,
write through the store facade (journaled as "plugin:pii-guard", undoable).
"""

from __future__ import annotations

import re

from memlens.plugin_api import MemoryAdded, MemoryUpdated, Plugin, PluginContext, Setting

__version__ = "1.0"

PATTERNS = {
    "an e-mail address": re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    "a phone number": re.compile(r"(?<![\w.])\+?\d(?:[\s().-]?\d){7,14}(?![\w.])"),
}


def personal_data(text: str, extra: str = "") -> list[str]:
    """What kinds of personal data `text` holds ("an e-mail address", …)."""
    found = [name for name, pattern in PATTERNS.items() if pattern.search(text)]
    if extra and re.search(extra, text, re.IGNORECASE):
        found.append(f"a match for {extra!r}")
    return found


class PiiGuardPlugin(Plugin):
    """Flags new or changed memories holding an e-mail address or a phone number."""

    settings_schema = (
        Setting("extra_pattern", "Also flag (regular expression)", "", "e.g. \\bpassport\\b; empty: nothing"),
    )

    def activate(self, context: PluginContext) -> None:
        self.context = context
        extra = str(context.settings.get("extra_pattern") or "")
        re.compile(extra)  # a bad pattern fails activation with the regex error, shown to the user
        context.subscribe(self.on_event, kinds={MemoryAdded.KIND, MemoryUpdated.KIND})

    def on_event(self, event: MemoryAdded | MemoryUpdated) -> None:
        found = personal_data(event.text, str(self.context.settings.get("extra_pattern") or ""))
        if not found or self.context.store.get(event.memory_id) is None:
            return
        reason = "contains " + " and ".join(found)
        self.context.store.flag([event.memory_id], reason=reason)
        self.context.log.info("flagged %s: %s", event.memory_id, reason)
