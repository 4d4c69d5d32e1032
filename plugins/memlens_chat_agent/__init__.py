"""MemLens' reference chat agent: talks to any OpenAI-compatible endpoint with the open
collection as its long-term memory, and shows every retrieval and memory write live."""

from __future__ import annotations

from memlens.plugin_api import Plugin, PluginContext, Setting
from memlens_chat_agent.agent import DEFAULT_MODEL, ChatAgent

__version__ = "1.0"


class ChatAgentPlugin(Plugin):
    """A chat agent on any OpenAI-compatible endpoint (OpenAI, a local server): each turn
    retrieves memories from the open collection, answers, then adds, updates or deletes
    memories with the session as author."""

    settings_schema = (
        Setting("base_url", "Base URL", "", "e.g. http://localhost:8080/v1; empty: $OPENAI_BASE_URL"),
        Setting("model", "Model", DEFAULT_MODEL, "model name the endpoint knows"),
        Setting("api_key", "API key", "", "empty: $OPENAI_API_KEY (local servers need none)", secret=True),
        Setting("k", "Memories per turn", 5, "how many memories each turn retrieves"),
        Setting(
            "ranking",
            "Ranking",
            "",
            "empty: similarity only; else weights, e.g. recency=0.3,importance=0.2 (also keyword)",
        ),
        Setting("stream", "Stream answers", True, "show the answer as it is written"),
        Setting("extraction", "Decisions by", "json", "JSON mode or a tool call", choices=("json", "tools")),
        Setting("user_id", "User id", "user", "whose memories are read and written (their user_id)"),
        Setting("timeout", "Timeout (s)", 60.0, "per request to the endpoint"),
    )

    def activate(self, context: PluginContext) -> None:
        self.agent = ChatAgent(context.settings, context.log)
        context.register_agent(self.agent)
