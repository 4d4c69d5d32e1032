"""One chat turn: retrieve, answer, remember.

1. The user's message is searched among the user's memories in the open collection,
   by similarity or by the Ranking setting's blend with recency, importance and keyword
   overlap (recorded as a trace of this session, each signal's part of each score kept).
2. The model answers with the retrieved memories in its system prompt (streamed when
   the setting says so, so the Sessions panel shows it as it is written).
3. A second call asks the model what to remember: add, update or delete memories, or
   nothing; the decisions are written to the store with the session as actor.

Because step 1 reads the collection as it is now, a memory the user corrected in the
window between two turns reaches the model corrected.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

from memlens.plugin_api import (
    ASSISTANT,
    USER,
    Blend,
    Filter,
    MemoryRecord,
    PluginSettings,
    SessionHandle,
    StoreError,
    StoreUnavailable,
)
from memlens_chat_agent.decisions import ADD, DELETE, UPDATE, Decision, DecisionError, parse_decisions

HISTORY = 12  # earlier messages of the session sent with each question
DEFAULT_MODEL = "gpt-4o-mini"
OPENAI_URL = "https://api.openai.com/v1"
TOOL_NAME = "record_memory_decisions"

ANSWER_PROMPT = """You are a helpful assistant with a long-term memory about the user.
{memories}
Use these memories when they help. If the user now says something that contradicts a memory, \
trust the user. Answer briefly."""

EXTRACT_PROMPT = """You keep the long-term memory of an assistant about its user.
Given the memories shown (numbered) and the latest exchange, decide what to remember:
- "add": a new durable fact about the user (preferences, plans, people, places); give "text".
- "update": the exchange corrects or refines a shown memory; give its "id" and the full new "text".
- "delete": the exchange shows a shown memory is false and nothing replaces it; give its "id".
- "none": nothing worth remembering.
Write each memory as one short third-person sentence ("The user ..."). Use only ids shown.
Answer with JSON only: {"decisions": [{"op": "add|update|delete|none", "id": "<id>", "text": "<text>"}]}"""

DECISIONS_SCHEMA = {
    "type": "object",
    "properties": {
        "decisions": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "op": {"type": "string", "enum": ["add", "update", "delete", "none"]},
                    "id": {"type": "string"},
                    "text": {"type": "string"},
                },
                "required": ["op"],
            },
        }
    },
    "required": ["decisions"],
}


@dataclass(frozen=True)
class ChatConfig:
    base_url: str | None
    model: str
    api_key: str | None
    k: int
    ranking: str  # a Blend spec; empty: similarity only
    stream: bool
    extraction: str  # "json" (JSON mode) or "tools" (a forced tool call)
    user_id: str
    timeout: float

    @classmethod
    def from_settings(cls, s: PluginSettings) -> ChatConfig:
        env = os.environ
        return cls(
            base_url=s.get("base_url") or env.get("OPENAI_BASE_URL") or None,
            model=s.get("model") or env.get("MEMLENS_LLM_MODEL") or DEFAULT_MODEL,
            api_key=s.get("api_key") or env.get("OPENAI_API_KEY") or None,
            k=max(1, int(s.get("k") or 5)),
            ranking=str(s.get("ranking") or "").strip(),
            stream=bool(s.get("stream")),
            extraction=str(s.get("extraction") or "json"),
            user_id=str(s.get("user_id") or "user"),
            timeout=float(s.get("timeout") or 60.0),
        )

    @property
    def where(self) -> str:
        return self.base_url or OPENAI_URL

    def client(self):
        from openai import OpenAI

        # Local servers often need no key; the client insists on one, so give it a placeholder.
        return OpenAI(
            base_url=self.base_url, api_key=self.api_key or "not-needed", timeout=self.timeout, max_retries=0
        )


class TurnFailed(Exception):
    """A step of the turn failed; the message is for the transcript."""


def _listing(numbered: dict[str, MemoryRecord]) -> str:
    return "\n".join(f"[{n}] {r.text}" for n, r in numbered.items())


def _describe(exc: Exception) -> str:
    status = getattr(exc, "status_code", None)
    text = str(exc).strip() or type(exc).__name__
    return f"HTTP {status}: {text}" if status else text


class ChatAgent:
    name = "Chat agent"
    description = "Answers with the memories it retrieves, then remembers what it learned."

    def __init__(self, settings: PluginSettings, log: logging.Logger | None = None) -> None:
        self.settings = settings
        self.log = log or logging.getLogger(__name__)

    def respond(self, session: SessionHandle, text: str) -> None:
        config = ChatConfig.from_settings(self.settings)
        if not config.base_url and not config.api_key:
            session.error(
                "No model endpoint is set: give the chat agent a base URL (and a key if it needs one) in "
                "Plugins…, or set OPENAI_BASE_URL / OPENAI_API_KEY."
            )
            return
        try:
            blend = Blend.parse(config.ranking) if config.ranking else None
        except ValueError as exc:
            session.error(f"The Ranking setting cannot be read ({exc}); fix it in Plugins….")
            return
        try:
            mine = Filter(users=frozenset({config.user_id}))
            hits = session.search(text, k=config.k, flt=mine, blend=blend)
        except StoreUnavailable as exc:
            session.error(str(exc))
            return
        numbered = {str(n): h.record for n, h in enumerate(hits, 1)}
        client = config.client()
        try:
            answer = self._answer(client, config, session, text, numbered)
            raw = self._ask_decisions(client, config, text, answer, numbered)
        except TurnFailed as exc:
            session.error(str(exc))
            return
        try:
            decisions, skipped = parse_decisions(raw, set(numbered))
        except DecisionError as exc:
            session.error(f"The model's memory decisions could not be read ({exc}); nothing was written.")
            return
        for reason in skipped:
            session.notice(f"Skipped: {reason}.")
        written = self._apply(session, config, decisions, numbered, answer)
        if not written and not skipped:
            session.notice("Nothing new to remember from this turn.")

    # -- the model ---------------------------------------------------------------------------
    def _answer(
        self, client, config: ChatConfig, session: SessionHandle, text: str, numbered: dict[str, MemoryRecord]
    ) -> str:
        from openai import OpenAIError

        memories = (
            "What you remember (most relevant first):\n" + _listing(numbered)
            if numbered
            else "You remember nothing relevant to this message yet."
        )
        history = [
            {"role": m.role, "content": m.text} for m in session.messages[:-1] if m.role in (USER, ASSISTANT)
        ][-HISTORY:]
        messages = [
            {"role": "system", "content": ANSWER_PROMPT.format(memories=memories)},
            *history,
            {"role": "user", "content": text},
        ]
        try:
            if config.stream:
                with session.stream(ASSISTANT) as out:
                    for chunk in client.chat.completions.create(
                        model=config.model, messages=messages, stream=True
                    ):
                        if chunk.choices and chunk.choices[0].delta.content:
                            out.write(chunk.choices[0].delta.content)
                answer = out.text
            else:
                reply = client.chat.completions.create(model=config.model, messages=messages)
                answer = (reply.choices[0].message.content or "") if reply.choices else ""
                if answer:
                    session.say(ASSISTANT, answer)
        except OpenAIError as exc:
            raise TurnFailed(
                f"Could not get an answer from {config.where}: {_describe(exc)}. Nothing was remembered."
            ) from None
        if not answer.strip():
            raise TurnFailed(f"The model at {config.where} returned an empty answer. Nothing was remembered.")
        return answer

    def _ask_decisions(
        self, client, config: ChatConfig, text: str, answer: str, numbered: dict[str, MemoryRecord]
    ) -> str | None:
        from openai import OpenAIError

        shown = _listing(numbered) if numbered else "(none)"
        messages = [
            {"role": "system", "content": EXTRACT_PROMPT},
            {"role": "user", "content": f"Memories shown:\n{shown}\n\nUser: {text}\nAssistant: {answer}"},
        ]
        extra: dict[str, Any]
        if config.extraction == "tools":
            extra = {
                "tools": [
                    {
                        "type": "function",
                        "function": {
                            "name": TOOL_NAME,
                            "description": "Record what to remember from the exchange.",
                            "parameters": DECISIONS_SCHEMA,
                        },
                    }
                ],
                "tool_choice": {"type": "function", "function": {"name": TOOL_NAME}},
            }
        else:
            extra = {"response_format": {"type": "json_object"}}
        try:
            reply = client.chat.completions.create(
                model=config.model, messages=messages, temperature=0, **extra
            )
        except OpenAIError as exc:
            raise TurnFailed(
                f"The answer arrived, but asking {config.where} what to remember failed: {_describe(exc)}. "
                "Nothing was written."
            ) from None
        if not reply.choices:
            return None
        message = reply.choices[0].message
        calls = message.tool_calls or []
        if calls and getattr(calls[0], "function", None) is not None:
            return calls[0].function.arguments
        return message.content

    # -- the store -----------------------------------------------------------------------------
    def _apply(
        self,
        session: SessionHandle,
        config: ChatConfig,
        decisions: list[Decision],
        numbered: dict[str, MemoryRecord],
        answer: str,
    ) -> int:
        """Write the decisions; returns how many changed the store."""
        messages = session.messages
        asked = next((m for m in reversed(messages) if m.role == USER), None)
        answered = next((m for m in reversed(messages) if m.role == ASSISTANT), None)
        turns = [
            {"role": m.role, "text": m.text, "message_id": m.message_id}
            for m in (asked, answered)
            if m is not None
        ]
        source = {"type": "agent-session", "agent": self.name, "session_id": session.id, "turns": turns}
        written = 0
        for d in decisions:
            target = numbered.get(d.ref) if d.ref else None
            try:
                if d.op == ADD:
                    session.add(d.text or "", user_id=config.user_id, agent_id="chat-agent", source=source)
                elif d.op == UPDATE and target is not None:
                    if d.text == target.text:
                        continue
                    session.update(target.id, text=d.text, reason="corrected in conversation")
                elif d.op == DELETE and target is not None:
                    session.delete([target.id], reason="contradicted in conversation")
                else:
                    continue
            except (KeyError, ValueError, StoreError, StoreUnavailable) as exc:
                session.error(f"Could not {d.op} a memory: {exc}")
                continue
            written += 1
        return written
