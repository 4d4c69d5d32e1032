"""A model for plugin tests: the reference chat agent's two kinds of request, answered.

Served by `fake_openai.FakeOpenAI` (see the `model` fixture in tests/plugins/conftest.py).
"""

from __future__ import annotations

import json
import re

from fake_openai import ToolCall

EXTRACTING = "You keep the long-term memory"


class FakeModel:
    """Answers from the memories in its prompt; memory decisions come from a script that
    reads the numbered memories it was shown (as a real model would)."""

    def __init__(self) -> None:
        self.decide = lambda shown, exchange: {"decisions": [{"op": "none"}]}
        self.tools = False

    def __call__(self, messages: list[dict]):
        system = messages[0]["content"]
        if system.startswith(EXTRACTING):
            body = messages[1]["content"]
            shown = dict(re.findall(r"^\[(\d+)\] (.+)$", body, re.MULTILINE))
            decision = self.decide(shown, body)
            if self.tools:
                return ToolCall("record_memory_decisions", decision)
            return decision if isinstance(decision, str) else json.dumps(decision)
        remembered = re.findall(r"^\[\d+\] (.+)$", system, re.MULTILINE)
        return "From what I remember: " + ("; ".join(remembered) or "nothing yet") + "."


def number_of(shown: dict[str, str], words: str) -> str:
    return next(n for n, text in shown.items() if words in text)
