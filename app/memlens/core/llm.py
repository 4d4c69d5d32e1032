"""Optional language-model help (merge suggestions, conflict and support judges).

Talks to any OpenAI-compatible endpoint through the openai client. Configuration comes
from the environment: MEMLENS_LLM_BASE_URL (or OPENAI_BASE_URL), MEMLENS_LLM_MODEL, and
the key from MEMLENS_LLM_API_KEY / OPENAI_API_KEY or the system keyring (service
"memlens", user "llm"), never from a file MemLens writes. Everything works without it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

DEFAULT_MODEL = "gpt-4o-mini"
KEYRING_SERVICE, KEYRING_USER = "memlens", "llm"


class LLMError(Exception):
    """The model could not be asked or answered nonsense; the message says which."""


def _keyring_key() -> str | None:
    try:
        import keyring  # optional: not every desktop has a keyring backend
    except ImportError:
        return None
    try:
        return keyring.get_password(KEYRING_SERVICE, KEYRING_USER)
    except Exception:  # a locked or absent backend just means "no key stored"
        return None


@dataclass(frozen=True)
class LLMConfig:
    base_url: str | None = None
    model: str = DEFAULT_MODEL
    api_key: str | None = None
    timeout: float = 30.0

    @classmethod
    def from_env(cls) -> LLMConfig:
        env = os.environ
        key = env.get("MEMLENS_LLM_API_KEY") or env.get("OPENAI_API_KEY") or _keyring_key()
        return cls(
            base_url=env.get("MEMLENS_LLM_BASE_URL") or env.get("OPENAI_BASE_URL"),
            model=env.get("MEMLENS_LLM_MODEL") or DEFAULT_MODEL,
            api_key=key,
        )

    @property
    def configured(self) -> bool:
        return bool(self.api_key or self.base_url)


class LLM:
    def __init__(self, config: LLMConfig) -> None:
        from openai import OpenAI

        self.config = config
        # Local servers often need no key; the client insists on one, so give it a placeholder.
        self._client = OpenAI(
            base_url=config.base_url,
            api_key=config.api_key or "not-needed",
            timeout=config.timeout,
            max_retries=1,
        )

    def _ask(self, system: str, user: str, json_reply: bool) -> str:
        from openai import OpenAIError

        try:
            reply = self._client.chat.completions.create(
                model=self.config.model,
                messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
                temperature=0,
                **({"response_format": {"type": "json_object"}} if json_reply else {}),
            )
        except OpenAIError as exc:
            where = self.config.base_url or "the OpenAI API"
            raise LLMError(f"The language model at {where} could not be asked: {exc}") from None
        content = reply.choices[0].message.content if reply.choices else None
        if not content:
            raise LLMError("The language model returned an empty answer.")
        return content

    def _ask_json(self, system: str, user: str) -> dict:
        text = self._ask(system, user, json_reply=True)
        try:
            data = json.loads(text)
        except ValueError:
            raise LLMError(f"The language model did not answer in JSON: {text[:200]!r}") from None
        if not isinstance(data, dict):
            raise LLMError("The language model's JSON answer is not an object.")
        return data

    def suggest_merge(self, texts: list[str]) -> str:
        listing = "\n".join(f"- {t}" for t in texts)
        return self._ask(
            "You merge near-duplicate memories of an AI assistant into one memory. Keep every fact that "
            "appears in any of them, drop repetition, and answer with the merged memory text only.",
            f"Memories:\n{listing}",
            json_reply=False,
        ).strip()

    def judge_conflict(self, a: str, b: str) -> tuple[bool, str]:
        data = self._ask_json(
            'Do these two memories contradict each other? Answer JSON {"contradiction": true|false, '
            '"reason": "..."}.',
            f"A: {a}\nB: {b}",
        )
        return bool(data.get("contradiction")), str(data.get("reason", ""))

    def judge_support(self, memory: str, turns: list[str]) -> tuple[bool, str]:
        source = "\n".join(f"- {t}" for t in turns)
        data = self._ask_json(
            'Is the memory fully supported by the conversation turns? Answer JSON {"supported": true|false, '
            '"reason": "..."}.',
            f"Memory: {memory}\nTurns:\n{source}",
        )
        return bool(data.get("supported")), str(data.get("reason", ""))
